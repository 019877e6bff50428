"""The real thing: `uvicorn api.main:app` in its own process, over HTTP, and in Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

BROWSER_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
XSS = "<script>alert(1)</script>"


def test_real_server_predicts_over_http(live_server, known_ids):
    base_url, log_path = live_server
    response = httpx.post(f"{base_url}/predict", json={"customer_id": known_ids[0]}, timeout=10)
    assert response.status_code == 200
    assert 0 <= response.json()["probability"] <= 1
    assert httpx.get(f"{base_url}/health", timeout=10).json()["ready"] is True
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if '"event"' in line]
    assert any(line["path"] == "/predict" and line["status"] == 200 for line in lines)


def test_web_form_in_a_real_browser(live_server, known_ids, chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base_url, _ = live_server
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path), args=BROWSER_ARGS)
        try:
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(base_url + "/")
            expect(page.locator("#model-line")).to_contain_text("Model ")

            # a known customer: probability, tier, action, reasons as bars, features as of
            page.fill("#customer-id", known_ids[0])
            page.click("#customer-submit")
            result = page.locator("#customer-result")
            expect(result).to_be_visible()
            expect(result).to_contain_text("Customer " + known_ids[0])
            expect(result).to_contain_text("Suggested action")
            expect(result).to_contain_text("Features as of")
            assert "%" in result.locator('[data-field="probability"]').inner_text()
            assert result.locator(".reason-bar").count() >= 1
            page.screenshot(path=str(tmp_path / "customer.png"), full_page=True)

            # an unknown customer: the message, in words
            page.fill("#customer-id", "NOBODY123")
            page.click("#customer-submit")
            error = page.locator("#customer-error")
            expect(error).to_be_visible()
            expect(error).to_contain_text("not in the online feature store")
            expect(result).to_be_hidden()

            # markup in the id is shown as text and never runs
            scripts_before = page.locator("script").count()
            page.fill("#customer-id", XSS)
            page.click("#customer-submit")
            expect(error).to_contain_text(XSS)  # a valid id now: "Customer “…”: customer … is not"
            assert error.inner_text().count(XSS) == 2
            assert page.locator("script").count() == scripts_before

            # many customers: table with one row per id, the bad ones explained
            page.click("#tab-batch")
            quoted = '"Smith, ""J"""'  # a CSV cell: the id Smith, "J" holds a comma
            ids = [known_ids[0], known_ids[1], "NOBODY123", XSS, quoted]
            page.fill("#batch-ids", "\n".join(ids))
            page.click("#batch-submit")
            rows = page.locator("#batch-table tbody tr")
            expect(rows).to_have_count(5)
            expect(rows.nth(3)).to_contain_text(XSS)
            expect(rows.nth(4).locator("td").first).to_have_text('Smith, "J"')
            expect(page.locator("#batch-summary")).to_contain_text("2 of 5")
            with page.expect_download() as download:
                page.click("#batch-download")
            csv_text = Path(download.value.path()).read_text(encoding="utf-8")
            assert csv_text.splitlines()[0].startswith("customer_id,status,probability")
            assert len(csv_text.splitlines()) == 6
            assert '"Smith, ""J"""' in csv_text

            # what-if: an out-of-range value is explained, a valid one is scored
            page.click("#tab-whatif")
            page.fill("#wf-recency_days", "-5")
            page.click("#whatif-submit")
            expect(page.locator("#whatif-error")).to_contain_text("recency_days")
            page.fill("#wf-recency_days", "4")
            page.fill("#wf-orders_count", "9")
            page.click("#whatif-submit")
            expect(page.locator("#whatif-result")).to_contain_text("What-if")
            page.screenshot(path=str(tmp_path / "what_if.png"), full_page=True)
        finally:
            browser.close()
    assert dialogs == []
