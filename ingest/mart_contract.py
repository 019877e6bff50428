"""The dbt mart contracts (`dbt_project/models/marts/<model>.yml`), read as data, once.

The marts' columns with their `data_type` are the one schema of the features: dbt enforces
them on DuckDB (`contract: {enforced: true}`), Feast's fields are derived from them
(:mod:`feature_repo.contract`), the Spark backfill derives its output schema from them
(:mod:`backfill.spec`) and the what-if form its inputs. This reader lives in ``ingest``, the
lowest layer, because the backfill ships to a Spark cluster with ``ingest`` and must not depend
on the Feast package.

A column's ``config: {meta: ...}`` (where dbt ≥ 1.10 wants meta, without a warning) carries the
words that say it to a marketer: ``reason`` (a ``str.format`` template over ``value`` and the
row's other columns), ``reason_unknown`` (when the value is missing) and
``same_for_everyone_on_a_date`` (calendar features of the as-of date: never a customer's reason).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml

from ingest.paths import REPO_ROOT

MARTS_DIR = REPO_ROOT / "dbt_project" / "models" / "marts"


@dataclass(frozen=True)
class Column:
    """One contract column. ``data_type`` is DuckDB's type name, lower-cased."""

    name: str
    data_type: str
    description: str
    # the column's dbt data tests as written in the yml (e.g. not_null, accepted_values)
    tests: tuple[Any, ...] = field(default=(), compare=False)
    # the expressions of its `check` constraints, which DuckDB enforces while dbt builds the
    # mart (a failing row stops the build before the Parquet file is written)
    checks: tuple[str, ...] = field(default=(), compare=False)
    # the column's meta (`config: {meta: ...}`, or a top-level `meta` of older projects)
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def reason(self) -> str | None:
        """The words for a customer's value: a template over `value` and other columns."""
        return self.meta.get("reason")

    @property
    def reason_unknown(self) -> str | None:
        """The words when the value is missing (None: a generic "… not known")."""
        return self.meta.get("reason_unknown")

    @property
    def same_for_everyone_on_a_date(self) -> bool:
        """A calendar feature of the as-of date: the same for every customer scored together."""
        return bool(self.meta.get("same_for_everyone_on_a_date", False))

    @property
    def non_negative(self) -> bool:
        """The contract says the column is never below zero (`check: <name> >= 0`)."""
        return f"{self.name} >= 0" in self.checks


@cache
def mart_columns(model: str) -> tuple[Column, ...]:
    """Columns of a dbt mart, in contract order; a column without ``data_type`` is an error."""
    path = MARTS_DIR / f"{model}.yml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    (node,) = [m for m in spec["models"] if m["name"] == model]
    if missing := [c["name"] for c in node["columns"] if not c.get("data_type")]:
        raise ValueError(f"{path}: columns without data_type: {missing}")
    return tuple(
        Column(
            c["name"],
            c["data_type"].lower(),
            c.get("description", "").strip(),
            tuple(c.get("data_tests", [])),
            tuple(k["expression"] for k in c.get("constraints", []) if k.get("type") == "check"),
            {**c.get("meta", {}), **(c.get("config") or {}).get("meta", {})},
        )
        for c in node["columns"]
    )
