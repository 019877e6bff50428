"""Operator actions, behind the X-Admin-Token header (API_ADMIN_TOKEN)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AdminDep, StateDep
from api.schemas import ReloadResponse

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[AdminDep])


@router.post(
    "/reload",
    responses={
        401: {"description": "no token"},
        403: {"description": "wrong token, or API_ADMIN_TOKEN unset"},
        409: {"description": "the new artifact is refused; the old model keeps serving"},
    },
)
def reload_model(state: StateDep) -> ReloadResponse:
    """Load models/current again (after a training run promoted a new version) and swap it in.
    Requests in flight finish on the model they started with."""
    previous, model = state.reload()
    return ReloadResponse(
        previous_version=previous,
        model_version=model.version,
        trained_at=model.metadata["trained_at"],
    )
