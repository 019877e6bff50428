"""How far can features and learners take UCI Online Retail? A study, not a product path.

`python -m bench.uci_feature_study [--workdir DIR]`

Issue #6 asks for mean ROC-AUC ≥ 0.75 over the four backtest dates. The product's features
reach ~0.741–0.743; this script asks whether *any* information in the file closes the gap. It
builds the UCI stack (importer → dbt, monthly and weekly as-of dates), then scores one fixed
XGBoost (the product's parameters) on the product's features plus one candidate family at a
time, each computed point-in-time in DuckDB (only rows dated on or before the as-of date):

* order history beyond the marts: gaps, active 30-day periods, 14/60-day windows, own-gap hazard;
* the last order: its value, lines and units against the customer's average, hour, weekday;
* baskets from the invoice lines the importer aggregates away: lines per order, distinct
  products, units per order, unit prices;
* products: how frequent and how recently active the other buyers of the same products are;
* weekly and monthly purchase histograms (26 weeks, 12 months);
* BG/NBD's P(alive) and P(purchase in 30 d), fitted per as-of date, as features;

and a few learners on the product's features (monotone XGBoost, averaging XGBoost, a forest
and a spline logistic model). Same protocol as `bench.model_quality`: each test date scored by
a model trained only on dates whose label window ended by then, the latest of them left out
for validation as the product does.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score
from xgboost import XGBClassifier

from bench.model_quality import (
    ONLINE_RETAIL,
    ONLINE_RETAIL_MONTH_ENDS,
    ONLINE_RETAIL_WEEKLY,
    online_retail_stack,
)
from bench.model_quality import ONLINE_RETAIL_TEST_DATES as TESTS
from bench.stack import Stack
from ingest.dbt_vars import label_window_days
from modeling.bgnbd import BGNBD, rfm
from modeling.candidates import CANDIDATES
from modeling.dataset import LABEL, split_by_as_of

SQL_DIR = Path(__file__).with_name("sql")
KEYS = ["customer_id", "as_of_date"]
NOT_FEATURES = {"customer_id", "as_of_date", "event_timestamp", LABEL}
CATEGORICAL = {"favourite_category", "preferred_payment_method", "gender", "location"}


def labelled(stack: Stack) -> pd.DataFrame:
    features = pd.read_parquet(stack.features_dir / "customer_features.parquet")
    labels = pd.read_parquet(stack.features_dir / "customer_labels.parquet")
    return features.merge(labels[[*KEYS, LABEL]], on=KEYS)


def family(stack: Stack, name: str) -> pd.DataFrame:
    """One candidate family from bench/sql/<name>.sql, keyed by customer and as-of date."""
    sql = (SQL_DIR / f"{name}.sql").read_text()
    sql = sql.replace("{online_retail}", str(ONLINE_RETAIL))
    sql = sql.replace("{features}", str(stack.features_dir / "customer_features.parquet"))
    con = duckdb.connect(str(stack.root / "warehouse.duckdb"), read_only=True)
    try:
        frame = con.sql(sql).df()
    finally:
        con.close()
    frame["as_of_date"] = pd.to_datetime(frame["as_of_date"]).dt.date
    return frame.astype({c: float for c in frame.columns if c not in KEYS})


def bgnbd_family(frame: pd.DataFrame) -> pd.DataFrame:
    """BG/NBD fitted on each as-of date's own history (no labels), as two features."""
    parts = []
    for _, rows in frame.groupby("as_of_date"):
        model = BGNBD.fit_frame(rows)
        parts.append(
            rows[KEYS].assign(
                bg_p30=model.predict_frame(rows, label_window_days()),
                bg_alive=model.p_alive(*rfm(rows)),
            )
        )
    return pd.concat(parts)


def xgboost(**overrides) -> XGBClassifier:
    """The product's XGBoost (modeling.candidates), with these parameters changed."""
    return CANDIDATES["xgb"].make(np.empty(0), 42).set_params(**overrides)


