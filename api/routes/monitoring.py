"""GET /monitoring: the latest `python -m monitoring` report (monitor.json), for the web app's
Monitoring page; GET /monitoring/report: the same report as its self-contained HTML page.

Both only read the files `make monitor` writes, so they work without a model or feature
store. No file yet, or one that cannot be read as a report, is a 503 saying what to run:
a damaged file is the monitoring job's problem, not the API's, and never a 500.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse

from api.deps import SettingsDep
from api.settings import Settings
from monitoring.settings import MonitorSettings

RUN = "run `make monitor` (python -m monitoring) after `python -m scoring`"
# report.html carries its styles inline and its plots as data: PNGs, and runs no script
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

router = APIRouter(prefix="/monitoring", tags=["monitoring"])


def monitor_path(settings: Settings) -> Path:
    """API_MONITORING_PATH, else monitor.json in the folder `python -m monitoring` writes."""
    return settings.monitoring_path or MonitorSettings().json_path


def _unavailable(message: str) -> HTTPException:
    return HTTPException(503, message, headers={"Retry-After": "60"})


def _not_a_number(name: str) -> float:
    """NaN or Infinity in the file: refused here, or answering it would fail (a 500)."""
    raise ValueError(f"{name} is not a JSON number")


def read_report(path: Path) -> dict[str, Any]:
    """monitor.json as a dict with a `realized` section, or a 503 saying what to do."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"), parse_constant=_not_a_number)
    except FileNotFoundError:
        raise _unavailable(f"no monitoring report at {path} yet: {RUN}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _unavailable(
            f"the monitoring report {path} cannot be read ({type(exc).__name__}): {RUN} again"
        ) from None
    if not isinstance(report, dict) or not isinstance(report.get("realized"), dict):
        raise _unavailable(f"{path} is not a monitoring report (no 'realized' section): {RUN}")
    return report


@router.get(
    "",
    responses={503: {"description": "no monitor.json yet, or a damaged one: the message says "
                     "what to run"}},
)  # fmt: skip
def monitoring(settings: SettingsDep) -> dict[str, Any]:
    """The monitoring report as `python -m monitoring` wrote it: realized ROC-AUC, PR-AUC,
    Brier and calibration per as-of date whose label window has closed (model, recency and
    BG/NBD baselines on the same customers), pending dates, drift of the latest date per
    feature and of the scores, and the alerts; and `thresholds`, the alert thresholds the
    charts draw: those the report was written with, or, in a report older than that record,
    this server's (MONITOR_PSI_THRESHOLD, MONITOR_MISSING_INCREASE_THRESHOLD)."""
    report = read_report(monitor_path(settings))
    report.setdefault("thresholds", MonitorSettings().thresholds)
    return report


@router.get(
    "/report",
    response_class=HTMLResponse,
    responses={503: {"description": "no report.html yet, or an unreadable one: the message "
                     "says what to run"}},
)  # fmt: skip
def monitoring_report(settings: SettingsDep) -> HTMLResponse:
    """report.html, the human-readable report written beside monitor.json."""
    path = monitor_path(settings).with_name("report.html")
    try:
        page = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _unavailable(f"no monitoring report at {path} yet: {RUN}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _unavailable(f"{path} cannot be read ({type(exc).__name__}): {RUN} again") from None
    return HTMLResponse(page, headers={"Content-Security-Policy": REPORT_CSP})
