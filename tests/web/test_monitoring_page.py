"""The Monitoring page at 1366×800 and 390×844 in real Chromium, over the real report of
`python -m monitoring` (tests/conftest.py monitor_file: the session's scores plus the model's test
date, whose label window has closed): the plain-words verdict, the charts, nothing sideways,
the keyboard, and an alert in words when a feature has shifted."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.web.conftest import SCREENS
from tests.web.test_pages import focused, no_sideways_scroll, on_screen, open_page

pytestmark = pytest.mark.slow


def test_monitoring(page, monitor_file):
    report = json.loads(monitor_file.read_text())
    (closed,) = report["realized"]["by_as_of_date"]  # the model's test date
    open_page(page, "monitoring")  # the page loads the report itself
    result = page.locator("#monitoring-result")
    expect(result).to_be_visible()
    summary = page.locator("#monitoring-summary")
    roc = closed["scores"]["model"]["roc_auc"]
    expect(summary).to_contain_text(f"{round(roc * 100)} % of buyer/non-buyer pairs ranked in")
    expect(summary).to_contain_text(f"(ROC-AUC {roc:.2f})")
    expect(summary).to_contain_text("\u201cmost recent buyers first\u201d")
    expect(summary).to_contain_text(f"{closed['observed_rate'] * 100:.1f} % did")
    # realized quality: a point per scorer (model, recency, BG/NBD) in both charts
    for chart in ("#monitoring-roc", "#monitoring-pr"):
        expect(page.locator(f"{chart} svg circle.dot")).to_have_count(3)
    expect(page.locator("#monitoring-calibration svg circle.dot")).not_to_have_count(0)
    # drift: a bar per feature shown, the threshold line, every bar a width
    bars = page.locator("#monitoring-drift svg rect.bar")
    expect(bars).not_to_have_count(0)
    expect(page.locator("#monitoring-drift line.threshold")).to_have_count(1)
    assert len(report["drift"]["features"]) > bars.count() > 0
    expect(page.locator("#monitoring-score-drift")).to_contain_text("PSI")
    no_sideways_scroll(page)
    on_screen(page, "#monitoring-result")
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"monitoring-{page.width_name}.png"), full_page=True)
    # keyboard: Tab from Refresh to the full report; Enter on Refresh reloads
    page.focus("#monitoring-submit")
    page.keyboard.press("Tab")
    assert focused(page) == "monitoring-report"
    page.focus("#monitoring-submit")
    with page.expect_response("**/monitoring") as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 200
    expect(result).to_be_visible()
    # the full report opens under its own policy: inline plots, no CSP error (page fixture)
    with page.context.expect_page() as opened:
        page.click("#monitoring-report")
    report_page = opened.value
    report_page.wait_for_load_state()
    expect(report_page.locator("h1")).to_have_text("Model monitoring")
    assert report_page.evaluate("[...document.images].every((i) => i.naturalWidth > 0)")
    no_sideways_scroll(report_page)  # its tables scroll in their own boxes


def test_a_shifted_feature_is_an_alert_in_words(page, web_server):
    """The same report with favourite_category moved (as drift.py words such an alert)."""
    with urllib.request.urlopen(web_server + "/monitoring") as answer:
        report = json.load(answer)
    feature = next(f for f in report["drift"]["features"] if f["psi"] is not None)
    feature.update(psi=0.52, alert=True)
    report["alerts"] = [f"{feature['feature']}: PSI 0.520 > {report['thresholds']['psi']}"]
    page.route("**/monitoring", lambda route: route.fulfill(json=report))
    open_page(page, "monitoring")
    summary = page.locator("#monitoring-summary .alert-danger")
    expect(summary).to_contain_text(
        f"{feature['feature']} has shifted: PSI 0.52 > {report['thresholds']['psi']}"
    )
    assert summary.locator("li").count() == 1  # one alert, said once
    expect(page.locator("#monitoring-drift svg rect.bar.alert")).to_have_count(1)
    expect(page.locator("#monitoring-drift svg text.alert-text")).to_have_text(feature["feature"])
    no_sideways_scroll(page)


def test_without_a_report_the_page_says_to_run_make_monitor(browser, web_server):
    """The 503 GET /monitoring answers then (tests/api/test_monitoring_route.py) shown as it
    is; its own page, as the browser logs any 503 as a console error."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.route(
            "**/monitoring",
            lambda route: route.fulfill(
                status=503, json={"detail": "no monitoring report yet: run `make monitor`"}
            ),
        )
        page.goto(web_server + "/#monitoring")
        expect(page.locator("#monitoring-error")).to_contain_text("make monitor")
        expect(page.locator("#monitoring-result")).to_be_hidden()
        no_sideways_scroll(page)
    finally:
        page.close()
