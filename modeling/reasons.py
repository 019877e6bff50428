"""Reasons in words: a feature's value said as a marketer would ("Last order 83 days ago").

The words live in the feature contract (dbt_project/models/marts/customer_features.yml,
`config: {meta: {reason: ...}}`, read by ingest.mart_contract), one template per feature over
`value` and the row's other columns. Features that are the same for every customer on a date
(the as-of date's calendar) are never a customer's reason: `customer_reasons` drops them.

The API (one row at a time) and the batch scorer (a DataFrame of top-3 features,
`reason_texts`) use the same templates, so a customer reads the same words everywhere.
"""

from __future__ import annotations

import itertools
import math
import string
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from ingest.mart_contract import Column, mart_columns

MART = "customer_features"
EFFECTS = {"up": "raises the chance", "down": "lowers the chance"}


@cache
def _columns() -> dict[str, Column]:
    return {c.name: c for c in mart_columns(MART)}


@cache
def same_for_everyone() -> frozenset[str]:
    """Features marked `same_for_everyone_on_a_date` in the contract (never a reason)."""
    return frozenset(n for n, c in _columns().items() if c.same_for_everyone_on_a_date)


@cache
def _fields(template: str) -> tuple[str, ...]:
    """The columns a template reads besides `value`."""
    names = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    return tuple(sorted(names - {"value"}))


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _unknown(feature: str, column: Column | None) -> str:
    if column is not None and column.reason_unknown:
        return column.reason_unknown
    return f"{feature.replace('_', ' ').capitalize()} not known"


def reason_text(feature: str, value: Any, row: Mapping[str, Any] | None = None) -> str:
    """The words for one feature's value; `row` gives the other columns a template reads."""
    column = _columns().get(feature)
    template = column.reason if column is not None else None
    if template is None:
        return _unknown(feature, column) if _missing(value) else f"{feature} = {value}"
    others = {name: (row or {}).get(name) for name in _fields(template)}
    if _missing(value) or any(_missing(v) for v in others.values()):
        return _unknown(feature, column)
    try:
        return template.format(value=value, **others)
    except (ValueError, TypeError):  # e.g. a text where the template formats a number
        return f"{feature} = {value}"


def customer_reasons(reasons: Sequence[Any], row: Mapping[str, Any], top: int) -> list[dict]:
    """Reasons (explain.Reason or dicts) without calendar features, at most `top`, as dicts
    with the raw fields plus `text` (the words) and `effect` (raises / lowers the chance)."""
    hidden = same_for_everyone()
    kept = []
    for reason in reasons:
        fields = dict(reason) if isinstance(reason, Mapping) else vars(reason).copy()
        if fields["feature"] in hidden:
            continue
        # the row's raw value, when it has one, says it best (explain's is the model input)
        value = row.get(fields["feature"], fields["value"])
        fields["text"] = reason_text(fields["feature"], value, row)
        fields["effect"] = EFFECTS[fields["direction"]]
        kept.append(fields)
        if len(kept) == top:
            break
    return kept


def _format_columns(template: str, columns: dict[str, list]) -> list[str]:
    """`template.format(**row)` for every row of `columns`, one builtin `format` per field
    (several times faster than a `str.format` call per row). Missing values come out as
    "nan"/"None": the caller replaces those rows."""
    n = len(columns["value"])
    parts: list[Any] = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        if literal:
            parts.append(itertools.repeat(literal, n))
        if name is not None:
            if conversion:
                raise ValueError("conversions are formatted row by row")
            parts.append(["" if v is None else format(v, spec or "") for v in columns[name]])
    if not parts:
        return [""] * n
    return ["".join(row) for row in zip(*parts, strict=False)]  # literals repeat forever


def reason_texts(frame: pd.DataFrame, features: Sequence[str] | pd.Series) -> list[str]:
    """`reason_text` for every row of `frame`, feature `features[i]` for row i, vectorised by
    feature: one template, its columns as lists and one missing mask per group (the batch
    scorer's top-k reasons over a million rows). The words equal `reason_text`'s."""
    names = np.asarray(list(features), dtype=object)
    out = np.empty(len(frame), dtype=object)
    for feature in pd.unique(names):
        where = np.flatnonzero(names == feature)
        column = _columns().get(feature)
        template = column.reason if column is not None else None
        fields = [feature, *(_fields(template) if template else ())]
        fields = [f for f in dict.fromkeys(fields) if f in frame.columns]
        part = frame.iloc[where]
        values = part[feature].tolist() if feature in frame.columns else [None] * len(where)
        if template is None or len(fields) < len(dict.fromkeys([feature, *_fields(template)])):
            rows = part[fields].to_dict("records") if fields else [{}] * len(where)
            out[where] = [reason_text(feature, v, r) for v, r in zip(values, rows, strict=True)]
            continue
        missing = part[fields].isna().any(axis=1).to_numpy()
        columns = {"value": values, **{f: part[f].tolist() for f in fields[1:]}}
        try:
            words = _format_columns(template, columns)
        except (ValueError, TypeError):  # a value the template cannot format: row by row
            rows = part[fields].to_dict("records")
            words = [reason_text(feature, v, r) for v, r in zip(values, rows, strict=True)]
        unknown = _unknown(feature, column)
        words = [unknown if m else w for m, w in zip(missing.tolist(), words, strict=True)]
        out[where] = words
    return out.tolist()
