"""Staging's SQL macros, compiled by dbt from this checkout and run in DuckDB.

The customer-id rule and the order-date parser are dbt macros (dbt_project/macros). Tests
that hold Python (ingest.customer_ids) or Spark (backfill.staging) against them must run the
SQL dbt really generates from the project's vars, not a hand-copied expression that could
drift, so `dbt compile --inline` renders one query over all of them (once per process).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

import duckdb

from ingest.paths import REPO_ROOT

# one column per staging expression, over a table `input(i, v)` of raw texts
_INLINE = """
select
    i,
    {{ normalize_customer_id('v') }} as customer_id,
    {{ customer_id_reject_reason(normalize_customer_id('v')) }} as customer_id_reject_reason,
    {{ parse_order_timestamp('v') }} as ordered_at,
    {{ has_time_of_day('v') }} as has_time_of_day
from input
order by i
"""


@cache
def compiled_query() -> str:
    """The query above as dbt compiles it (a plain select over `input`)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DUCKDB_PATH": str(Path(tmp) / "compile.duckdb")}
        done = subprocess.run(
            [str(Path(sys.executable).with_name("dbt")), "compile", "--quiet", "--inline",
             _INLINE, "--target-path", str(Path(tmp) / "target"),
             "--log-path", str(Path(tmp) / "logs")],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert done.returncode == 0, f"dbt compile failed:\n{done.stdout}\n{done.stderr}"
    sql = done.stdout.strip()
    assert sql.startswith("select") and "from input" in sql, sql
    return sql


def evaluate(texts: list[str | None]) -> list[dict]:
    """Every staging expression on each text, in order, computed by DuckDB."""
    with duckdb.connect() as con:
        con.execute("create table input (i integer, v varchar)")
        con.executemany("insert into input values (?, ?)", list(enumerate(texts)))
        cursor = con.execute(compiled_query())
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