def backtest(frame: pd.DataFrame, columns: list[str], make=xgboost) -> dict:
    """Mean ROC-AUC and PR-AUC over the four test dates, and each date's: the product's
    split (modeling.dataset.split_by_as_of), fitted on train and scored on the test date."""
    per_date = {}
    for test in TESTS:
        train, _, held = split_by_as_of(frame, 1, label_window_days(), date.fromisoformat(test))
        model = make().fit(train[columns].astype(float), train[LABEL])
        score = model.predict_proba(held[columns].astype(float))[:, 1]
        per_date[test] = (
            roc_auc_score(held[LABEL], score),
            average_precision_score(held[LABEL], score),
        )
    values = np.array(list(per_date.values()))
    return {
        "roc_auc": round(float(values[:, 0].mean()), 4),
        "pr_auc": round(float(values[:, 1].mean()), 4),
        "per_date_roc_auc": [round(float(v), 4) for v in values[:, 0]],
    }


def learners() -> dict:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, SplineTransformer

    class Average:
        def __init__(self, models):
            self.models = models

        def fit(self, x, y):
            self.models = [m.fit(x, y) for m in self.models]
            return self

        def predict_proba(self, x):
            return np.mean([m.predict_proba(x) for m in self.models], axis=0)

    def forest():
        return make_pipeline(
            SimpleImputer(strategy="constant", fill_value=-1, keep_empty_features=True),
            RandomForestClassifier(
                500, min_samples_leaf=30, max_features=0.3, n_jobs=2, random_state=0
            ),
        )

    def splines():
        return make_pipeline(
            FunctionTransformer(lambda x: np.log1p(np.clip(x, 0, None))),
            SimpleImputer(strategy="median", keep_empty_features=True),
            SplineTransformer(n_knots=5),
            LogisticRegression(C=0.1, max_iter=3000),
        )

    monotone = {"recency_days": -1, "orders_30d": 1, "orders_90d": 1, "purchase_days": 1}
    return {
        "XGBoost, monotone in recency and counts": lambda: xgboost(monotone_constraints=monotone),
        "XGBoost, depth 4": lambda: xgboost(max_depth=4),
        "XGBoost, 5 seeds averaged": lambda: Average([xgboost(random_state=s) for s in range(5)]),
        "random forest, 500 trees": forest,
        "logistic regression on splines": splines,
        "average of XGBoost, forest and splines": lambda: Average([xgboost(), forest(), splines()]),
    }


def study(workdir: Path) -> dict:
    out: dict[str, dict] = {}
    for cadence, dates in (("monthly", ONLINE_RETAIL_MONTH_ENDS), ("weekly", ONLINE_RETAIL_WEEKLY)):
        stack = online_retail_stack(workdir / cadence, dates)
        frame = labelled(stack)
        base = [c for c in frame.columns if c not in NOT_FEATURES | CATEGORICAL]
        rows = {"product features": backtest(frame, base)}
        print(f"[{cadence}] product features: {rows['product features']}", flush=True)
        if cadence == "monthly":
            families = {n: family(stack, n) for n in ("history", "last_order", "baskets",
                                                       "products", "histograms")}  # fmt: skip
            families["bgnbd"] = bgnbd_family(frame)
            every = frame
            for name, extra in families.items():
                joined = frame.merge(extra, on=KEYS, how="left")
                every = every.merge(extra, on=KEYS, how="left")
                added = [c for c in extra.columns if c not in KEYS]
                rows[f"+ {name}"] = backtest(joined, base + added)
                print(f"[{cadence}] + {name}: {rows[f'+ {name}']}", flush=True)
            added = [c for c in every.columns if c not in NOT_FEATURES | CATEGORICAL]
            rows["+ every family"] = backtest(every, added)
            for name, make in learners().items():
                rows[name] = backtest(frame, base, make)
                print(f"[{cadence}] {name}: {rows[name]}", flush=True)
        out[cadence] = rows
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.uci_feature_study",
        description="Backtest candidate feature families and learners on UCI Online Retail "
        "(mean ROC-AUC / PR-AUC over the four test dates of issue #6).",
    )
    parser.add_argument("--workdir", type=Path, default=None, help="keep the stacks here")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    args = parser.parse_args(argv)
    if args.workdir:
        result = study(args.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="uci-study-") as tmp:
            result = study(Path(tmp))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
