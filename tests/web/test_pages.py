"""Each page of the marketer's app at 1366×800 and 390×844 in real Chromium: the main flow
works, nothing scrolls sideways, the answer is on screen when it arrives, and the keyboard
alone drives it (Tab to a control, Enter submits). One screenshot per page and width goes to
docs/screens/, the pictures the README shows."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.api.conftest import uvicorn_server
from tests.web.conftest import SCREENS

pytestmark = pytest.mark.slow


def no_sideways_scroll(page) -> None:
    wide = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide[0] <= wide[1], f"the page is {wide[0]} px wide in a {wide[1]} px window"


def on_screen(page, selector: str) -> None:
    """The element's top comes inside the viewport: shown there, or scrolled into view."""
    # a function, not an expression string: Playwright evaluates a string predicate with eval
    # on every poll after the first, which the page's CSP (no 'unsafe-eval') refuses
    page.wait_for_function(
        """(selector) => {
            const top = document.querySelector(selector).getBoundingClientRect().top;
            return top >= 0 && top < window.innerHeight - 40;
        }""",
        arg=selector,
        timeout=3000,
    )


def focused(page) -> str:
    return page.evaluate("document.activeElement.id")


def shoot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}-{page.width_name}.png"))


def open_page(page, name: str) -> None:
    page.click(f"#tab-{name}")
    expect(page.locator(f"#pane-{name}")).to_be_visible()


def test_customer_card(page, known_ids):
    expect(page.locator("#model-line")).to_contain_text("Model ")
    page.focus("#customer-id")
    page.keyboard.type(known_ids[0])
    page.keyboard.press("Enter")
    card = page.locator("#customer-result")
    expect(card).to_be_visible()
    expect(card).to_contain_text("Customer " + known_ids[0])
    expect(card).to_contain_text("A typical customer:")
    expect(card).to_contain_text("chance of buying again within 30 days")
    # the date explained in words, never a bare "stale"
    expect(card).to_contain_text("purchases up to that day")
    expect(card).to_contain_text("30 days after it")
    assert "(stale)" not in card.inner_text()
    assert card.locator(".reason-row").count() >= 1
    # every reason bar keeps a width on a phone (they shrank to nothing at 390 px)
    for track in card.locator(".reason-track").all():
        assert track.bounding_box()["width"] >= 40
    # no calendar feature or column name as a reason
    assert "as_of_month" not in card.locator(".reasons").inner_text()
    on_screen(page, "#customer-result")
    no_sideways_scroll(page)
    shoot(page, "customer")


def test_customer_clears_the_previous_answer_while_waiting(page, known_ids):
    page.route("**/predict", lambda route: (page.wait_for_timeout(600), route.continue_()))
    page.fill("#customer-id", known_ids[0])
    page.click("#customer-submit")
    expect(page.locator("#customer-result")).to_be_visible()
    page.fill("#customer-id", known_ids[1])
    page.click("#customer-submit")
    # while the second answer is on its way: no old card, a disabled button, a spinner
    expect(page.locator("#customer-result")).to_be_hidden()
    expect(page.locator("#customer-submit")).to_be_disabled()
    expect(page.locator("#customer-loading")).to_be_visible()
    expect(page.locator("#customer-result")).to_contain_text(known_ids[1])
    expect(page.locator("#customer-submit")).to_be_enabled()


