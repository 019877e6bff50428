"""The two reports a person reads, in real Chromium at 390×844, on a phone and in a narrow
window, and at 1366×800: the page never scrolls sideways, a wide table scrolls inside its own
box, every plot fits the screen, and nothing is refused (the monitoring report's policy).

- the monitoring report (report.html of `python -m monitoring`, served by GET
  /monitoring/report under its own policy): monitoring.report's over made-up scores
  (tests/monitoring/conftest.py sample_report);
- the training report (models/<version>/report.html, its PNGs beside it, opened as a file):
  modeling.report's over made-up scores (tests/modeling/conftest.py sample_training_report).

No pipeline is needed; the app's Monitoring page opening the session's real report:
tests/web/test_monitoring_page.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.modeling.conftest import sample_training_report
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


def open_monitoring(page, tmp_path: Path) -> None:
    """As the app serves it, with its headers (the policy that must refuse nothing)."""
    body, headers = served(tmp_path)
    page.route(URL, lambda route: route.fulfill(status=200, body=body, headers=headers))
    page.goto(URL)


def open_training(page, tmp_path: Path) -> None:
    """As a reviewer opens it: the file in the model's folder, its PNGs beside it."""
    page.goto(sample_training_report(tmp_path / "model").as_uri())


@dataclass(frozen=True)
class Report:
    open: Callable[[object, Path], None]
    plots: int
    tables: int  # at least


REPORTS = {
    # realized quality over time (2), calibration (2); by date, week, tier, reliability, drift
    "monitoring": Report(open_monitoring, plots=4, tables=8),
    # ROC, PR, reliability, four confusion matrices, two importances; comparison, 4 slicings
    "training": Report(open_training, plots=9, tables=5),
}


@pytest.fixture(params=list(SIZES))
def screen(request, browser):
    """A fresh page at one size, failing the test on any console error."""
    context = browser.new_context(**SIZES[request.param])
    page = context.new_page()
    page.width = SIZES[request.param]["viewport"]["width"]
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert errors == [], errors  # the CSP refused nothing (inline styles, data: plots)


@pytest.mark.parametrize("name", list(REPORTS))
def test_the_report_fits_the_screen(name, screen, tmp_path):
    report, page, width = REPORTS[name], screen, screen.width
    report.open(page, tmp_path)
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert inner == width, f"laid out {inner} px wide on a {width} px screen"
    assert scroll <= width, f"the page is {scroll} px wide on a {width} px screen"
    # every plot drawn, inside the screen, and as wide as it can be: its own size, or the
    # screen's on a phone (one plot a row, not two squeezed side by side)
    plots = page.locator("img")
    assert plots.count() == report.plots
    for plot in plots.all():
        natural = plot.evaluate("(i) => i.naturalWidth")
        box = plot.bounding_box()
        assert natural > 0, "a plot that did not load"
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
        assert box["width"] >= min(natural, 0.85 * width), (natural, box)
    # every table in a box of its own that fits the screen; a wide one scrolls inside it
    boxes = page.locator(".wide")
    assert boxes.count() == page.locator("table").count() >= report.tables
    sizes = boxes.evaluate_all("(bs) => bs.map((b) => [b.scrollWidth, b.clientWidth])")
    assert all(client <= width for _, client in sizes), sizes
    if width < 500:
        assert any(scrolled > client for scrolled, client in sizes), sizes
