"""Realized quality: the batch scores of past as-of dates against what the customers then did.

A score snapshot (``<SCORES_DIR>/snapshots/as_of_date=T/customer_scores.parquet``, written by
`python -m scoring`) can be judged once T's label window has closed, i.e. once dbt's
customer_labels mart has rows for T (it holds only fully observed windows). The snapshot, the
labels and the features mart are joined in DuckDB on (customer_id, as_of_date), one as-of
date at a time so memory is bounded by one date's customers, and the same rows are scored
three ways: the model's probability as it was served, the recency baseline and BG/NBD with the
parameters the scoring model was trained beside (its metrics.json), both computed from the
features mart exactly as training computed them for its test date. So on the model's own test
date the realized metrics are the training report's test metrics, and on later dates they
say whether the model still earns its place over the baselines.

Metrics per as-of date, per ISO week of the as-of date (dates of one week pooled) and, within
each, per tier: rows, ROC-AUC, PR-AUC and, for probabilities, Brier score, mean predicted vs
observed rate, the expected calibration error and an equal-width reliability table.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import groupby
from pathlib import Path

import duckdb
import numpy as np
from tqdm import tqdm

from ingest.mart_contract import mart_columns
from ingest.paths import PipelinePaths
from modeling.baselines import BGNBD_KEY, RECENCY, recency_score
from modeling.bgnbd import BGNBD, PARAMETERS
from modeling.decision import TIERS
from modeling.evaluate import ranking_metrics
from scoring.schema import SCORES_FILE, SNAPSHOTS_DIR

log = logging.getLogger("monitoring")

LABELS_MART = "customer_labels"
FEATURES_MART = "customer_features"
KEYS = ("customer_id", "as_of_date")
WINDOW_COLUMN = "label_window_days"
# not the label: the keys, the Feast timestamp and the window (the contract's other columns)
NOT_LABEL = (*KEYS, "event_timestamp", WINDOW_COLUMN)
# what the baselines read from the features mart (recency; BG/NBD's x, t_x, T: modeling.bgnbd.rfm)
BASELINE_INPUTS = ("recency_days", "tenure_days", "purchase_days")
MODEL = "model"
# display names; recency is a ranking score, not a probability: no Brier, no calibration
NAMES = {
    MODEL: "Model (as scored)",
    RECENCY: "Baseline: recency only",
    BGNBD_KEY: "Baseline: BG/NBD",
}
PROBABILITIES = (MODEL, BGNBD_KEY)


class MonitorError(RuntimeError):
    """Nothing to monitor, or inputs that cannot be compared; the message says what to run."""


def _number(value: float) -> float | None:
    """A metric for JSON: NaN (one class only, an empty bin) becomes null."""
    value = float(value)
    return None if math.isnan(value) else value


# ---- the inputs ---------------------------------------------------------------------------


def snapshot_files(scores_dir: Path) -> dict[date, Path]:
    """Every score snapshot by as-of date (from the folder name the scorer writes)."""
    found = {}
    for path in sorted((scores_dir / SNAPSHOTS_DIR).glob(f"as_of_date=*/{SCORES_FILE}")):
        try:
            found[date.fromisoformat(path.parent.name.removeprefix("as_of_date="))] = path
        except ValueError:
            log.warning("ignoring %s: not an as_of_date=YYYY-MM-DD folder", path.parent)
    return found


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def mart_relation(features_dir: Path, mart: str) -> str | None:
    """DuckDB's read of a mart: dbt's single Parquet file or a backfill's partitioned folder
    (``<mart>/as_of_date=…/``); None when neither is there. Realized quality and drift both
    read the marts through here."""
    single = features_dir / f"{mart}.parquet"
    if single.is_file():
        return f"read_parquet({_quote(single)})"
    folder = features_dir / mart
    if folder.is_dir():
        return f"read_parquet({_quote(folder / '**' / '*.parquet')}, hive_partitioning = true)"
    return None


def label_column() -> str:
    """The label named by the customer_labels contract: its one column that is not a key,
    the timestamp or the window (``repeat_30d``)."""
    names = [c.name for c in mart_columns(LABELS_MART) if c.name not in NOT_LABEL]
    if len(names) != 1:
        raise MonitorError(f"the {LABELS_MART} contract has no single label column: {names}")
    return names[0]


def _check_columns(con: duckdb.DuckDBPyConnection, relation: str, needed: Iterable[str]) -> None:
    present = {row[0] for row in con.sql(f"describe select * from {relation}").fetchall()}
    if missing := [c for c in needed if c not in present]:
        raise MonitorError(
            f"{relation} lacks {missing} of its contract: rebuild the marts (make features)"
        )


@dataclass(frozen=True)
class ModelRecord:
    """What monitoring reads of a model version: its training-time facts, never its code."""

    version: str
    test_as_of: date | None
    test_metrics: dict
    window_days: int | None
    bgnbd: BGNBD | None

    @classmethod
    def read(cls, directory: Path) -> ModelRecord | None:
        try:
            meta = json.loads((directory / "metadata.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        try:
            metrics = json.loads((directory / "metrics.json").read_text(encoding="utf-8"))
            params = metrics["baselines"][BGNBD_KEY]["parameters"]
            bgnbd = BGNBD(
                **{p: float(params[p]) for p in PARAMETERS},
                log_likelihood=float(params["log_likelihood"]),
                converged=bool(params["converged"]),
                at_bound=tuple(params["at_bound"]),
                rows=int(params["rows"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            bgnbd = None
        test = (meta.get("as_of_range") or {}).get("test")
        return cls(
            version=str(meta.get("version", directory.name)),
            test_as_of=date.fromisoformat(test) if isinstance(test, str) else None,
            test_metrics={
                k: meta.get("metrics", {}).get(k) for k in ("roc_auc", "pr_auc", "brier", "rows")
            },
            window_days=meta.get("label_window_days"),
            bgnbd=bgnbd,
        )


# ---- metrics ------------------------------------------------------------------------------


def reliability_table(y: np.ndarray, p: np.ndarray, bins: int) -> list[dict]:
    """Equal-width probability bins: rows, mean predicted and observed rate of each."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1], right=False), 0, bins - 1)
    table = []
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        table.append(
            {
                "lower": float(edges[b]),
                "upper": float(edges[b + 1]),
                "rows": n,
                "mean_predicted": float(p[mask].mean()) if n else None,
                "observed_rate": float(y[mask].mean()) if n else None,
            }
        )
    return table


