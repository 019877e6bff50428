"""Liveness and readiness in one answer: 200 when ready to predict, 503 otherwise."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import StateDep
from api.errors import NotReady, StoreUnavailable
from api.schemas import Health
from api.scoring import lookup

# any well-formed id: the answer (found or not) only shows that the store replied
PROBE_ID = "HEALTHCHECK"

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", responses={503: {"model": Health, "description": "alive but not ready"}})
def health(state: StateDep) -> JSONResponse:
    """live: the process answers. ready: a model is loaded and the online store replies."""
    try:
        serving = state.current()
    except NotReady as exc:
        body = Health(
            status="not_ready", ready=False, model_loaded=False, online_store="not_opened",
            detail=str(exc),
        )  # fmt: skip
        return JSONResponse(body.model_dump(), status_code=503)
    try:
        lookup(serving, [PROBE_ID])  # the read the predictions make
        store, detail = "reachable", None
    except StoreUnavailable as exc:  # its message: the failure's type name
        store, detail = "unreachable", f"online store: {exc}"
    ready = store == "reachable"
    body = Health(
        status="ok" if ready else "not_ready",
        ready=ready,
        model_loaded=True,
        model_version=serving.model.version,
        online_store=store,
        detail=detail,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
