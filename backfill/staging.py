"""Raw landing files → typed, cleaned, deduplicated transactions and customer profiles.

A line-by-line port of dbt staging (`stg_transactions__typed.sql`, `stg_customers.sql`): the
same trimming and case folding, the same reject reasons in the same order of precedence, the
same duplicate rules ("first raw row wins") over the same columns, the same policies read from
the same dbt vars (min_order_date, zero_amount_policy, duplicates_without_order_id_or_time).
Every raw row is clean, a duplicate or rejected — exactly one — as in dbt's conservation test.
Customer ids follow the one rule of ``ingest.customer_ids`` (the customer_id_* vars), written
with the Spark functions that mean what the dbt macro's DuckDB functions mean.

Parsing follows DuckDB, not Spark. Spark's own `to_timestamp`/`cast` accept and refuse
different strings than DuckDB's `try_strptime`/`try_cast` (Spark refuses '2024-1-5 9:5:1'
and '1_000', DuckDB takes them; Spark's date cast takes '2024-01-05T10:00', and so on), so each
DuckDB grammar is written out once here as a regular expression and the matched parts are
handed to Spark's strict, null-on-failure `try_*` functions. `tests/backfill/test_parsing.py`
holds these against DuckDB itself on a corpus of awkward strings. Known, tested-as-documented
gaps (none occur in exports we know of): hexadecimal/binary ages ('0x1A'), BC dates, the
literals 'epoch'/'infinity' as signup dates, non-ASCII case folding ('ß'). As order dates,
'epoch'/'infinity' are refused on both sides (dbt does not parse text with a letter in it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from ingest.contract import CUSTOMER_COLUMNS, TRANSACTION_COLUMNS
from ingest.customer_ids import CONTROL_CHARACTER_PATTERN, INVALID, MISSING, rule
from ingest.dbt_vars import dbt_vars
from ingest.seeds import known_categories

# --- DuckDB grammars -------------------------------------------------------------------------
# (?U): \s is Unicode white space, as DuckDB's parsers skip it; digits are ASCII only.
_WS = r"\s*"
_YMD = r"([0-9]{1,4})-([0-9]{1,2})-([0-9]{1,2})"
# try_strptime(x, '%Y-%m-%d %H:%M:%S'): 1–2 digit fields, any run of white space for ' '.
TIMESTAMP_PATTERN = rf"(?U)^{_WS}{_YMD}\s+([0-9]{{1,2}}):([0-9]{{1,2}}):([0-9]{{1,2}}){_WS}$"
# try_strptime(x, '%Y-%m-%d')
DATE_PATTERN = rf"(?U)^{_WS}{_YMD}{_WS}$"
# try_cast(x as decimal/integer): sign, digits with single '_' between them, optional
# fraction and exponent.
_DIGITS = r"[0-9]+(?:_[0-9]+)*"
NUMBER_PATTERN = (
    rf"(?U)^{_WS}[+-]?(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})"
    rf"(?:[eE][+-]?{_DIGITS})?{_WS}$"
)
# try_cast(x as date): year, then month and day split by one repeated separator ('-', '/' or
# ' '), optionally followed by a time of day.
CAST_DATE_PATTERN = (
    rf"(?U)^{_WS}([0-9]+)([-/ ])([0-9]{{1,2}})\2([0-9]{{1,2}})"
    rf"(?:[ T][0-9]{{1,2}}:[0-9]{{1,2}}(?::[0-9]{{1,2}}(?:\.[0-9]+)?)?)?{_WS}$"
)
_STRIP_WS = r"(?U)^\s+|\s+$"


def nullif_blank(text: Column) -> Column:
    """DuckDB's `nullif(trim(x), '')`. Both engines' trim removes spaces only."""
    trimmed = F.trim(text)
    return F.when(trimmed != "", trimmed)


def normalize_customer_id(raw: Column) -> Column:
    """dbt's `normalize_customer_id`: trimmed of the rule's code points, case kept, '' → null."""
    trimmed = F.btrim(raw, F.lit(rule().trim_chars))
    return F.when(trimmed != "", trimmed)


def customer_id_reject_reason(id_: Column) -> Column:
    """dbt's `customer_id_reject_reason` on a normalised id: null markers (ASCII ids only, as
    bytes = characters) are missing; too long or control characters are invalid."""
    r = rule()
    is_marker = (F.octet_length(id_) == F.length(id_)) & F.lower(id_).isin(*r.null_markers)
    return (
        F.when(id_.isNull() | is_marker, MISSING)
        .when((F.length(id_) > r.max_length) | id_.rlike(CONTROL_CHARACTER_PATTERN), INVALID)
        .otherwise(F.lit(None).cast("string"))
    )


def _policy(name: str, allowed: tuple[str, ...]) -> str:
    value = str(dbt_vars()[name])
    if value not in allowed:
        raise ValueError(f"dbt var {name} is {value!r}; allowed: {', '.join(allowed)}")
    return value


def _iso(year: Column, month: Column, day: Column) -> Column:
    return F.concat_ws("-", F.lpad(year, 4, "0"), F.lpad(month, 2, "0"), F.lpad(day, 2, "0"))


def parse_order_timestamp(raw: Column) -> Column:
    """`coalesce(try_strptime(trim(x), '%Y-%m-%d %H:%M:%S'), try_strptime(trim(x), '%Y-%m-%d'))`
    as TIMESTAMP_NTZ. Range checks (month 13, Feb 30, hour 24, second 60) are left to
    Spark's strict parser, which refuses the same values DuckDB does."""
    text = F.trim(raw)

    def part(pattern: str, i: int) -> Column:
        return F.regexp_extract(text, pattern, i)

    full = F.concat(
        _iso(part(TIMESTAMP_PATTERN, 1), part(TIMESTAMP_PATTERN, 2), part(TIMESTAMP_PATTERN, 3)),
        F.lit(" "),
        F.concat_ws(":", *(F.lpad(part(TIMESTAMP_PATTERN, i), 2, "0") for i in (4, 5, 6))),
    )
    day_only = F.concat(
        _iso(part(DATE_PATTERN, 1), part(DATE_PATTERN, 2), part(DATE_PATTERN, 3)),
        F.lit(" 00:00:00"),
    )
    stamp = F.when(text.rlike(TIMESTAMP_PATTERN), full).when(text.rlike(DATE_PATTERN), day_only)
    return F.try_to_timestamp(stamp, F.lit("yyyy-MM-dd HH:mm:ss")).cast("timestamp_ntz")


