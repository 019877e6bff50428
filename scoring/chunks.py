"""One chunk of customer_features rows → customer_scores rows, vectorised.

The model path is the API's (api.scoring.score_rows): the compiled fast path
(modeling.fast_path.FastModel: numpy preprocessing, the booster, the isotonic calibrator and
the explainer's per-feature contributions) when the model compiles, else the libraries
(LoadedModel.predict_proba and modeling.explain.contributions). Only the per-row Python the
API spends on a handful of rows (a dict per row, a Reason object per reason) is replaced by
whole-column numpy, so a million customers take seconds, not an hour, with the same numbers:
probabilities rounded to 6 decimals as the API rounds them, the top reasons in the
explainer's order (largest push first, ties by feature order, zero pushes never a reason).

The local command (scoring.score_all) and the Spark job (scoring.spark_job, mapInPandas) both
call `ChunkScorer.score`, so the two can only differ in how rows reach it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from modeling.artifact import LoadedModel
from modeling.explain import MISSING, NOT_AVAILABLE, Explainer, contributions
from modeling.fast_path import FastModel, compile_or_none
from scoring.bands import BANDED, band_labels
from scoring.decisions import Decider
from scoring.schema import SCHEMA

log = logging.getLogger("scoring")

TOP_REASONS = 3  # reason_1 … reason_3 in the schema
SEGMENT_VALUES = ("favourite_category", "preferred_payment_method", "location")
SEGMENT_NUMBERS = {"avg_order_value": "float64", "orders_count": "Int64", "recency_days": "Int64"}


def _numbers(frame: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray:
    """n × len(names) float64, NaN for missing: pd.to_numeric(errors='coerce') per column,
    as modeling.preprocess.as_model_input and the fast path's _as_number read them."""
    out = np.empty((len(frame), len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        column = frame[name] if name in frame else pd.Series([None] * len(frame), dtype=object)
        if column.dtype == object:  # as_model_input's rule for mixed values
            out[:, j] = pd.to_numeric(column, errors="coerce").astype(np.float64)
        else:
            out[:, j] = column.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _categories(frame: pd.DataFrame, names: tuple[str, ...]) -> list[list[str]]:
    """Per categorical feature, its values as strings, missing as "__missing__"."""
    result = []
    for name in names:
        if name not in frame:
            result.append([MISSING] * len(frame))
            continue
        values = frame[name].astype(object)
        result.append(values.where(values.notna(), MISSING).astype(str).tolist())
    return result


def round6(probabilities: np.ndarray) -> np.ndarray:
    """Python's `round(p, 6)` for each probability, as the API rounds them, in numpy.

    rint(p·1e6)/1e6 is Python's answer whenever p·1e6 rounds to the same integer: the division
    of an exact integer by 1e6 is the nearest double to the decimal, which is what `round`
    returns. The product is off by at most ~1e-10, so only values within 1e-6 of a half
    (about 2 in a million, np.round's trouble) are rounded by Python itself."""
    p = np.asarray(probabilities, dtype=np.float64)
    scaled = p * 1e6
    rounded = np.rint(scaled) / 1e6
    for i in np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6).tolist():
        rounded[i] = round(float(p[i]), 6)
    return rounded


@dataclass
class ChunkScorer:
    """A loaded model (and its fast path, if it compiled) ready to score chunks."""

    model: LoadedModel
    fast: FastModel | None
    decider: Decider

    @classmethod
    def for_model(cls, model: LoadedModel) -> ChunkScorer:
        return cls(model, compile_or_none(model, "scored"), Decider.for_model(model))

    @property
    def path(self) -> str:
        return "fast" if self.fast is not None else "library"

    def probabilities_and_pushes(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """Calibrated probabilities, and contributions per feature (rows × spec.names) or
        None when the model has no decomposition."""
        spec = self.model.spec
        if self.fast is not None:
            fast = self.fast
            numbers = _numbers(frame, fast.preprocessor.numeric)
            categories = _categories(frame, fast.preprocessor.categorical)
            matrix = fast.preprocessor.transform(numbers, categories)
            probabilities = np.clip(fast.calibrator(fast.raw_score(matrix)), 0.0, 1.0)
            explainer = fast.explainer
            if explainer.method == NOT_AVAILABLE:
                return probabilities, None
            return probabilities, explainer.per_feature(matrix)
        inputs = frame.reindex(columns=list(spec.names))
        probabilities = self.model.predict_proba(inputs)
        if Explainer(self.model).method == NOT_AVAILABLE:
            return probabilities, None
        _, pushes = contributions(self.model, inputs)
        return probabilities, pushes.to_numpy(dtype=np.float64)

    def score(self, frame: pd.DataFrame, scored_at: datetime) -> pd.DataFrame:
        """customer_scores rows (columns and order of scoring.schema.SCHEMA) for `frame`,
        one per input row, in input order."""
        n = len(frame)
        probabilities, pushes = self.probabilities_and_pushes(frame)
        rounded = round6(probabilities)
        decision = self.decider.decide(rounded)
        out: dict[str, Any] = {
            "customer_id": frame["customer_id"].astype(str).to_numpy(dtype=object),
            "as_of_date": pd.to_datetime(frame["as_of_date"]).dt.date.to_numpy(dtype=object),
            "model_version": np.full(n, self.model.version, dtype=object),
            "probability": rounded,
            **decision,
        }
        reasons = self.decider.reasons(self.model.spec.names, pushes, frame, TOP_REASONS)
        for k in range(TOP_REASONS):
            out[f"reason_{k + 1}"] = reasons[k]
        for column, feature in BANDED.items():
            out[column] = band_labels(feature, _numbers(frame, (feature,))[:, 0])
        for column in SEGMENT_VALUES:
            out[column] = (
                frame[column].astype(object).where(frame[column].notna(), None).to_numpy()
                if column in frame
                else np.full(n, None, dtype=object)
            )
        for column, dtype in SEGMENT_NUMBERS.items():
            values = _numbers(frame, (column,))[:, 0]
            out[column] = (
                values if dtype == "float64" else pd.array(values, "Float64").astype(dtype)
            )
        out["scored_at"] = pd.Series(pd.Timestamp(scored_at), index=range(n))
        return pd.DataFrame(out, columns=SCHEMA.names)


def to_table(scores: pd.DataFrame) -> pa.Table:
    """The chunk as an Arrow table of exactly SCHEMA (types and nullability checked)."""
    table = pa.Table.from_pandas(scores, schema=SCHEMA, preserve_index=False)
    return table.replace_schema_metadata(None)  # no pandas metadata: readers see SCHEMA
