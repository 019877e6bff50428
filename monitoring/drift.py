"""Drift: are today's customers, and today's scores, still those the model learnt from?

Feature drift compares the customer_features mart's latest as-of date with the model's
training data (``as_of_range.train`` of its metadata, [first, last] as-of dates), feature by
feature over the model's one feature list (metadata ``features``, the FeatureService as
trained): the population stability index
``PSI = Σ (latest% − reference%) · ln(latest% / reference%)`` and the share of missing values.
Numeric features are binned at the deciles of the reference (DuckDB ``quantile_cont``; equal
deciles of a discrete feature merge into one edge) plus a NULL bin; categorical ones (String,
Bool) have one bin per value, NULL included. An empty bin counts as ``psi_epsilon`` so the
logarithm stays finite. The calendar features of the as-of date (``same_for_everyone_on_a_date``
in the mart contract: month, day of week, days to the next holiday, festival season) are one
value per date, so one date against a window of dates always has a maximal PSI: they are
reported with no PSI and alert only on missing values.

The reference is the window's last date by default (``MONITOR_REFERENCE=last_train_date``), not
the whole window pooled (``train_window``), because the latest date is one cross-section of the
customers and so is each training date, while the pooled window mixes ten of them: every
customer's tenure grows by a day a day, so a latest date always has older customers than the
window's average. Measured on `make sample`'s data with models/current (window 2025-01-05 ..
2025-10-02, latest 2025-12-31, nothing changed): pooled, tenure_days has PSI 0.218 and
days_since_signup 0.201, two alerts at the default 0.2 with no change in behaviour; against
2025-10-02 the largest PSI of any feature is 0.047 (recency_days).

Score drift compares the predicted probabilities of the newest batch score snapshot
(``<scores_dir>/snapshots/as_of_date=…``) with the snapshot of the model's test date
(``as_of_range.test``), binned at the test date's deciles. The test date, not the training
window: its scores are out of sample (trees score the rows they were fitted on more
confidently than any new row, so training-window scores would show drift on day one), it is
one as-of date like the latest one (no pooling of a growing population), and it is the date
the model's reported metrics come from. Both snapshots must come from this model (their
``model_version``); otherwise, or when the test date was never scored
(``python -m scoring --as-of <test date>`` writes it), the score PSI is None with the reason.

Feast's own monitoring, tried first (Feast 0.67.0, 2026-11-25): ``feast -c <feature repo>
monitor run --start-date 2025-01-05 --end-date 2025-10-02 --granularity monthly
--set-baseline`` works on our DuckDB offline store (status completed, 36 features, about 20 s
for the 159,005 rows of the training window) and writes profiles to ``feast_monitoring/*.parquet``
inside the feature repo folder: row and null counts, mean, percentiles, a 20-bin equal-width
histogram over that run's own min..max, the top 10 categories. It computes no drift: nothing in
``feast.monitoring`` compares a run with the baseline (no PSI or any distance), two runs'
histograms have different bin edges so no PSI can be taken from them without the raw data, and
the top-10 list cuts categories. ``--source-type log`` needs a FeatureService
``logging_config``, which logs what Feast's feature server serves; our API reads the online
store directly (``feature_repo/online_reader.py``) and batch scoring reads the mart, so no such
log exists. Hence this module: the mart and the score snapshots read with DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

import duckdb
from pydantic_settings import BaseSettings, SettingsConfigDict

from feature_repo.contract import feature_columns
from ingest.paths import PipelinePaths
from monitoring.realized import FEATURES_MART, mart_relation
from scoring.schema import SCORES_FILE, SNAPSHOTS_DIR
from scoring.score_all import snapshot_path

DECILES = [i / 10 for i in range(1, 10)]
CATEGORICAL_TYPES = {"String", "Bool"}


class DriftError(Exception):
    """The comparison cannot be made (no features mart, or no reference rows in it)."""


class DriftSettings(BaseSettings):
    """Alert thresholds (MONITOR_PSI_THRESHOLD, MONITOR_MISSING_INCREASE_THRESHOLD, ...)."""

    model_config = SettingsConfigDict(env_prefix="MONITOR_", extra="ignore")

    # 0.1-0.2 is the usual "watch", above 0.2 "the population has moved"; also for scores
    psi_threshold: float = 0.2
    # alert when the share of missing values grows by more than this (0.05 = 5 points)
    missing_increase_threshold: float = 0.05
    # the share an empty bin counts as, so ln(latest / reference) stays finite
    psi_epsilon: float = 1e-4
    # the training rows compared with the latest date (see the module docstring)
    reference: Literal["last_train_date", "train_window"] = "last_train_date"

    @property
    def thresholds(self) -> dict[str, float]:
        """What an alert meant, recorded in monitor.json beside the alerts: the variables can
        differ between the run that wrote the report and whoever reads it later."""
        return {"psi": self.psi_threshold, "missing_increase": self.missing_increase_threshold}


@dataclass
class DriftResult:
    """One entry per model feature, the score drift, and the alerts in words."""

    reference: list[str]  # the [first, last] as-of dates of the reference rows
    latest: str  # the mart's latest as-of date
    reference_rows: int
    latest_rows: int
    features: list[dict] = field(default_factory=list)
    score: dict = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)


def check_drift(paths: PipelinePaths, model_metadata: dict, settings: DriftSettings) -> DriftResult:
    """Feature and score drift of the latest as-of date against the model's training data."""
    first, last = model_metadata["as_of_range"]["train"]
    if settings.reference == "last_train_date":
        first = last
    per_date = {c.name for c in feature_columns() if c.same_for_everyone_on_a_date}
    mart = mart_relation(paths.features_dir, FEATURES_MART)
    if mart is None:
        raise DriftError(
            f"no {FEATURES_MART} mart in {paths.features_dir}: build the marts (make features)"
        )
    with duckdb.connect() as con:
        con.execute(f"CREATE VIEW mart AS SELECT * FROM {mart}")
        columns = {row[0] for row in con.execute("DESCRIBE mart").fetchall()}
        (latest,) = con.execute("SELECT max(as_of_date) FROM mart").fetchone()
        if latest is None:
            raise DriftError(f"the features mart in {paths.features_dir} holds no rows")
        con.execute(
            "CREATE TEMP TABLE reference AS SELECT * FROM mart "
            "WHERE as_of_date BETWEEN ?::DATE AND ?::DATE",
            [first, last],
        )
        con.execute("CREATE TEMP TABLE latest AS SELECT * FROM mart WHERE as_of_date = ?", [latest])
        (reference_rows,) = con.execute("SELECT count(*) FROM reference").fetchone()
        (latest_rows,) = con.execute("SELECT count(*) FROM latest").fetchone()
        if reference_rows == 0:
            raise DriftError(f"the features mart has no rows from {first} to {last}")
        result = DriftResult([first, last], latest.isoformat(), reference_rows, latest_rows)
        for spec in model_metadata["features"]:
            name = spec["name"]
            if name not in columns:
                result.features.append(_absent(name))
                result.alerts.append(f"{name}: not in the features mart")
                continue
            entry = _feature_drift(con, name, spec["type"], name in per_date, settings)
            result.features.append(entry)
            result.alerts.extend(_feature_alerts(entry, settings))
        result.score = _score_drift(con, paths.scores_dir, model_metadata, settings)
    if result.score.get("alert"):
        result.alerts.append(
            f"score: PSI {result.score['psi']:.3f} > {settings.psi_threshold} "
            f"(scores of {result.score['latest']} vs {result.score['reference']})"
        )
    return result


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _feature_drift(
    con: duckdb.DuckDBPyConnection, name: str, feast_type: str, per_date: bool, s: DriftSettings
) -> dict:
    column = f'"{name}"'
    (missing_reference,) = con.execute(
        f"SELECT avg(({column} IS NULL)::INT) FROM reference"
    ).fetchone()
    (missing_latest,) = con.execute(f"SELECT avg(({column} IS NULL)::INT) FROM latest").fetchone()
    kind = (
        "per_date" if per_date else "categorical" if feast_type in CATEGORICAL_TYPES else "numeric"
    )
    psi = None if per_date else _psi(con, "reference", "latest", column, kind == "numeric", s)
    entry = {
        "feature": name,
        "kind": kind,
        "psi": psi,
        "missing_reference": missing_reference,
        "missing_latest": missing_latest,
    }
    entry["alert"] = bool(_feature_alerts(entry, s))
    return entry


