"""Reasons in words: a feature's value said as a marketer would ("Last order 83 days ago").

The words live in the feature contract (dbt_project/models/marts/customer_features.yml,
`config: {meta: {reason: ...}}`, read by ingest.mart_contract), one template per feature over
`value` and the row's other columns. Features that are the same for every customer on a date
(the as-of date's calendar) are never a customer's reason: `customer_reasons` drops them.

The API (one row at a time) and the batch scorer (a DataFrame of top-3 features,
`reason_texts`) use the same templates, so a customer reads the same words everywhere.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

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


def reason_texts(frame: pd.DataFrame, features: Sequence[str] | pd.Series) -> list[str]:
    """`reason_text` for every row of `frame`, feature `features[i]` for row i, vectorised by
    feature (one template per group): the batch scorer's top-k reasons over a million rows."""
    features = pd.Series(list(features), index=frame.index)
    out = pd.Series("", index=frame.index, dtype=object)
    for feature, index in features.groupby(features, sort=False).groups.items():
        column = _columns().get(feature)
        template = column.reason if column is not None else None
        needed = [feature, *(_fields(template) if template else ())]
        needed = [n for n in dict.fromkeys(needed) if n in frame.columns]
        records = frame.loc[index, needed].to_dict("records")
        out.loc[index] = [reason_text(feature, r.get(feature), r) for r in records]
    return out.tolist()
