"""The Spark point-in-time join gives every label exactly what Feast's `get_historical_features`
(modeling.dataset.training_frame, the local path) gives it, on data built to hit every edge of
the rule: a feature row stamped exactly at the label's time (used), one second after (not
used), exactly the TTL before (used), one second more (not used: nulls), several earlier rows
(the latest wins), customers with no feature row at all (a row of nulls, not a dropped row),
null feature values carried as nulls. Real local Spark, real Feast over Parquet."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backfill.spec import FEATURES_MODEL, contract
from feature_repo.definitions import build
from feature_repo.store import open_store
from modeling.dataset import LABEL, load_labels, training_frame
from spark_pipeline.training_set import FEATURE_TIMESTAMP, feature_names, point_in_time
from tests.backfill.compare import value_differences

TTL = timedelta(days=40)
ARROW = {"bigint": pa.int64(), "double": pa.float64(), "varchar": pa.string(),
         "boolean": pa.bool_()}  # fmt: skip
LABEL_DAYS = [date(2024, 3, 1) + timedelta(days=28 * i) for i in range(6)]


def _value(kind: str, rng: random.Random):
    if rng.random() < 0.1:
        return None
    return {
        "bigint": lambda: rng.randint(-5, 500),
        "double": lambda: rng.uniform(-10, 1e4),
        "varchar": lambda: rng.choice(["north", "south", "électronique", ""]),
        "boolean": lambda: rng.random() < 0.5,
    }[kind]()


def _at(day: date, seconds: int) -> datetime:
    return datetime.combine(day, datetime.min.time()) + timedelta(seconds=seconds)


def _synthetic(folder, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(features, labels) for 120 customers; written as the marts in ``folder``."""
    rng = random.Random(seed)
    columns = [c for c in contract(FEATURES_MODEL) if c.name in set(feature_names())]
    end_of_day = 86_399
    stamps: dict[str, list[datetime]] = {}
    labels = []
    for i in range(120):
        customer = f"C{i:05d}"
        own: list[datetime] = []
        for day in LABEL_DAYS:
            label_at = _at(day, end_of_day)
            labels.append((customer, label_at, day, rng.random() < 0.4, 30))
            case = rng.randrange(9)
            if case == 0:
                own.append(label_at)  # exactly at the label: used
            elif case == 1:
                own.append(label_at + timedelta(seconds=1))  # after it: not used
            elif case == 2:
                own.append(label_at - TTL)  # exactly the TTL before: used
            elif case == 3:
                own.append(label_at - TTL - timedelta(seconds=1))  # just outside: nulls
            elif case in (4, 5):
                # several earlier rows at odd times: the latest wins
                own += [label_at - timedelta(seconds=rng.randint(1, 35 * 86_400)) for _ in "ab"]
            # 6–8: no row of its own; an earlier date's row may still be within the TTL
        if i % 17 == 0:
            own = []  # never any feature row
        stamps[customer] = sorted(set(own))
    rows = [
        {"customer_id": customer, "as_of_date": stamp.date(), "event_timestamp": stamp,
         **{c.name: _value(c.data_type, rng) for c in columns}}
        for customer, own in stamps.items()
        for stamp in own
    ]  # fmt: skip
    schema = pa.schema(
        [("customer_id", pa.string()), ("as_of_date", pa.date32()),
         ("event_timestamp", pa.timestamp("us")), *((c.name, ARROW[c.data_type]) for c in columns)]
    )  # fmt: skip
    features = pa.Table.from_pylist(rows, schema=schema)
    label_table = pa.Table.from_pylist(
        [dict(zip(["customer_id", "event_timestamp", "as_of_date", LABEL, "label_window_days"],
                  r, strict=True)) for r in labels],
        schema=pa.schema([("customer_id", pa.string()), ("event_timestamp", pa.timestamp("us")),
                          ("as_of_date", pa.date32()), (LABEL, pa.bool_()),
                          ("label_window_days", pa.int64())]),
    )  # fmt: skip
    pq.write_table(features, folder / "customer_features.parquet")
    pq.write_table(label_table, folder / "customer_labels.parquet")
    return features.to_pandas(), label_table.to_pandas()


@pytest.mark.slow
def test_spark_join_equals_feast_at_every_edge_of_the_rule(spark, tmp_path):
    marts = tmp_path / "marts"
    marts.mkdir()
    _synthetic(marts)
    definitions = build(marts)
    for view in definitions.views:
        view.ttl = TTL  # a short TTL, so that rows fall out of it on both sides
    store = open_store(data_dir=tmp_path / "feast")
    store.apply(definitions.objects)
    feast = training_frame(store, load_labels(marts / "customer_labels.parquet"))

    labels = spark.read.parquet(str(marts / "customer_labels.parquet"))
    features = spark.read.parquet(str(marts / "customer_features.parquet"))
    ours = point_in_time(labels, features, TTL).toPandas()

    assert len(ours) == len(feast) == len(labels.collect())
    names = feature_names()
    problems = value_differences(
        feast, ours, ["customer_id", "as_of_date", LABEL, *names], set(), limit=3
    )
    assert not problems, "\n".join(problems)
    # the data did reach every case: rows with features, rows with none
    used = ours[FEATURE_TIMESTAMP].notna()
    assert 0.3 < used.mean() < 0.95, used.mean()
    lag = pd.to_datetime(ours.loc[used, "event_timestamp"]) - ours.loc[used, FEATURE_TIMESTAMP]
    assert lag.min() == timedelta(0) and lag.max() == TTL


def test_a_shorter_ttl_changes_the_answer(spark, tmp_path):
    """The TTL is applied, not just carried: the same data joined with half the TTL loses
    rows the full TTL keeps (so the equality above cannot pass with the TTL ignored)."""
    _synthetic(tmp_path)
    labels = spark.read.parquet(str(tmp_path / "customer_labels.parquet"))
    features = spark.read.parquet(str(tmp_path / "customer_features.parquet"))
    full = point_in_time(labels, features, TTL).where(f"{FEATURE_TIMESTAMP} is not null").count()
    half = point_in_time(labels, features, TTL / 2)
    assert half.where(f"{FEATURE_TIMESTAMP} is not null").count() < full
