"""The marketer's web app in a real browser: the suite's session pipeline (tests/conftest.py)
served by the real `uvicorn api.main:app`, with every customer scored by the real
`python -m scoring`, the session warehouse's segment_repeat_rates mart and the real
`python -m monitoring`'s report (the suite's scores_file and monitor_file, tests/conftest.py), so
all six pages have something to show. One Chromium for the session; a fresh page per test and
width."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# the API suite's fixtures, shared: the Chromium path, its plain live server, online ids
from tests.api.conftest import chromium_path, known_ids, live_server, uvicorn_server  # noqa: F401
from tests.api.test_live_server import BROWSER_ARGS

WIDTHS = {"1366": (1366, 800), "390": (390, 844)}
SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"


@pytest.fixture(scope="session")
def web_server(
    trained_models, feature_store, warehouse, scores_file, monitor_file, tmp_path_factory
):
    """The real server reading the score file and the segment mart; yields its base URL."""
    mart = warehouse.features_dir / "segment_repeat_rates.parquet"
    assert mart.exists(), "the session warehouse has no segment_repeat_rates mart"
    log_path = tmp_path_factory.mktemp("web-uvicorn") / "server.log"
    with pytest.MonkeyPatch.context() as patch:  # uvicorn_server passes os.environ on
        patch.setitem(os.environ, "API_SCORES_PATH", str(scores_file))
        patch.setitem(os.environ, "API_SEGMENT_RATES_PATH", str(mart))
        patch.setitem(os.environ, "API_MONITORING_PATH", str(monitor_file))
        with uvicorn_server(trained_models, feature_store, log_path) as (base_url, _):
            yield base_url


# per module: a sync Playwright left running would refuse the next one (the API suite's)
@pytest.fixture(scope="module")
def browser(chromium_path):  # noqa: F811 (the fixture imported above)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path), args=BROWSER_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(params=list(WIDTHS))
def page(request, browser, web_server):
    """A page at one width, failing the test on any console error (CSP violations included)."""
    width, height = WIDTHS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.width_name = request.param
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(web_server + "/")
    yield page
    context.close()
    assert errors == [], errors
