"""The what-if request body, generated from the dbt mart contract so it cannot drift.

One optional field per feature of the FeatureService (which Feast builds from the same
contract, and which every served model is checked against at load time), typed from the
contract's `data_type`. Ranges come from the contract too: `check: <col> >= 0` constraints give ≥ 0,
`accepted_values` give min/max. Shares (`*_share`) are fractions and the calendar month is
1–12; age is capped at 130 so typos are caught. A field left out or null is "missing" and is
fed to the model the way training saw missing values (NaN for numbers, "__missing__" for
categories).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, create_model

from feature_repo.contract import feature_columns

PYTHON_TYPES: dict[str, type] = {"bigint": int, "double": float, "varchar": str, "boolean": bool}
# Bounds the contract states in words (descriptions) rather than in tests.
EXTRA_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "as_of_month": (1, 12),
    "age": (0, 130),
}
MAX_CATEGORY_LENGTH = 100
# the models read numbers as float32 (XGBoost's DMatrix, the fast path's trees): a larger
# magnitude becomes inf, which XGBoost refuses with an error (a 500 before this bound)
LARGEST_NUMBER = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class FeatureInput:
    """One what-if input: what the form shows and what the body model checks."""

    name: str
    data_type: str
    description: str
    minimum: float | None
    maximum: float | None

    @property
    def kind(self) -> str:
        return {"bigint": "integer", "double": "number", "varchar": "text"}.get(
            self.data_type, "boolean"
        )


def _bounds(
    name: str, tests: tuple[Any, ...], non_negative: bool
) -> tuple[float | None, float | None]:
    low, high = EXTRA_BOUNDS.get(name, (None, None))
    if non_negative:
        low = 0 if low is None else max(low, 0)
    for test in tests:
        if isinstance(test, dict) and "accepted_values" in test:
            values = test["accepted_values"].get("arguments", test["accepted_values"])["values"]
            low, high = min(values), max(values)
    if name.endswith("_share"):
        low, high = 0, 1
    return low, high


@cache
def feature_inputs() -> tuple[FeatureInput, ...]:
    inputs = []
    for column in feature_columns():
        low, high = _bounds(column.name, column.tests, column.non_negative)
        inputs.append(FeatureInput(column.name, column.data_type, column.description, low, high))
    return tuple(inputs)


def _field(feature: FeatureInput) -> tuple[Any, Any]:
    python_type = PYTHON_TYPES[feature.data_type]
    constraints: dict[str, Any] = {"description": feature.description}
    if python_type in (int, float):
        low = -LARGEST_NUMBER if feature.minimum is None else feature.minimum
        high = LARGEST_NUMBER if feature.maximum is None else feature.maximum
        constraints.update(ge=python_type(low), le=python_type(high))
    if python_type is float:
        constraints["allow_inf_nan"] = False
    if python_type is str:
        constraints.update(min_length=1, max_length=MAX_CATEGORY_LENGTH)
    return (python_type | None, Field(default=None, **constraints))


@cache
def feature_values_model() -> type[BaseModel]:
    """The pydantic model of POST /predict/features: every feature optional, unknown refused."""
    return create_model(
        "FeatureValues",
        __config__=ConfigDict(extra="forbid", strict=False),
        __doc__="Raw feature values for what-if scoring. Leave a feature out to treat it as "
        "missing (as training did). Unknown field names are refused.",
        **{f.name: _field(f) for f in feature_inputs()},
    )