def _absent(name: str) -> dict:
    return {
        "feature": name,
        "kind": "absent",
        "psi": None,
        "missing_reference": None,
        "missing_latest": None,
        "alert": True,
    }


def _feature_alerts(entry: dict, s: DriftSettings) -> list[str]:
    alerts = []
    if entry["psi"] is not None and entry["psi"] > s.psi_threshold:
        alerts.append(f"{entry['feature']}: PSI {entry['psi']:.3f} > {s.psi_threshold}")
    if entry["missing_latest"] - entry["missing_reference"] > s.missing_increase_threshold:
        alerts.append(
            f"{entry['feature']}: missing {entry['missing_reference']:.1%} -> "
            f"{entry['missing_latest']:.1%} (up more than {s.missing_increase_threshold:.0%})"
        )
    return alerts


def _psi(
    con: duckdb.DuckDBPyConnection,
    reference: str,
    latest: str,
    column: str,
    numeric: bool,
    s: DriftSettings,
) -> float:
    """PSI of `column` between two relations: reference deciles (numeric) or values, + NULL."""
    if numeric:
        (edges,) = con.execute(
            f"SELECT list_sort(list_distinct(quantile_cont({column}, {DECILES}))) FROM {reference}"
        ).fetchone()
        edges = edges or []  # an all-NULL reference: every row in the NULL bin
        # the bin of x: how many edges lie below it, i.e. bins (e[i-1], e[i]]
        below = f"len(list_filter($edges, lambda e: {column} > e))"
        bin_of = f"CASE WHEN {column} IS NULL THEN -1 ELSE {below} END"
        parameters = {"edges": edges}
    else:
        bin_of, parameters = f"{column}::VARCHAR", {}
    (psi,) = con.execute(
        f"""
        WITH counts AS (
            SELECT bin, count(*) FILTER (WHERE side = 0) AS r, count(*) FILTER (WHERE side = 1) AS l
            FROM (
                SELECT 0 AS side, {bin_of} AS bin FROM {reference}
                UNION ALL
                SELECT 1 AS side, {bin_of} AS bin FROM {latest}
            )
            GROUP BY bin
        ),
        shares AS (
            SELECT greatest(r / sum(r) OVER (), $eps) AS r, greatest(l / sum(l) OVER (), $eps) AS l
            FROM counts
        )
        SELECT coalesce(sum((l - r) * ln(l / r)), 0) FROM shares
        """,
        {**parameters, "eps": s.psi_epsilon},
    ).fetchone()
    return float(psi)


