"""Operator actions, behind the X-Admin-Token header (API_ADMIN_TOKEN).

Under `python -m api` with several workers, the worker that receives the reload loads and
checks the new model, then waits until every other worker serves it too (api/worker_sync.py):
a 200 means any new connection, whichever worker it reaches, gets the new version.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request

from api.deps import AdminDep, StateDep
from api.schemas import ReloadResponse
from api.worker_sync import IncompleteReload, confirm_everywhere

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[AdminDep])


@router.post(
    "/reload",
    responses={
        401: {"description": "no token"},
        403: {"description": "wrong token, or API_ADMIN_TOKEN unset"},
        409: {"description": "the new artifact is refused; the old model keeps serving"},
        503: {"description": "not every worker confirmed the new model; names those that did not"},
    },
)
def reload_model(state: StateDep, request: Request) -> ReloadResponse:
    """Load models/current again (after a training run promoted a new version) and swap it in,
    in every worker. Requests in flight finish on the model they started with."""
    previous, model = state.reload()
    peers = getattr(request.app.state, "peers", None)  # set by api/server.py's workers
    if peers is not None:
        board, slot = peers
        timeout = state.settings.reload_timeout_seconds
        try:
            confirm_everywhere(board, slot, str(model.directory), timeout)
        except IncompleteReload as exc:
            raise HTTPException(503, f"reload incomplete: {exc}") from None
    return ReloadResponse(
        previous_version=previous,
        model_version=model.version,
        trained_at=model.metadata["trained_at"],
    )