def score_metrics(y: np.ndarray, score: np.ndarray, probability: bool, bins: int) -> dict:
    """ROC-AUC and PR-AUC for any score; Brier and calibration for a probability."""
    out = {k: _number(v) for k, v in ranking_metrics(y, score).items()}
    if probability and len(y):
        table = reliability_table(y, score, bins)
        gap = sum(
            r["rows"] * abs(r["mean_predicted"] - r["observed_rate"]) for r in table if r["rows"]
        )
        out |= {
            "brier": float(np.mean((score - y) ** 2)),
            "mean_predicted": float(score.mean()),
            "observed_rate": float(y.mean()),
            # expected calibration error: the row-weighted |predicted − observed| over the bins
            "calibration_error": gap / len(y),
            "reliability": table,
        }
    return out


@dataclass
class Rows:
    """Joined rows of one or more as-of dates: label, tier and every score of each customer."""

    y: np.ndarray
    tier: np.ndarray
    scores: dict[str, np.ndarray]

    def where(self, mask: np.ndarray) -> Rows:
        return Rows(self.y[mask], self.tier[mask], {k: v[mask] for k, v in self.scores.items()})

    @staticmethod
    def pooled(parts: list[Rows]) -> Rows:
        names = set.intersection(*(set(p.scores) for p in parts))
        return Rows(
            np.concatenate([p.y for p in parts]),
            np.concatenate([p.tier for p in parts]),
            {n: np.concatenate([p.scores[n] for p in parts]) for n in NAMES if n in names},
        )


