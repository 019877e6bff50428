"""GET /monitoring and /monitoring/report read what `python -m monitoring` wrote: the report
as it is (plus the alert thresholds), a 503 naming `make monitor` when there is none yet, and a
503, never a 500, when the file is damaged. No model or store is needed, so no lifespan runs."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings

REPORT = {
    "generated_at": "2026-11-25T20:00:00+00:00",
    "realized": {
        "label_window_days": 30,
        "by_as_of_date": [
            {"as_of_date": "2025-12-01", "rows": 100, "observed_rate": 0.34,
             "scores": {"model": {"roc_auc": 0.87, "pr_auc": 0.75},
                        "recency": {"roc_auc": 0.8, "pr_auc": 0.6}}},
        ],
        "pending": [],
    },
    "drift": {"features": [{"feature": "favourite_category", "psi": 0.52, "alert": True}]},
    "alerts": ["favourite_category: PSI 0.520 > 0.2"],
}  # fmt: skip


def app_reading(path) -> TestClient:
    settings = Settings(monitoring_path=path, _env_file=None)
    return TestClient(create_app(settings), raise_server_exceptions=False)


def test_the_report_as_written_with_its_thresholds(tmp_path, monkeypatch):
    monkeypatch.setenv("MONITOR_PSI_THRESHOLD", "0.25")
    path = tmp_path / "monitor.json"
    path.write_text(json.dumps(REPORT), encoding="utf-8")
    (tmp_path / "report.html").write_text("<html><body>report</body></html>", encoding="utf-8")
    client = app_reading(path)
    answer = client.get("/monitoring")
    assert answer.status_code == 200
    body = answer.json()
    assert {k: body[k] for k in REPORT} == REPORT
    assert body["thresholds"]["psi"] == 0.25
    page = client.get("/monitoring/report")
    assert page.status_code == 200 and "report" in page.text
    # inline styles and data: images for this page only; still no script
    policy = page.headers["content-security-policy"]
    assert "img-src data:" in policy and "script-src" not in policy
    assert "default-src 'none'" in policy


def test_a_report_s_own_thresholds_are_answered_not_the_server_s(tmp_path, monkeypatch):
    """What "alert" meant when `python -m monitoring` ran, whatever MONITOR_* the API has."""
    monkeypatch.setenv("MONITOR_PSI_THRESHOLD", "0.25")
    path = tmp_path / "monitor.json"
    written = {**REPORT, "thresholds": {"psi": 0.1, "missing_increase": 0.02}}
    path.write_text(json.dumps(written), encoding="utf-8")
    assert app_reading(path).get("/monitoring").json()["thresholds"] == written["thresholds"]


def test_no_report_yet_says_what_to_run(tmp_path):
    client = app_reading(tmp_path / "monitor.json")
    for url in ("/monitoring", "/monitoring/report"):
        answer = client.get(url)
        assert answer.status_code == 503, url
        assert "make monitor" in answer.json()["detail"]
        assert answer.headers["retry-after"] == "60"


@pytest.mark.parametrize(
    "content",
    [b'{"realized": {"by_as_of_date": [', b"[1, 2]", b'{"alerts": []}', b"\xff\xfe\x00",
     b'{"realized": {}, "rows": NaN}'],
)  # fmt: skip
def test_a_damaged_report_is_a_503_not_a_500(tmp_path, content):
    path = tmp_path / "monitor.json"
    path.write_bytes(content)
    answer = app_reading(path).get("/monitoring")
    assert answer.status_code == 503
    assert "make monitor" in answer.json()["detail"]


def test_a_folder_in_place_of_the_file_is_a_503(tmp_path):
    (tmp_path / "monitor.json").mkdir()
    answer = app_reading(tmp_path / "monitor.json").get("/monitoring")
    assert answer.status_code == 503