def test_audience(page, scores_file, tmp_path):
    import pandas as pd

    scores = pd.read_parquet(scores_file)
    open_page(page, "audience")
    result = page.locator("#audience-result")
    expect(result).to_be_visible()  # the page loads the default audience itself
    # high + medium are ticked by default: the total is theirs
    wanted = int(scores["tier"].isin(["high", "medium"]).sum())
    expect(page.locator("#audience-total")).to_contain_text(f"{wanted:,} customers")
    expect(page.locator("#audience-chart svg rect.bar")).to_have_count(10)
    assert page.locator("#audience-tiers .tier-box").count() == 3

    # keyboard: a filter typed, Enter submits; the high tier alone from 60 %
    page.uncheck("#aud-tier-medium")
    page.focus("#aud-min")
    page.keyboard.type("60")
    page.keyboard.press("Enter")
    high = int(((scores["tier"] == "high") & (scores["probability"] >= 0.6)).sum())
    expect(page.locator("#audience-total")).to_contain_text(" customers")
    rows = page.locator("#audience-table tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() == min(50, high) or high == 0
    on_screen(page, "#audience-result")
    no_sideways_scroll(page)
    shoot(page, "audience")

    # the CSV link carries the same filters and gives every matching customer
    href = page.get_attribute("#audience-csv", "href")
    assert "tier=high" in href and "min_probability=0.6" in href
    with page.expect_download() as download:
        page.click("#audience-csv")
    table = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    assert len(table) == high
    assert {"action", "reason_1"} <= set(table[0]) if table else True


def test_without_score_file_or_mart_the_pages_say_what_to_run(
    browser, trained_models, feature_store, tmp_path
):
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(os.environ, "API_SCORES_PATH", str(tmp_path / "none.parquet"))
        patch.setitem(os.environ, "API_SEGMENT_RATES_PATH", str(tmp_path / "none.parquet"))
        server = uvicorn_server(trained_models, feature_store, tmp_path / "server.log")
        with server as (base_url, _):
            page = browser.new_page(viewport={"width": 390, "height": 844})
            try:
                page.goto(base_url + "/#audience")
                expect(page.locator("#audience-error")).to_contain_text("python -m scoring")
                no_sideways_scroll(page)
                page.click("#tab-insights")
                expect(page.locator("#insights-error")).to_contain_text("make features")
                no_sideways_scroll(page)
            finally:
                page.close()


def test_insights(page):
    page.goto(page.url.split("#")[0] + "#insights")  # an address opens its page
    result = page.locator("#insights-result")
    expect(result).to_be_visible()
    claims = page.locator("#insights-claims .card")
    expect(claims).to_have_count(4)
    for i in range(4):
        text = claims.nth(i).inner_text()
        assert any(v in text for v in ("supported", "not enough data")), text
    charts = page.locator("#insights-charts .chart svg")
    assert charts.count() >= 5
    # every segment bar has an interval: a whisker line and two caps
    first = charts.first
    assert first.locator("line.ci").count() == 3 * first.locator("rect.bar").count()
    no_sideways_scroll(page)
    # keyboard: Tab from the date to Show, Enter reloads
    page.focus("#insights-date")
    page.keyboard.press("Tab")
    assert focused(page) == "insights-submit"
    page.keyboard.press("Enter")
    expect(result).to_be_visible()
    expect(claims).to_have_count(4)
    on_screen(page, "#insights-result")
    shoot(page, "insights")
    page.locator("#insights-charts").screenshot(
        path=str(SCREENS / f"insights-charts-{page.width_name}.png")
    )


def test_batch(page, known_ids):
    open_page(page, "batch")
    ids = [known_ids[2], known_ids[0], known_ids[1]]
    names = ["Asha", "Ravi", "Meena", "Ravi again"]
    sheet = "Name,Customer ID\n" + "\n".join(
        f"{n},{i}" for n, i in zip(names, [*ids, known_ids[0]], strict=True)
    )
    page.set_input_files(
        "#batch-file", files=[{"name": "list.csv", "mimeType": "text/csv",
                               "buffer": sheet.encode()}],
    )  # fmt: skip
    expect(page.locator("#batch-parsed")).to_contain_text("3 distinct ids")
    expect(page.locator("#batch-parsed")).to_contain_text("Customer ID")
    assert page.input_value("#batch-ids").split("\n") == ids  # the ids, not the names
    # keyboard: Tab from the file box to the button, Enter submits
    page.focus("#batch-file")
    page.keyboard.press("Tab")
    assert focused(page) == "batch-submit"
    page.keyboard.press("Enter")
    rows = page.locator("#batch-table tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#batch-summary")).to_contain_text("3 of 3")
    expect(page.locator("#batch-summary")).to_contain_text("1 repeated")
    counts = [int(n) for n in page.locator("#batch-tiers .n").all_inner_texts()]
    assert sum(counts) == 3
    # sorting by chance: highest first
    page.click('#batch-table .sort[data-sort="probability"]')
    chances = [float(t.split()[0]) for t in page.locator("#batch-table tbody tr td:nth-child(2)")
               .all_inner_texts()]  # fmt: skip
    assert chances == sorted(chances, reverse=True)
    on_screen(page, "#batch-result")
    no_sideways_scroll(page)
    shoot(page, "batch")
    with page.expect_download() as download:
        page.click("#batch-download")
    table = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    assert [r["customer_id"] for r in table] == ids
    assert all(r["action"] and r["reason_1"] for r in table)


def test_what_if(page, known_ids):
    open_page(page, "whatif")
    # a word in a number field is shown at the field, not silently dropped
    page.fill("#wf-recency_days", "abc")
    expect(page.locator("#wi-recency_days")).to_contain_text("not a number")
    page.click("#whatif-submit")
    expect(page.locator("#whatif-error")).to_contain_text("recency_days")
    expect(page.locator("#whatif-result")).to_be_hidden()
    # categories are choices, not free text
    assert page.locator("#wf-favourite_category").evaluate("e => e.tagName") == "SELECT"
    assert page.locator("#wf-is_festival_season option").count() == 3

    # almost nothing known: an answer, with a warning saying so
    page.fill("#wf-recency_days", "4")
    page.focus("#wf-orders_count")
    page.keyboard.type("9")
    page.keyboard.press("Enter")  # keyboard: Enter in a field submits
    result = page.locator("#whatif-result")
    expect(result).to_contain_text("What-if")
    expect(result).to_contain_text("Most inputs are unknown")
    on_screen(page, "#whatif-result")

    # start from a real customer: every known field filled, no warning
    page.fill("#whatif-from", known_ids[0])
    page.click("#whatif-from-submit")
    expect(page.locator("#whatif-from-status")).to_contain_text("Filled in from customer")
    assert page.input_value("#wf-orders_count") != ""
    page.fill("#wf-recency_days", "2")
    page.click("#whatif-submit")
    expect(result).to_contain_text("What-if")
    expect(result).not_to_contain_text("Most inputs are unknown")
    on_screen(page, "#whatif-result")
    no_sideways_scroll(page)
    shoot(page, "whatif")


def test_pages_are_reachable_by_keyboard_and_have_a_favicon(page, web_server):
    import httpx

    page.focus("#tab-customer")
    for name in ("audience", "insights", "batch", "whatif"):
        page.keyboard.press("ArrowRight")
        expect(page.locator(f"#pane-{name}")).to_be_visible()
        no_sideways_scroll(page)
    assert page.locator("link[rel=icon]").get_attribute("href") == "/static/favicon.svg"
    assert httpx.get(web_server + "/static/favicon.svg").status_code == 200
    assert httpx.get(web_server + "/favicon.ico").status_code == 200