def _score_drift(
    con: duckdb.DuckDBPyConnection, scores_dir: Path, metadata: dict, s: DriftSettings
) -> dict:
    """PSI of the newest score snapshot's probabilities against the model's test date's."""
    test_date = date.fromisoformat(str(metadata["as_of_range"]["test"]))
    dated = sorted((scores_dir / SNAPSHOTS_DIR).glob(f"as_of_date=*/{SCORES_FILE}"))
    score = {"reference": test_date.isoformat(), "latest": None, "psi": None, "alert": False}
    if not dated:
        return {**score, "reason": f"no score snapshots in {scores_dir / SNAPSHOTS_DIR}"}
    newest = dated[-1]  # as_of_date=YYYY-MM-DD sorts by date
    score["latest"] = newest.parent.name.removeprefix("as_of_date=")
    reference = snapshot_path(scores_dir, test_date)
    if not reference.is_file():
        return {
            **score,
            "reason": f"the test date was not scored: python -m scoring --as-of {test_date}",
        }
    for side, path in (("reference_scores", reference), ("latest_scores", newest)):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {side} AS "
            f"SELECT probability, model_version FROM read_parquet({_quote(str(path))})"
        )
    version = metadata.get("version")
    if version is not None:
        others = con.execute(
            "SELECT DISTINCT model_version FROM (SELECT model_version FROM reference_scores "
            "UNION ALL SELECT model_version FROM latest_scores) WHERE model_version <> ?",
            [version],
        ).fetchall()
        if others:
            found = sorted(v for (v,) in others)
            return {**score, "reason": f"scored by {found}, not by this model {version}: rescore"}
    psi = _psi(con, "reference_scores", "latest_scores", "probability", True, s)
    return {**score, "psi": psi, "alert": psi > s.psi_threshold}
