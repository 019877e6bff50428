"""The API's failure modes and how each becomes an HTTP answer with a message, never a trace.

404 unknown customer and 422 malformed input are raised where they happen (HTTPException and
pydantic); the serving problems below are the ones a client can wait out (503) or an operator
must fix (409). Anything else is a bug: logged with its traceback, answered with a plain 500.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from modeling.artifact import ArtifactError

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


# an absolute path in a message: a slash after a start, space, quote, bracket or equals sign
_ABSOLUTE_PATH = re.compile(r"""(?<![^\s'"(\[=])/[^\s'",)\]]+""")


def plain_reason(exc: BaseException) -> str:
    """What a client may be told about a refused reload: the plain message of the
    ArtifactError behind it (written for clients: file names, versions); otherwise the first
    line of the error, with file paths cut to their last part, and short. Never a path of
    the server's disk, never a library's stack trace."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ArtifactError):
        cause = cause.__cause__
    text = str(cause if cause is not None else exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    first = _ABSOLUTE_PATH.sub(lambda m: m.group(0).rstrip("/").rsplit("/", 1)[-1], first)
    return first if len(first) <= 300 else first[:297] + "..."


async def _reload_refused(request: Request, exc: Exception) -> JSONResponse:
    # the details (the chained error, paths, any library trace) are for the operator's log
    log.warning("reload refused: %s", exc, exc_info=exc)
    return JSONResponse(
        {"detail": f"reload refused, the previous model keeps serving: {plain_reason(exc)}"},
        status_code=409,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "internal error; the server log has the details"}, 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NotReady, _not_ready)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
    app.add_exception_handler(ReloadRefused, _reload_refused)
    app.add_exception_handler(Exception, _unexpected)
