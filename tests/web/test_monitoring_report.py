"""The full monitoring report (report.html of `python -m monitoring`, served by GET
/monitoring/report under its own policy) in real Chromium at 390×844, on a phone and in a
narrow window, and at 1366×800: the page never scrolls sideways, a wide table scrolls inside
its own box, every plot fits the screen, and the policy refuses nothing. The report is
monitoring.report's over made-up scores (tests/monitoring/conftest.py sample_report), so no
pipeline is needed; the app's Monitoring page opening the session's real report:
tests/web/test_monitoring_page.py."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.monitoring.conftest import sample_report

pytestmark = pytest.mark.slow

URL = "http://report.test/monitoring/report"
SIZES = {
    "390": {"viewport": {"width": 390, "height": 844}},
    # a phone honours (or misses) <meta name="viewport">: without it the page is laid out
    # 980 px wide and shown zoomed out
    "390-phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True,
                  "has_touch": True, "device_scale_factor": 3},
    "1366": {"viewport": {"width": 1366, "height": 800}},
}  # fmt: skip


def served(tmp_path) -> tuple[bytes, dict[str, str]]:
    """GET /monitoring/report of the real app over a freshly written sample report."""
    sample_report(tmp_path)
    settings = Settings(monitoring_path=tmp_path / "monitor.json", _env_file=None)
    answer = TestClient(create_app(settings)).get("/monitoring/report")
    assert answer.status_code == 200, answer.text
    return answer.content, dict(answer.headers)


@pytest.fixture(params=list(SIZES))
def report_page(request, browser, tmp_path):
    body, headers = served(tmp_path)
    context = browser.new_context(**SIZES[request.param])
    page = context.new_page()
    page.width = SIZES[request.param]["viewport"]["width"]
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route(URL, lambda route: route.fulfill(status=200, body=body, headers=headers))
    page.goto(URL)
    yield page
    context.close()
    assert errors == [], errors  # the CSP refused nothing (inline styles, data: plots)


def test_the_report_fits_the_screen(report_page):
    page, width = report_page, report_page.width
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert inner == width, f"laid out {inner} px wide on a {width} px screen"
    assert scroll <= width, f"the page is {scroll} px wide on a {width} px screen"
    # every plot drawn, inside the screen, and as wide as it can be: its own size, or the
    # screen's on a phone (one plot a row, not two squeezed side by side)
    plots = page.locator("img")
    assert plots.count() == 4
    for plot in plots.all():
        natural = plot.evaluate("(i) => i.naturalWidth")
        box = plot.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
        assert box["width"] >= min(natural, 0.85 * width), (natural, box)
    # every table in a box of its own that fits the screen; a wide one scrolls inside it
    boxes = page.locator(".wide")
    assert boxes.count() == page.locator("table").count() >= 8
    sizes = boxes.evaluate_all("(bs) => bs.map((b) => [b.scrollWidth, b.clientWidth])")
    assert all(client <= width for _, client in sizes), sizes
    if width < 500:
        assert any(scrolled > client for scrolled, client in sizes), sizes
