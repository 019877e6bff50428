"""`uvicorn api.main:app`: wires settings, serving state, middleware and routers. Nothing else.

`create_app(settings)` builds an app for any settings (tests use temporary models and stores);
`app` is the one uvicorn serves, configured from API_* variables. Invalid settings raise here,
at import, so a misconfigured server never starts.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import xstatic.pkg.bootstrap as bootstrap
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from api.errors import install_error_handlers
from api.middleware import (
    BodySizeLimitMiddleware,
    RequestLogMiddleware,
    SecurityHeadersMiddleware,
    configure_logging,
)
from api.routes import (
    admin,
    audiences,
    docs,
    health,
    insights,
    model,
    monitoring,
    predictions,
    serve_log_status,
    web,
)
from api.serve_log import ServeLog
from api.serving import ServingState
from api.settings import Settings
from api.validation import invalid_request

STATIC_DIR = Path(__file__).resolve().parent / "static"

DESCRIPTION = """Probability that a customer buys again within 30 days, from the customer's
latest features in the Feast online store, with a tier, a suggested action and the features
that pushed the score up or down. The web form is at `/`."""


def freeze_startup_objects() -> None:
    """Hide everything loaded at start-up from the garbage collector, for good.

    The Feast registry, the model and the libraries live as long as the process, yet every
    full (generation 2) collection walked all of them: 145–156 ms pauses (timed with a
    gc.callbacks hook under bench.serving without caches), the API's p99.9 then. Frozen, a
    full collection takes 2–4 ms. Collecting first means no garbage is frozen with them.
    """
    gc.collect()
    gc.freeze()


def serve_log_for(settings: Settings) -> ServeLog | None:
    if not settings.serve_log_enabled:
        return None
    return ServeLog(
        settings.serve_log_dir,
        queue_rows=settings.serve_log_queue_rows,
        flush_seconds=settings.serve_log_flush_seconds,
        flush_rows=settings.serve_log_flush_rows,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    state = ServingState(settings)
    serve_log = serve_log_for(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging()
        if serve_log is not None:
            serve_log.start()  # in the worker process: its own writer, its own files
        state.start()  # model + store; failures make /health say not ready, not a crash
        freeze_startup_objects()
        try:
            yield
        finally:
            if serve_log is not None:  # requests in flight are answered by now: keep them all
                await run_in_threadpool(serve_log.stop)
            gc.unfreeze()  # at shutdown they may be collected again, and freed before exit

    app = FastAPI(
        title="Customer Repeat Purchase Predictor",
        description=DESCRIPTION,
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,  # served from local files by api.routes.docs
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    app.state.serving = state
    app.state.serve_log = serve_log
    install_error_handlers(app)
    app.add_exception_handler(RequestValidationError, invalid_request)  # echoes any input
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLogMiddleware)  # outside the limit: logs 413s too
    app.add_middleware(SecurityHeadersMiddleware)  # added last = outermost: on every answer
    for router in (
        predictions.router,
        predictions.customers,
        model.router,
        insights.router,
        audiences.router,
        monitoring.router,
        health.router,
        serve_log_status.router,
        admin.router,
        web.router,
        docs.router,
    ):
        app.include_router(router)
    app.mount("/static/bootstrap", StaticFiles(directory=bootstrap.BASE_DIR), name="bootstrap")
    app.mount(docs.ASSETS_URL, StaticFiles(directory=docs.ASSETS_DIR), name="docs-assets")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


app = create_app()
