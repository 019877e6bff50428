"""Shared dependencies as Annotated aliases: the settings, the serving snapshot, admin auth."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from api.serving import Serving, ServingState
from api.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_state(request: Request) -> ServingState:
    return request.app.state.serving


def get_serving(request: Request) -> Serving:
    """The model + store snapshot for this request (503 while none is loaded)."""
    return request.app.state.serving.current()


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
AdminDep = Depends(require_admin)