def evaluate(rows: Rows, bins: int) -> dict:
    """The metrics of every score on these rows, overall and per tier."""

    def block(r: Rows) -> dict:
        return {
            "rows": len(r.y),
            "observed_rate": _number(r.y.mean()) if len(r.y) else None,
            "scores": {
                name: score_metrics(r.y, s, name in PROBABILITIES, bins)
                for name, s in r.scores.items()
            },
        }

    tiers = [
        {"tier": t, **block(rows.where(rows.tier == t))} for t in TIERS if (rows.tier == t).any()
    ]
    return {**block(rows), "tiers": tiers}


# ---- the run ------------------------------------------------------------------------------


@dataclass
class Realized:
    """Realized quality of every snapshot whose window closed; the others are pending."""

    window_days: int | None
    by_as_of_date: list[dict] = field(default_factory=list)
    by_week: list[dict] = field(default_factory=list)
    pending: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "label_window_days": self.window_days,
            "by_as_of_date": self.by_as_of_date,
            "by_week": self.by_week,
            "pending": self.pending,
            "notes": self.notes,
        }


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


class _Reader:
    """One DuckDB connection over the snapshots, the labels and the features marts."""

    def __init__(self, paths: PipelinePaths) -> None:
        self.paths = paths
        labels = mart_relation(paths.features_dir, LABELS_MART)
        if labels is None:
            raise MonitorError(
                f"no {LABELS_MART} mart in {paths.features_dir}: nothing to compare the scores "
                "with; build the marts first (make features)"
            )
        self.labels = labels
        self.features = mart_relation(paths.features_dir, FEATURES_MART)
        self.label = label_column()
        self.con = duckdb.connect()
        _check_columns(self.con, labels, (*KEYS, self.label, WINDOW_COLUMN))
        if self.features is not None:
            _check_columns(self.con, self.features, (*KEYS, *BASELINE_INPUTS))
        self.models: dict[str, ModelRecord | None] = {}

    def model(self, version: str) -> ModelRecord | None:
        if version not in self.models:
            self.models[version] = ModelRecord.read(self.paths.models_dir / version)
        return self.models[version]

    def labelled(self, dates: list[date]) -> dict[date, tuple[int, list[int]]]:
        """Rows and window lengths of the labels of these dates (those with any)."""
        if not dates:
            return {}
        found = self.con.execute(
            f"select as_of_date, count(*), list(distinct {WINDOW_COLUMN}) from {self.labels} "
            "where as_of_date in (select unnest(?::date[])) group by 1",
            [dates],
        ).fetchall()
        return {d: (n, sorted(w)) for d, n, w in found}

    def rows(self, day: date, snapshot: Path, window: int) -> tuple[Rows, list[str], list[str]]:
        """The snapshot of `day` joined to its labels and features: (rows, versions, notes)."""
        baseline = ", ".join(f"f.{c}" for c in BASELINE_INPUTS)
        join = (
            f"left join {self.features} f on f.customer_id = s.customer_id "
            "and f.as_of_date = s.as_of_date"
            if self.features
            else ""
        )
        frame = self.con.execute(
            f"""
            select s.model_version, s.probability, s.tier, l.{self.label} as label
                   {", " + baseline if self.features else ""}
            from read_parquet({_quote(snapshot)}) s
            join (select * from {self.labels} where as_of_date = ?) l
              on l.customer_id = s.customer_id and l.as_of_date = s.as_of_date
            {join}
            where s.as_of_date = ?
            """,
            [day, day],
        ).df()
        versions = sorted(frame["model_version"].unique())
        rows = Rows(
            frame["label"].to_numpy(int),
            frame["tier"].to_numpy(object),
            {MODEL: frame["probability"].to_numpy(float)},
        )
        notes = []
        if not self.features or frame[list(BASELINE_INPUTS)].isna().all(axis=1).any():
            notes.append(f"{day}: baselines left out (customers missing from {FEATURES_MART})")
            return rows, versions, notes
        rows.scores[RECENCY] = recency_score(frame)
        bgnbd = np.full(len(frame), np.nan)
        for version in versions:
            record, mask = self.model(version), (frame["model_version"] == version).to_numpy()
            if record is not None and record.bgnbd is not None:
                bgnbd[mask] = record.bgnbd.predict_frame(frame[mask], window)
        if np.isnan(bgnbd).any():
            notes.append(f"{day}: BG/NBD left out (no stored parameters for {versions})")
        else:
            rows.scores[BGNBD_KEY] = bgnbd
        return rows, versions, notes


