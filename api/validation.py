"""Request bodies a client can get wrong in any way, and the 4xx each one gets.

Parsing (StrictJsonRoute): a body is read as strict JSON, RFC 8259's and no more. Python's
json module also reads `NaN`, `Infinity` and `-Infinity`, turns `1e400` into infinity, keeps
the last of duplicate keys (another parser in front of us may keep the first), recurses as
deep as the stack goes, and gives lone surrogates ("\\ud800", legal escaping of no text) as
strings that cannot be encoded again. Each of those is a 422 here, as FastAPI answers any
other invalid JSON.

Answering (invalid_request): FastAPI's own 422 handler echoes each error's `input` through
`json.dumps(allow_nan=False)` and UTF-8, so a non-finite number, a lone surrogate (`"\\ud800"`
is legal JSON escaping, not encodable text) or a non-JSON body of invalid UTF-8 bytes made
the 422 itself fail: the client got a 500 and the server dropped the keep-alive connection.
This handler gives the same HTTPValidationError shape with every value made encodable.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

MAX_DEPTH = 32  # arrays/objects within each other; the bodies here need 2


class NotStrictJson(json.JSONDecodeError):
    """Valid for Python's json module, not for JSON (FastAPI makes it a 422 json_invalid)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "", 0)


def _constant(name: str) -> Any:
    raise NotStrictJson(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotStrictJson(f"{text[:40]} is too large for a number")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        raise NotStrictJson(f"a number of {len(text)} digits is too large") from None


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise NotStrictJson(f"duplicate key {json_safe(key)!r}")
            seen.add(key)
    return result


def _check_shape(value: Any) -> None:
    """Depth at most MAX_DEPTH, and every string and key Unicode text (no lone surrogate).
    Iterative: a recursive check would hit the very limit it checks."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise NotStrictJson("a string holds a lone surrogate: not Unicode text") from None
            continue
        if isinstance(node, dict):
            node = [*node.keys(), *node.values()]
        if isinstance(node, list):
            if depth > MAX_DEPTH:
                raise NotStrictJson(f"nested deeper than {MAX_DEPTH} levels")
            stack.extend((child, depth + 1) for child in node)


def strict_loads(body: bytes) -> Any:
    try:
        value = json.loads(
            body, parse_constant=_constant, parse_float=_float, parse_int=_int,
            object_pairs_hook=_object,
        )  # fmt: skip
    except RecursionError:
        raise NotStrictJson(f"nested deeper than {MAX_DEPTH} levels") from None
    _check_shape(value)
    return value


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_loads(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    """A route whose JSON body is parsed by strict_loads (FastAPI decides when it is JSON)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict_handler


def json_safe(value: Any) -> Any:
    """`value` as plain JSON data that always encodes: same structure, odd leaves spelled out."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # "nan", "inf", "-inf"
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, dict):
        return {json_safe(str(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    return json_safe(str(value))


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse({"detail": json_safe(exc.errors())}, status_code=422)
