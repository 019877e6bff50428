"""report.html's words, from monitoring.report over a made-up report (tests/monitoring/conftest.py
sample_report): the header says what it knows and leaves out what it does not, never a dash
or a Python None where a number or a name should be; every table sits in a box of its own that
scrolls sideways on a phone (the page itself: tests/web/test_reports.py)."""

from __future__ import annotations

import html
import re

import pytest

from tests.monitoring.conftest import SAMPLE_METADATA, SAMPLE_VERSION, sample_report

NO_WINDOW = {k: v for k, v in SAMPLE_METADATA.items() if k != "label_window_days"}
NO_VERSION = {k: v for k, v in NO_WINDOW.items() if k != "version"}


def _text(fragment: str) -> str:
    """What a reader sees of an HTML fragment: no tags, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _header(page: str) -> str:
    """The line under the title: when, which model, which label window."""
    return _text(re.search(r"</h1>\s*<p>(.*?)</p>", page, re.S).group(1))


def _how_to_read(page: str) -> str:
    return _text(re.search(r'<p class="note"><b>How to read this.*?</p>', page, re.S).group(0))


def test_a_known_window_and_version_are_in_the_header(tmp_path):
    _, path = sample_report(tmp_path)
    page = path.read_text()
    assert f"promoted model {SAMPLE_VERSION}" in _header(page)
    assert "label window 30 days" in _header(page)
    assert "in the 30 days after it" in _how_to_read(page)


@pytest.mark.parametrize(
    "metadata", [NO_WINDOW, NO_VERSION, None], ids=["no-window", "no-version", "no-model"]
)
def test_no_placeholder_where_the_metadata_says_nothing(tmp_path, metadata):
    """No label window has closed yet (the window is not in the labels either) and the model's
    metadata lacks the window (and its version, or there is no model): the header and the
    how-to-read note say it in words, not "label window – days" or "promoted model None"."""
    report, path = sample_report(tmp_path, window_days=None, metadata=metadata, closed=False)
    page = path.read_text()
    header, note = _header(page), _how_to_read(page)
    for said in (header, note):
        assert "– days" not in said and "- days" not in said, said
        assert not re.search(r"\b(None|none|nan|null)\b", said), said
        assert " – " not in said and not said.endswith("–"), said
    assert "label window" not in header  # not known: not claimed
    assert "in the days after it" in note or "label window" in note, note
    if metadata is None:
        assert "no promoted model" in header, header
    elif "version" not in metadata:
        assert "version not recorded" in header, header
    assert report["realized"]["label_window_days"] is None  # monitor.json keeps the fact


def test_the_window_the_model_predicts_fills_in_for_the_labels(tmp_path):
    """No window closed yet, but the promoted model says which window it predicts: that one."""
    _, path = sample_report(tmp_path, window_days=None, closed=False)
    page = path.read_text()
    assert "label window 30 days" in _header(page)
    assert "in the 30 days after it" in _how_to_read(page)


def test_every_table_scrolls_in_its_own_box(tmp_path):
    _, path = sample_report(tmp_path)
    page = path.read_text()
    tables = page.count("<table")
    assert tables >= 8
    assert len(re.findall(r'<div class="wide[^"]*"><table', page)) == tables
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