def _one_date(
    reader: _Reader, day: date, snapshot: Path, window: int, bins: int, notes: list[str]
) -> tuple[Rows, dict]:
    """One closed as-of date: its joined rows and its entry in ``by_as_of_date``."""
    rows, versions, date_notes = reader.rows(day, snapshot, window)
    notes += date_notes
    records = {v: reader.model(v) for v in versions}
    for version, record in records.items():
        if record and record.window_days not in (None, window):
            raise MonitorError(
                f"model {version} predicts a {record.window_days}-day window but the labels "
                f"are {window}-day: rebuild the marts with its label_window_days"
            )
    log.info("%s: %s labelled customers scored by %s", day, f"{len(rows.y):,}", versions)
    entry = {
        "as_of_date": day.isoformat(),
        "iso_week": iso_week(day),
        "label_window_closed_on": (day + timedelta(days=window)).isoformat(),
        "model_versions": versions,
        # the training report's test metrics, when this date was the scoring model's test date
        "training_test_metrics": {
            v: r.test_metrics for v, r in records.items() if r and r.test_as_of == day
        },
        **evaluate(rows, bins),
    }
    return rows, entry


def realized_quality(paths: PipelinePaths, bins: int = 10, progress: bool = True) -> Realized:
    """Join every closed snapshot with its labels and measure it (see the module docstring).

    Raises MonitorError when there are no snapshots or no labels mart, or when the labels'
    window is not the one the scoring model predicts.
    """
    snapshots = snapshot_files(paths.scores_dir)
    if not snapshots:
        raise MonitorError(
            f"no score snapshots under {paths.scores_dir / SNAPSHOTS_DIR}: score first "
            "(python -m scoring, make score; --as-of YYYY-MM-DD scores a past date)"
        )
    reader = _Reader(paths)
    labelled = reader.labelled(list(snapshots))
    windows = {w for _, ws in labelled.values() for w in ws}
    if len(windows) > 1:
        raise MonitorError(f"the labels mix label windows {sorted(windows)}: rebuild the marts")
    window = windows.pop() if windows else None
    result = Realized(window)
    for day, path in snapshots.items():
        if day not in labelled:
            rows = reader.con.execute(f"select count(*) from read_parquet({_quote(path)})")
            result.pending.append(
                {"as_of_date": day.isoformat(), "rows": rows.fetchone()[0], "reason": (
                    "label window not closed yet (no labels for this date)"
                )}
            )  # fmt: skip
    dates = [d for d in snapshots if d in labelled]
    bar = tqdm(total=len(dates), desc="monitoring", unit="date", disable=not progress)
    # dates are sorted, so a week's dates are together: one week's rows in memory at a time
    for week, days in groupby(dates, key=iso_week):
        parts = []
        for day in days:
            rows, entry = _one_date(reader, day, snapshots[day], window, bins, result.notes)
            result.by_as_of_date.append(entry)
            parts.append((day, rows, entry))
            bar.update()
        pooled = (
            parts[0][2]
            if len(parts) == 1
            else evaluate(Rows.pooled([rows for _, rows, _ in parts]), bins)
        )
        keep = ("rows", "observed_rate", "scores", "tiers")
        result.by_week.append(
            {
                "iso_week": week,
                "as_of_dates": [d.isoformat() for d, _, _ in parts],
                **{k: pooled[k] for k in keep},
            }
        )
    bar.close()
    return result
