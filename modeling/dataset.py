"""The point-in-time training set: dbt's labels as the entity dataframe, features from Feast.

Each label row (customer, as-of T, repeat_30d) is joined by Feast to the feature row stamped
at T, so no feature can come from after T. The feature list is the FeatureService's: the
same one serving reads.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from feast import FeatureStore

from feature_repo.contract import FEATURE_SERVICE
from feature_repo.fingerprint import service_fields
from feature_repo.store import feature_service
from ingest.dbt_vars import label_window_days as dbt_label_window_days
from modeling.feature_spec import FeatureSpec

LABEL = "repeat_30d"


def feature_spec(store: FeatureStore) -> FeatureSpec:
    """Read the FeatureService from the registry: names and Feast types of every feature."""
    types = dict(service_fields(store))
    categorical = tuple(n for n, t in types.items() if t == "String")
    numeric = tuple(n for n in types if n not in categorical)
    return FeatureSpec(FEATURE_SERVICE, numeric, categorical, types)


def read_labels(labels_path: Path) -> pa.Table:
    """dbt's customer_labels (a file, or a backfill's partitioned folder) as Arrow: compact
    enough to sample millions of rows before any becomes a pandas row."""
    return pq.read_table(labels_path)


def count_labels(labels_path: Path) -> int:
    """How many label rows there are, from the Parquet footers alone (no row is read)."""
    return ds.dataset(labels_path, format="parquet").count_rows()


def load_labels(labels_path: Path) -> pd.DataFrame:
    """Every label row in pandas (what training joined before it sampled first)."""
    return as_entity_rows(pd.read_parquet(labels_path))


def as_entity_rows(labels: pd.DataFrame) -> pd.DataFrame:
    """Label rows as the entity dataframe wants them: timestamps, and as-of dates as dates."""
    labels["event_timestamp"] = pd.to_datetime(labels["event_timestamp"])
    labels["as_of_date"] = pd.to_datetime(labels["as_of_date"]).dt.date
    return labels


def training_frame(store: FeatureStore, labels: pd.DataFrame) -> pd.DataFrame:
    """Labels joined point-in-time to the FeatureService's features (one row per label)."""
    entity_df = labels[["customer_id", "event_timestamp", "as_of_date", LABEL]]
    service = feature_service(store)
    frame = store.get_historical_features(entity_df=entity_df, features=service).to_df()
    if len(frame) != len(entity_df):
        raise RuntimeError(
            f"Feast returned {len(frame)} rows for {len(entity_df)} labels: rows were dropped"
        )
    return frame.sort_values(["as_of_date", "customer_id"], kind="stable").reset_index(drop=True)


def split_dates(
    dates: list[date],
    validation_dates: int,
    label_window_days: int | None = None,
    test_as_of: date | None = None,
) -> tuple[list[date], list[date], date]:
    """(training dates, validation dates, test date) of `split_by_as_of`, from the dates alone:
    training samples its label rows by them before any feature is joined."""
    if label_window_days is None:
        label_window_days = dbt_label_window_days()
    dates = sorted(dates)
    if test_as_of is not None:
        if test_as_of not in dates:
            raise ValueError(f"no labelled rows at as-of date {test_as_of}; have {dates}")
        dates = [d for d in dates if d <= test_as_of]
    test_date = dates[-1]
    known = [d for d in dates[:-1] if d + timedelta(days=label_window_days) <= test_date]
    if len(known) < validation_dates + 1:
        raise ValueError(
            f"need at least {validation_dates + 1} labelled as-of dates whose label window "
            f"ends by {test_date}, have {len(known)}"
        )
    return known[:-validation_dates], known[-validation_dates:], test_date


def split_by_as_of(
    frame: pd.DataFrame,
    validation_dates: int,
    label_window_days: int | None = None,
    test_as_of: date | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train on the older as-of dates, validate on the next ones, test on the latest.

    Never random rows across time: a random split lets the model see the future of the very
    customers it is tested on. Train and validation dates must also have their whole label
    window on or before the test date, so nothing learned depends on what happened after it.
    test_as_of picks an earlier test date (a backtest); dates after it are ignored.
    label_window_days defaults to dbt's var of that name (the window the labels were built with).
    """
    train_dates, validation, test_date = split_dates(
        list(frame["as_of_date"].unique()), validation_dates, label_window_days, test_as_of
    )
    return split_on(frame, train_dates, validation, test_date)


def split_on(
    frame: pd.DataFrame, train_dates: list[date], validation: list[date], test_date: date
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The rows of the given training, validation and test dates."""
    train = frame[frame["as_of_date"].isin(train_dates)]
    valid = frame[frame["as_of_date"].isin(validation)]
    test = frame[frame["as_of_date"] == test_date]
    return train, valid, test


def at_most(frame: pd.DataFrame, rows: int | None, seed: int) -> pd.DataFrame:
    """A seeded random sample of `rows` rows, kept in their original order; all if fewer."""
    if not rows or len(frame) <= rows:
        return frame
    return frame.sample(n=rows, random_state=seed).sort_index()