def _number_text(raw: Column) -> Column:
    text = F.trim(raw)
    return F.when(
        text.rlike(NUMBER_PATTERN), F.regexp_replace(F.regexp_replace(text, _STRIP_WS, ""), "_", "")
    )


def parse_decimal(raw: Column) -> Column:
    """`try_cast(trim(x) as decimal(18, 2))`: rounds half away from zero, null on overflow."""
    return _number_text(raw).try_cast("decimal(18,2)")


def parse_integer(raw: Column) -> Column:
    """`try_cast(trim(x) as integer)`: DuckDB rounds '42.5' to 43 (half away from zero)."""
    exact = _number_text(raw).try_cast("decimal(38,18)")
    return F.round(exact, 0).try_cast("int")


def parse_date(raw: Column) -> Column:
    """`try_cast(trim(x) as date)`: '2024-01-05', '2024/1/5', '2024 01 05', with or without a
    time of day after it."""
    text = F.trim(raw)
    pattern = CAST_DATE_PATTERN
    year = F.regexp_extract(text, pattern, 1).try_cast("int").cast("string")
    iso = _iso(year, F.regexp_extract(text, pattern, 3), F.regexp_extract(text, pattern, 4))
    return F.try_to_date(F.when(text.rlike(pattern), iso), "yyyy-MM-dd")


# --- reading ---------------------------------------------------------------------------------


def read_raw(spark: SparkSession, path: str, columns: tuple[str, ...]) -> DataFrame:
    """The raw file with every contract column (a missing optional column is all null) and
    the row's identity: (raw_file, raw_row_id), DuckDB's file_row_number within its file."""
    raw = spark.read.parquet(path)
    present = set(raw.columns)
    return raw.select(
        *(
            F.col(c).cast("string") if c in present else F.lit(None).cast("string").alias(c)
            for c in columns
        ),
        F.col("_metadata.file_path").alias("raw_file"),
        F.col("_metadata.row_index").alias("raw_row_id"),
    )


