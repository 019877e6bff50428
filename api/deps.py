"""Shared dependencies as Annotated aliases: the settings, the serving snapshot, the serve
log, admin auth."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from api.serve_log import ServeLog
from api.serving import ServingState
from api.settings import Settings
from api.snapshot import Serving


# async: FastAPI runs a plain `def` dependency in the thread pool, a hop per request
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_state(request: Request) -> ServingState:
    return request.app.state.serving


async def get_serving(request: Request) -> Serving:
    """The model + store snapshot for this request (503 while none is loaded)."""
    state: ServingState = request.app.state.serving
    serving = state.loaded
    if serving is not None:
        return serving
    return await run_in_threadpool(state.current)  # may retry loading: off the event loop


async def get_serve_log(request: Request) -> ServeLog | None:
    """Where answered predictions are queued for the log; None when API_SERVE_LOG_ENABLED
    is false."""
    return request.app.state.serve_log


def require_admin(
    settings: Annotated[Settings, Depends(get_settings)],
    x_admin_token: Annotated[str | None, Header()] = None,
) -> None:
    if settings.admin_token is None:
        raise HTTPException(403, "admin endpoints are disabled: set API_ADMIN_TOKEN to enable")
    if x_admin_token is None:
        raise HTTPException(401, "missing X-Admin-Token header")
    expected = settings.admin_token.get_secret_value()
    if not secrets.compare_digest(x_admin_token.encode(), expected.encode()):
        raise HTTPException(403, "wrong X-Admin-Token")


SettingsDep = Annotated[Settings, Depends(get_settings)]
StateDep = Annotated[ServingState, Depends(get_state)]
ServingDep = Annotated[Serving, Depends(get_serving)]
ServeLogDep = Annotated[ServeLog | None, Depends(get_serve_log)]
AdminDep = Depends(require_admin)
