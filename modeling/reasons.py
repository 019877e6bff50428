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
import re
import string
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from ingest.mart_contract import Column, mart_columns

MART = "customer_features"
EFFECTS = {"up": "raises the chance", "down": "lowers the chance"}
# the contract's templates say counts in the plural ("{value:.0f} days ago"); the words agree
# with the number once it is known: 0/1 days ago, 1 orders, 1 categories, 1 different days
_AGO = [(re.compile(r"(?<![\d.,])\b0 days ago\b"), "today"),
        (re.compile(r"(?<![\d.,])\b1 days ago\b"), "yesterday")]  # fmt: skip
_ONE = re.compile(r"(?<![\d.,])\b1 (different )?([a-z]+?)(ies|s)\b")


def _agree(text: str) -> str:
    """`text` with the nouns after a count of exactly 1 in the singular, and 0 / 1 days ago
    as today / yesterday."""
    if "0 days ago" in text or "1 " in text:
        for pattern, words in _AGO:
            text = pattern.sub(words, text)
        text = _ONE.sub(lambda m: f"1 {m[1] or ''}{m[2]}{'y' if m[3] == 'ies' else ''}", text)
    return text


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
        return _agree(template.format(value=value, **others))
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


def _distinct(column: pd.Series) -> tuple[np.ndarray, list] | None:
    """(code per row, -1 where missing; the distinct values as `tolist` gives them), or None
    when equal values could read differently: -0.0 beside 0.0, or 1 beside 1.0 and True in a
    column of mixed objects."""
    if column.dtype == object:
        if pd.api.types.infer_dtype(column, skipna=True) != "string":
            return None
    elif column.dtype.kind not in "biuf":  # e.g. a categorical: row by row
        return None
    codes, uniques = pd.factorize(column)
    if column.dtype.kind == "f":
        numbers = column.to_numpy(dtype=np.float64, na_value=np.nan)
        if np.any((numbers == 0) & np.signbit(numbers)):
            return None
    return codes, list(uniques.tolist())


def reason_texts(
    frame: pd.DataFrame, features: Sequence[str] | pd.Series, rows: Sequence[int] | None = None
) -> list[str]:
    """`reason_text` for rows of `frame`, feature `features[i]` for row `rows[i]` (a position;
    default: row i), vectorised by feature and by distinct value: one template, each distinct
    value (or combination of a template's columns) said once, whatever the number of rows
    (the batch scorer's top-k reasons over a million rows). The words equal `reason_text`'s."""
    named, names = pd.factorize(np.asarray(list(features), dtype=object))
    at_all = np.arange(len(named)) if rows is None else np.asarray(rows, dtype=np.int64)
    out = np.empty(len(named), dtype=object)
    for code, feature in enumerate(names.tolist()):
        where = np.flatnonzero(named == code)
        at = at_all[where]
        column = _columns().get(feature)
        template = column.reason if column is not None else None
        wanted = list(dict.fromkeys([feature, *(_fields(template) if template else ())]))
        distinct = None
        if template is not None and all(f in frame.columns for f in wanted):
            distinct = [_distinct(frame[f].iloc[at]) for f in wanted]
        if (
            distinct is None
            or any(d is None for d in distinct)
            or math.prod(len(u) + 1 for _, u in distinct) >= 2**63  # keys would overflow
        ):
            out[where] = _one_at_a_time(frame, feature, at)
            continue
        # one key per combination of the template's columns: (code + 1) in mixed radix
        key = np.zeros(len(at), dtype=np.int64)
        for codes, uniques in distinct:
            key = key * (len(uniques) + 1) + (codes + 1)
        inverse, keys = pd.factorize(key)
        one_row = np.empty(len(keys), dtype=np.int64)
        one_row[inverse] = np.arange(len(inverse))  # a row of each combination
        combos = np.stack([codes for codes, _ in distinct], axis=1)[one_row]
        known = np.flatnonzero((combos >= 0).all(axis=1))
        values = {
            name: [uniques[i] for i in combos[known, j].tolist()]
            for j, (name, (_, uniques)) in enumerate(
                zip(["value", *wanted[1:]], distinct, strict=True)
            )
        }
        try:
            said = [_agree(text) for text in _format_columns(template, values)]
        except (ValueError, TypeError):  # a value the template cannot format: one at a time
            said = [
                reason_text(feature, value, {f: values[f][i] for f in wanted[1:]})
                for i, value in enumerate(values["value"])
            ]
        words = np.full(len(combos), _unknown(feature, column), dtype=object)
        words[known] = said
        out[where] = words[inverse]
    return out.tolist()


def _one_at_a_time(frame: pd.DataFrame, feature: str, at: np.ndarray) -> list[str]:
    """`reason_text` row by row: a feature without a template or missing from the frame, or
    values `_distinct` cannot merge."""
    column = _columns().get(feature)
    template = column.reason if column is not None else None
    wanted = dict.fromkeys([feature, *(_fields(template) if template else ())])
    fields = [f for f in wanted if f in frame.columns]
    part = frame[fields].iloc[at] if fields else None
    values = part[feature].tolist() if feature in frame.columns else [None] * len(at)
    records = part.to_dict("records") if part is not None else [{}] * len(at)
    return [reason_text(feature, v, r) for v, r in zip(values, records, strict=True)]
