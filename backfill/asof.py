"""As-of lookups without an ASOF JOIN: "the last state row on or before the probe date".

Spark has no ASOF JOIN. Probe rows are unioned with the state rows, sorted once per customer by
(date, state-before-probe), and `last(state, ignorenulls)` over the running window carries the
latest state forward onto each probe. One sort of (state rows + probe rows) per customer, so
the cost is linear in orders + customers × probes — not a join of every probe against every
earlier row (which a range join degenerates to), and not a rescan of history per date.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F


def last_on_or_before(probes: DataFrame, states: dict[str, DataFrame]) -> DataFrame:
    """Add to each probe row (customer_id, probe_date, …) one column per entry of ``states``:
    that state's value from its last row with activity_date <= probe_date, else null.

    Each state frame is (customer_id, activity_date, <name>) with <name> a non-null struct and
    one row per customer and day."""
    probe_columns = [c for c in probes.columns if c != "customer_id"]
    rows = probes.withColumn("_is_probe", F.lit(1)).withColumnRenamed("probe_date", "_date")
    for name, state in states.items():
        rows = rows.unionByName(
            state.select("customer_id", F.col("activity_date").alias("_date"), name).withColumn(
                "_is_probe", F.lit(0)
            ),
            allowMissingColumns=True,
        )
    # on the same date the state row sorts first: "on or before" includes the day itself
    carried = (
        Window.partitionBy("customer_id")
        .orderBy("_date", "_is_probe")
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    return (
        rows.select(
            "*",
            *(F.last(name, ignorenulls=True).over(carried).alias(f"_{name}") for name in states),
        )
        .where("_is_probe = 1")
        .select(
            "customer_id",
            *(
                c if c != "probe_date" else F.col("_date").alias("probe_date")
                for c in probe_columns
            ),
            *(F.col(f"_{name}").alias(name) for name in states),
        )
    )
