"""Customer ids: the one normalisation rule, for Python (the API, the Spark backfill, tests).

The rule's settings live in one place, the ``customer_id_*`` vars of ``dbt_project.yml``, and
dbt staging applies them in SQL (``dbt_project/macros/customer_id.sql``). Both sides use only
operations that mean the same thing in DuckDB, Python and Spark: trim a set of code points
from both ends, compare lower-cased text with ASCII markers, count code points, look for a
control character. So an id that staging accepts is exactly an id the API can look up, and an
id the API refuses was rejected by staging with the same reason.

Case and inner spaces are kept: ``"K 005"`` and ``"k 005"`` are two customers, as they are in
the user's own system. Reasons match the rejects model: ``missing_customer_id`` (empty, or a
spreadsheet's "NULL"/"N/A"/"nan"…) and ``invalid_customer_id`` (too long, control characters).

Null markers are matched only against ASCII ids: the markers are ASCII, and DuckDB's
``lower()`` folds a few non-ASCII letters to ASCII ("İ" → "i") where Python and Java do not,
so "nİl" would otherwise be missing in the warehouse and a customer in the API. Control
characters are Unicode's Cc category: C0, DEL and C1 (U+0080–U+009F).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ingest.dbt_vars import dbt_vars

MISSING = "missing_customer_id"
INVALID = "invalid_customer_id"

# The same pattern string is used by DuckDB (RE2), Java (Spark) and Python's re.
CONTROL_CHARACTER_PATTERN = r"[\x00-\x1F\x7F-\x9F]"
_CONTROL = re.compile(CONTROL_CHARACTER_PATTERN)


class InvalidCustomerId(ValueError):
    """A customer id that staging rejects, so no customer can have it."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class CustomerIdRule:
    trim_chars: str
    null_markers: frozenset[str]
    max_length: int

    @classmethod
    def from_vars(cls, variables: dict) -> CustomerIdRule:
        markers = variables["customer_id_null_markers"]
        if not all(str(m).isascii() for m in markers):
            # a non-ASCII marker could never match (markers are compared with ASCII ids only)
            raise ValueError(f"customer_id_null_markers must be ASCII: {markers}")
        return cls(
            trim_chars="".join(chr(cp) for cp in variables["customer_id_trim_codepoints"]),
            null_markers=frozenset(m.lower() for m in variables["customer_id_null_markers"]),
            max_length=int(variables["customer_id_max_length"]),
        )

    def reject_reason(self, raw: str | None) -> str | None:
        """Why ``raw`` cannot be a customer's id, or None when it can."""
        if raw is None:
            return MISSING
        candidate = raw.strip(self.trim_chars)
        if not candidate or (candidate.isascii() and candidate.lower() in self.null_markers):
            return MISSING
        if len(candidate) > self.max_length or _CONTROL.search(candidate):
            return INVALID
        return None

    def normalize(self, raw: str) -> str:
        """The id as staging stores it, or InvalidCustomerId with a message for a person."""
        if not isinstance(raw, str):
            raise InvalidCustomerId(INVALID, "customer_id must be a string")
        reason = self.reject_reason(raw)
        if reason == MISSING:
            raise InvalidCustomerId(reason, "customer_id is empty or a placeholder for no id")
        if reason == INVALID:
            raise InvalidCustomerId(
                reason,
                f"customer_id must be at most {self.max_length} characters, "
                "with no control characters",
            )
        return raw.strip(self.trim_chars)


@cache
def rule() -> CustomerIdRule:
    """The rule as dbt_project.yml states it (read once per process)."""
    return CustomerIdRule.from_vars(dbt_vars())


def normalize_customer_id(raw: str) -> str:
    """The stored form of ``raw`` under the project's rule; InvalidCustomerId if it has none."""
    return rule().normalize(raw)
