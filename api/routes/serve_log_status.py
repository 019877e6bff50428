"""GET /health/serve-log: whether the served predictions are being kept (api/serve_log.py).

The counters are those of the worker that answers: under `python -m api` each worker process
logs and counts its own, so a monitor asks a few times (fresh connections) or sums the
workers' lines in the log. Any non-zero dropped_rows or failed_rows means predictions were
answered but not kept.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ServeLogDep

router = APIRouter(prefix="/health", tags=["health"])


class ServeLogStatus(BaseModel):
    enabled: bool = Field(description="false: API_SERVE_LOG_ENABLED=false, nothing is kept")
    worker_pid: int | None = None
    queued_rows: int = Field(0, description="answered, not yet written")
    queue_rows: int | None = Field(None, description="the most that may wait (then dropped)")
    written_rows: int = 0
    files_written: int = 0
    dropped_rows: int = Field(0, description="not kept: the queue was full")
    failed_writes: int = Field(0, description="flushes that could not be written")
    failed_rows: int = Field(0, description="not kept: their flush could not be written")
    last_error: str | None = Field(None, description="the last write failure's type")


@router.get("/serve-log")
async def serve_log_status(serve_log: ServeLogDep) -> ServeLogStatus:
    """This worker's serve log counters: written, waiting, dropped, failed."""
    if serve_log is None:
        return ServeLogStatus(enabled=False)
    return ServeLogStatus(**serve_log.status())