def _path_exists(spark: SparkSession, path: str) -> bool:
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return fs.exists(hadoop_path)


# --- transactions ----------------------------------------------------------------------------


def typed_transactions(raw: DataFrame, now: datetime) -> DataFrame:
    """Every raw line typed, with reject_reason (null when usable), is_duplicate and the
    duplicate_rule that made it one."""
    now_ntz = F.lit(now.strftime("%Y-%m-%d %H:%M:%S.%f")).cast("timestamp_ntz")
    min_ntz = F.lit(str(dbt_vars()["min_order_date"])).cast("timestamp_ntz")
    zero_policy = _policy("zero_amount_policy", ("reject", "keep"))
    date_only_rule = _policy(
        "duplicates_without_order_id_or_time", ("exact_row", "same_values", "keep")
    )
    # earlier lines with every raw column the same text (a copied line)
    same_raw = Window.partitionBy(*TRANSACTION_COLUMNS).orderBy("raw_file", "raw_row_id")
    typed = raw.select(
        "raw_file",
        "raw_row_id",
        normalize_customer_id(F.col("customer_id")).alias("customer_id"),
        nullif_blank(F.col("order_id")).alias("order_id"),
        F.lower(nullif_blank(F.col("category"))).alias("category_raw"),
        F.lower(nullif_blank(F.col("payment_method"))).alias("payment_method"),
        nullif_blank(F.col("location")).alias("location"),
        parse_order_timestamp(F.col("order_date")).alias("ordered_at"),
        F.trim(F.col("order_date")).rlike(TIMESTAMP_PATTERN).alias("has_time_pattern"),
        parse_decimal(F.col("amount")).alias("amount"),
        F.col("order_date").alias("raw_order_date"),
        F.col("amount").alias("raw_amount"),
        F.row_number().over(same_raw).alias("raw_copy_number"),
    )
    # a refund needs an earlier purchase: the customer's first usable purchase time
    is_past_purchase = (
        (F.col("amount") > 0) & (F.col("ordered_at") >= min_ntz) & (F.col("ordered_at") <= now_ntz)
    )
    first_purchase_at = F.min(F.when(is_past_purchase, F.col("ordered_at"))).over(
        Window.partitionBy("customer_id")
    )
    known = list(known_categories())
    classified = typed.select(
        "*",
        F.when(F.col("category_raw").isNull(), F.lit(None).cast("string"))
        .when(F.col("category_raw").isin(known), F.col("category_raw"))
        .otherwise(F.lit("other"))
        .alias("category"),
        F.coalesce(
            customer_id_reject_reason(F.col("customer_id")),
            F.when(F.col("raw_order_date").isNull(), "missing_order_date")
            .when(F.col("ordered_at").isNull(), "unparseable_order_date")
            .when(F.col("ordered_at") < min_ntz, "implausible_order_date")
            .when(F.col("ordered_at") > now_ntz, "future_order_date")
            .when(F.col("raw_amount").isNull(), "missing_amount")
            .when(F.col("amount").isNull(), "unparseable_amount")
            .when((F.col("amount") == 0) & F.lit(zero_policy == "reject"), "zero_amount")
            .when(
                (F.col("amount") < 0)
                & (first_purchase_at.isNull() | (first_purchase_at > F.col("ordered_at"))),
                "refund_without_purchase",
            ),
        ).alias("reject_reason"),
        F.when(F.col("order_id").isNotNull(), "same_order_line")
        .when(F.col("has_time_pattern") & F.col("ordered_at").isNotNull(), "same_timestamp")
        .otherwise(F.lit(date_only_rule))
        .alias("duplicate_rule_applied"),
    )
    # the same normalised values as an earlier usable line: the first raw row wins
    same_row = Window.partitionBy(
        "reject_reason",
        "duplicate_rule_applied",
        "customer_id",
        "order_id",
        "ordered_at",
        "amount",
        "category",
        "payment_method",
        "location",
    ).orderBy("raw_file", "raw_row_id")
    rule_applied = F.col("duplicate_rule_applied")
    is_duplicate = F.col("reject_reason").isNull() & (
        F.when(rule_applied == "keep", False)
        # identical raw text classifies identically: the first copy is usable too
        .when(rule_applied == "exact_row", F.col("raw_copy_number") > 1)
        .otherwise(F.row_number().over(same_row) > 1)
    )
    return classified.withColumn("is_duplicate", is_duplicate).select(
        "raw_file",
        "raw_row_id",
        "customer_id",
        "order_id",
        "ordered_at",
        F.to_date("ordered_at").alias("order_date"),
        "amount",
        "category",
        "payment_method",
        "location",
        "reject_reason",
        "is_duplicate",
        F.when(F.col("is_duplicate"), rule_applied).alias("duplicate_rule"),
    )


