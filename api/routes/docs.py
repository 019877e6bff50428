"""/docs: Swagger UI from files this server holds, so the docs work on a machine offline.

FastAPI's own /docs loads Swagger UI's script and style from a CDN: with no internet it was a
blank page. The assets come from the pinned `fastapi-offline` package (mounted by api.main at
ASSETS_URL); the page is FastAPI's, pointed at them. Its one inline script (the SwaggerUIBundle
call) is allowed by its hash, so the page's policy needs no 'unsafe-inline' and loads nothing
from anywhere but this server. /redoc is not served (FastAPI's loads from a CDN and Google
Fonts, and nothing here links to it).
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_URL = "/static/docs"
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

router = APIRouter(include_in_schema=False)


def page_policy(html: str) -> str:
    """The page's CSP: its own origin, plus exactly the inline scripts it holds, by hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
    )


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    app = request.app
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url,
        title=f"{app.title} - Swagger UI",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        oauth2_redirect_url=None,  # no OAuth here
        swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None},
    )
    page.headers["Content-Security-Policy"] = page_policy(page.body.decode())
    return page
