"""The API's failure modes and how each becomes an HTTP answer with a message, never a trace.

404 unknown customer and 422 malformed input are raised where they happen (HTTPException and
pydantic); the serving problems below are the ones a client can wait out (503) or an operator
must fix (409). Anything else is a bug: logged with its traceback, answered with a plain 500.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

log = logging.getLogger("api.errors")


class NotReady(RuntimeError):
    """No model or feature store is loaded (yet): the pipeline has not run or is broken."""


class StoreUnavailable(RuntimeError):
    """The online store did not answer (Redis down, SQLite file gone or locked)."""


class ReloadRefused(RuntimeError):
    """The new artifact cannot be served; the previous model keeps serving."""


async def _not_ready(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": f"not ready: {exc}"}, status_code=503, headers={"Retry-After": "5"}
    )


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": f"online feature store unreachable, try again shortly: {exc}"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def _reload_refused(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": f"reload refused, the previous model keeps serving: {exc}"}, status_code=409
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "internal error; the server log has the details"}, 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NotReady, _not_ready)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
    app.add_exception_handler(ReloadRefused, _reload_refused)
    app.add_exception_handler(Exception, _unexpected)
