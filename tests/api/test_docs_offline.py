"""/docs works with no internet, and every answer carries the security headers.

FastAPI's /docs loaded Swagger UI from a CDN: a blank page offline. Here real Chromium opens
the real server's /docs with every request that would leave loopback aborted and recorded,
and must render the operations list with no request blocked and no CSP violation.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.api.test_live_server import BROWSER_ARGS

LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
VIEWPORTS = {"desktop": (1366, 800), "phone": (390, 844)}


def test_docs_page_and_assets_are_served_from_here(client):
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.text
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html), "a foreign asset"
    for asset in re.findall(r"(?:src|href)=\"(/static/docs/[^\"]+)\"", html):
        assert client.get(asset).status_code == 200, asset
    assert "swagger-ui-bundle.js" in html and "swagger-ui.css" in html
    policy = page.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "'sha256-" in policy
    assert "frame-ancestors 'none'" in policy
    assert client.get("/redoc").status_code == 404  # FastAPI's would load from a CDN


def test_every_answer_carries_the_security_headers(client, known_ids):
    answers = {
        "page": client.get("/"),
        "docs": client.get("/docs"),
        "json": client.post("/predict", json={"customer_id": known_ids[0]}),
        "404": client.get("/customers/NOBODY123/prediction"),
        "422": client.post("/predict", json={}),
        "static": client.get("/static/app.js"),
        "openapi": client.get("/openapi.json"),
        "413": client.post("/predict", content=b"x" * (1 << 20)),
    }
    for name, response in answers.items():
        for header, value in SECURITY.items():
            assert response.headers.get(header) == value, (name, header)
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy, name
    assert answers["413"].status_code == 413
    assert answers["json"].headers["content-security-policy"].startswith("default-src 'none'")
    assert "script-src 'self'" in answers["page"].headers["content-security-policy"]


@pytest.mark.slow
def test_docs_render_in_a_real_browser_with_no_request_leaving_loopback(
    live_server, chromium_path, tmp_path
):
    from playwright.sync_api import expect, sync_playwright

    base_url, _ = live_server
    operations = len([op for path in _openapi(base_url)["paths"].values() for op in path.values()])
    left, violations, failed = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path), args=BROWSER_ARGS)
        try:
            for name, (width, height) in VIEWPORTS.items():
                page = browser.new_page(viewport={"width": width, "height": height})

                def guard(route, left=left):
                    if urlsplit(route.request.url).hostname in LOOPBACK:
                        route.continue_()
                    else:
                        left.append(route.request.url)
                        route.abort()

                page.route("**/*", guard)
                page.on("console", lambda m: violations.append(m.text) if "Security" in m.text
                        or "Content Security Policy" in m.text else None)  # fmt: skip
                page.on("requestfailed", lambda r: failed.append(r.url))
                page.goto(base_url + "/docs")
                expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
                assert page.locator(".opblock").count() == operations
                expect(page.locator(".title").first).to_contain_text("Repeat Purchase")
                page.screenshot(path=str(tmp_path / f"docs_{name}.png"), full_page=False)
                page.close()
        finally:
            browser.close()
    assert left == [], f"requests left loopback: {left}"
    assert violations == [] and failed == [], (violations, failed)


def _openapi(base_url: str) -> dict:
    import httpx

    return httpx.get(base_url + "/openapi.json", timeout=10).json()
