"""The web form at /: a page that calls the JSON API from the browser (static/app.js)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.deps import SettingsDep
from api.feature_inputs import feature_inputs

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")

# no inline or foreign script, and no other site may frame the form (clickjacking)
CSP = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)

router = APIRouter(tags=["web"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, settings: SettingsDep) -> HTMLResponse:
    page = TEMPLATES.TemplateResponse(
        request,
        "index.html",
        {"features": feature_inputs(), "settings": settings},
    )
    # defence in depth: even injected markup could run no inline or foreign script
    page.headers["Content-Security-Policy"] = CSP
    return page
