"""The marketer's web app at /: six pages (Customer, Audience, Insights, Batch, What-if,
Monitoring) in one document that calls the JSON API from the browser (static/app.js), plus
the one read the what-if page needs that the API has no answer for: a customer's raw feature values.

Every asset is served from here (Bootstrap from its xstatic package, charts drawn as SVG by
app.js), so the page works offline and the policy below can forbid everything foreign.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from api.audience_query import NoScores, reader_for
from api.deps import ServingDep, SettingsDep, StateDep
from api.feature_inputs import FeatureInput, feature_inputs
from api.routes.audiences import scores_path
from api.scoring import lookup, not_found_message
from api.settings import Settings
from feature_repo.lookup import InvalidCustomerId, normalize_customer_id
from modeling.explain import MISSING

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")
FAVICON = Path(__file__).resolve().parents[1] / "static" / "favicon.svg"

# no inline or foreign script, and no other site may frame the form (clickjacking); images
# only from here (the select arrow is CSS, not Bootstrap's data: URI)
CSP = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
# what-if categories: the score file's values (what customers really have); the contract
# lists a fixed set only in words, e.g. "(female/male/other)"
SCORE_FILE_CHOICES = {
    "favourite_category": "favourite_category",
    "preferred_payment_method": "payment_method",
    "location": "location",
}
LISTED_IN_WORDS = re.compile(r"\(([a-z]+(?:/[a-z]+)+)\)")

router = APIRouter(tags=["web"], include_in_schema=False)


def model_categories(model: Any) -> dict[str, list[str]]:
    """The categories the model was fitted on, per feature (its one-hot encoder's), without
    the missing marker: the values a what-if can meaningfully choose."""
    found: dict[str, list[str]] = {}
    for _, transformer, columns in getattr(model.preprocessor, "transformers_", ()):
        encoder = transformer.steps[-1][1] if hasattr(transformer, "steps") else transformer
        for column, values in zip(columns, getattr(encoder, "categories_", ()), strict=False):
            found[column] = [str(v) for v in values if str(v) != MISSING]
    return found


def category_choices(settings: Settings, model: Any | None) -> dict[str, list[str]]:
    """Per categorical feature, the values a select offers (empty: a free text box): the
    model's own categories, else the score file's, else a list the contract gives in words."""
    fitted = model_categories(model) if model is not None else {}
    try:
        values = reader_for(scores_path(settings)).current().values
    except NoScores:
        values = {}
    choices: dict[str, list[str]] = {}
    for feature in feature_inputs():
        if feature.kind != "text":
            continue
        listed = LISTED_IN_WORDS.search(feature.description)
        from_file = values.get(SCORE_FILE_CHOICES.get(feature.name, ""), ())
        choices[feature.name] = (
            fitted.get(feature.name)
            or list(from_file)
            or (listed.group(1).split("/") if listed else [])
        )
    return choices


def _plain(value: Any) -> Any:
    """A JSON value: numpy scalars as Python ones, NaN (missing) as null."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _help(feature: FeatureInput) -> str:
    """The contract's description, first sentence: shown under the field, not in a tooltip."""
    return feature.description.split("; ")[0].split(". ")[0].rstrip(".")


@router.get("/", response_class=HTMLResponse)
def index(request: Request, settings: SettingsDep, state: StateDep) -> HTMLResponse:
    serving = state.loaded
    page = TEMPLATES.TemplateResponse(
        request,
        "index.html",
        {
            "features": [(f, _help(f)) for f in feature_inputs()],
            "choices": category_choices(settings, serving.model if serving else None),
            "settings": settings,
        },
    )
    # defence in depth: even injected markup could run no inline or foreign script
    page.headers["Content-Security-Policy"] = CSP
    return page


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> FileResponse:
    """Browsers ask for /favicon.ico whatever the page links: the same local SVG."""
    return FileResponse(FAVICON, media_type="image/svg+xml")


@router.get("/web/customers/{customer_id:path}/features")
def customer_features(
    customer_id: Annotated[str, PathParam(max_length=200)], serving: ServingDep
) -> dict[str, Any]:
    """A customer's online feature values, to start a what-if from (404 when not online)."""
    try:
        normalized = normalize_customer_id(customer_id)
    except InvalidCustomerId as exc:
        raise HTTPException(422, str(exc)) from None
    (row,) = lookup(serving, [normalized])
    if not row.found:
        raise HTTPException(404, not_found_message(customer_id))
    return {
        "customer_id": row.customer_id,
        "features_as_of": row.as_of.isoformat() if row.as_of else None,
        "features": {f.name: _plain(row.features.get(f.name)) for f in feature_inputs()},
    }