def clean_transactions(typed: DataFrame) -> DataFrame:
    """`stg_transactions`: usable, de-duplicated rows, with is_purchase (a zero amount is
    here only under zero_amount_policy 'keep': a free purchase)."""
    return (
        typed.where(F.col("reject_reason").isNull() & ~F.col("is_duplicate"))
        .withColumn("is_purchase", F.col("amount") >= 0)
        .drop("reject_reason", "is_duplicate", "duplicate_rule")
    )


# --- customers -------------------------------------------------------------------------------


def staged_customers(raw: DataFrame) -> DataFrame:
    """`stg_customers`: one row per customer id, the first raw record winning; records whose
    id staging rejects are left out."""
    first = Window.partitionBy("customer_id").orderBy("raw_file", "raw_row_id")
    return (
        raw.select(
            "raw_file",
            "raw_row_id",
            normalize_customer_id(F.col("customer_id")).alias("customer_id"),
            parse_date(F.col("signup_date")).alias("signup_date"),
            parse_integer(F.col("age")).alias("age"),
            F.lower(nullif_blank(F.col("gender"))).alias("gender"),
            nullif_blank(F.col("location")).alias("location"),
        )
        .where(customer_id_reject_reason(F.col("customer_id")).isNull())
        .withColumn("_rank", F.row_number().over(first))
        .where("_rank = 1")
        .select("customer_id", "signup_date", "age", "gender", "location")
    )


@dataclass
class Staged:
    """Staging's outputs and the counts for the run summary."""

    transactions: DataFrame
    customers: DataFrame
    typed: DataFrame  # cached; unpersist when done
    rows_in: int
    rows_clean: int
    rows_duplicate: int
    rejects: dict[str, int]
    duplicates: dict[str, int]  # rows per duplicate rule

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejects.values())


def stage(spark: SparkSession, input_dir: str, now: datetime) -> Staged:
    """Read `<input_dir>/transactions.parquet` (and customers.parquet when present), type,
    clean and de-duplicate. The typed frame is cached: it feeds both the counts and the
    features."""
    typed = typed_transactions(
        read_raw(spark, f"{input_dir}/transactions.parquet", TRANSACTION_COLUMNS), now
    ).persist()
    tally = {
        (r["reject_reason"], r["duplicate_rule"]): r["count"]
        for r in typed.groupBy("reject_reason", "duplicate_rule").count().collect()
    }
    customers_path = f"{input_dir}/customers.parquet"
    if _path_exists(spark, customers_path):
        customers = staged_customers(read_raw(spark, customers_path, CUSTOMER_COLUMNS))
    else:
        customers = spark.createDataFrame(
            [], "customer_id string, signup_date date, age int, gender string, location string"
        )
    return Staged(
        transactions=clean_transactions(typed),
        customers=customers,
        typed=typed,
        rows_in=sum(tally.values()),
        rows_clean=tally.get((None, None), 0),
        rows_duplicate=sum(n for (reason, dup), n in tally.items() if dup),
        rejects={reason: n for (reason, _), n in sorted(tally.items(), key=str) if reason},
        duplicates={dup: n for (_, dup), n in sorted(tally.items(), key=str) if dup},
    )
