"""Load any transaction log (CSV, CSV.gz or Parquet) into the raw landing contract.

    python -m ingest.load orders.csv                        # already in contract column names
    python -m ingest.load export.csv --map order_date=InvoiceDate --map amount=Total
    python -m ingest.load sales.csv --date-format %d/%m/%Y --decimal ,
    python -m ingest.load online_retail.csv.gz --preset online-retail

The loader only makes a source *representable* in the contract: it maps columns, normalises
ISO (or ``--date-format``) dates to ``YYYY-MM-DD HH:MM:SS`` and decimal commas to points, and
aggregates where a preset says so. Cleaning — typing, trimming, de-duplicating, rejecting bad
rows with a reason code — is dbt staging's job, so a bad value is written as it arrived. Rows
that cannot be represented at all (an invoice line with no customer cannot become anyone's
order) are set aside with a reason in ``<out>/set_aside/``, never silently dropped, and the
printed summary accounts for every input row: read = kept + set aside.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ingest import contract

ISO_TIMESTAMP = "%Y-%m-%d %H:%M:%S"


@dataclass
class LoadSummary:
    """Counts that account for every input row; printed by the CLI, asserted by tests."""

    source: Path
    out: Path
    rows_read: int = 0
    rows_kept: int = 0
    rows_written: int = 0
    set_aside: dict[str, int] = field(default_factory=dict)
    dates_left_as_text: int = 0
    returns: int = 0
    null_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    removed_stale: list[str] = field(default_factory=list)
    preset: str | None = None
    seconds: float = 0.0

    def report(self) -> str:
        aside = sum(self.set_aside.values())
        lines = [
            f"read {self.rows_read:,} rows from {self.source}"
            + (f" (preset {self.preset})" if self.preset else "")
        ]
        if self.preset:
            lines.append(
                f"kept {self.rows_kept:,} rows, aggregated into "
                f"{self.rows_written:,} orders ({self.returns:,} returns)"
            )
        else:
            lines.append(f"kept {self.rows_kept:,} rows")
        lines.append(
            f"set aside {aside:,} rows"
            + (f" → {self.out / contract.SET_ASIDE_DIR / contract.SET_ASIDE_FILE}" if aside else "")
        )
        lines += [f"  {reason}: {count:,}" for reason, count in sorted(self.set_aside.items())]
        lines.append(
            f"check: {self.rows_read:,} read = {self.rows_kept:,} kept + {aside:,} set aside"
        )
        if self.dates_left_as_text:
            lines.append(
                f"note: {self.dates_left_as_text:,} order_date values are neither ISO "
                "nor --date-format; kept as text for dbt staging to reject"
            )
        if self.null_columns:
            lines.append(
                "columns missing in the source, written as null: " + ", ".join(self.null_columns)
            )
        if self.ignored_columns:
            lines.append(
                "source columns not in the contract (ignored): " + ", ".join(self.ignored_columns)
            )
        if self.removed_stale:
            lines.append("removed files of an earlier dataset: " + ", ".join(self.removed_stale))
        lines.append(
            f"wrote {self.rows_written:,} rows to "
            f"{self.out / contract.TRANSACTIONS_FILE} in {self.seconds:.1f} s"
        )
        return "\n".join(lines)


@dataclass(frozen=True)
class Options:
    """How to read values: an optional strptime format and the decimal separator."""

    date_format: str | None = None
    decimal: str = "."


@dataclass(frozen=True)
class Preset:
    """A known source layout: which source column plays which role, and how to build rows."""

    description: str
    columns: dict[str, str]
    build: Callable[[duckdb.DuckDBPyConnection, dict[str, str], Options], None]
    provides: tuple[str, ...] = ()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _timestamp_sql(column: str, options: Options) -> str:
    """A TIMESTAMP from text: ISO first, then ``--date-format``; NULL when neither parses."""
    parsed = f"try_cast({column} as timestamp)"
    if options.date_format:
        parsed = f"coalesce({parsed}, try_strptime({column}, {_literal(options.date_format)}))"
    return parsed


def _number_text_sql(column: str, options: Options) -> str:
    """Decimal-comma text ('1.234,50') → decimal-point text ('1234.50'); otherwise unchanged."""
    if options.decimal == ",":
        return f"replace(replace({column}, '.', ''), ',', '.')"
    return column


def build_mapped(con: duckdb.DuckDBPyConnection, columns: dict[str, str], options: Options) -> None:
    """One output row per input row, columns renamed: tables/views ``landed``, ``kept``,
    ``set_aside`` (always empty here: every row is representable)."""
    select = []
    for name in contract.TRANSACTION_COLUMNS:
        source = columns.get(name)
        if source is None:
            select.append(f"cast(null as varchar) as {name}")
        elif name == "order_date":
            text = _quote(source)
            stamp = _timestamp_sql(text, options)
            select.append(f"coalesce(strftime({stamp}, '{ISO_TIMESTAMP}'), {text}) as {name}")
        elif name == "amount":
            select.append(f"{_number_text_sql(_quote(source), options)} as {name}")
        else:
            select.append(f"{_quote(source)} as {name}")
    con.execute(f"create table landed as select {', '.join(select)} from src")
    con.execute(
        "create view set_aside as select *, cast(null as varchar) as set_aside_reason "
        "from src where false"
    )
    con.execute("create view kept as select * from src")


def build_online_retail(
    con: duckdb.DuckDBPyConnection, columns: dict[str, str], options: Options
) -> None:
    """UCI Online Retail: invoice lines → one order per invoice.

    amount = Σ quantity × unit price (exact decimals, 2 dp); order_date = the invoice's first
    timestamp; invoices starting with 'C' are returns and always negative; Country is the
    location; CustomerID '17850.0' → '17850'. Lines without a customer id (or with a
    non-numeric quantity/price, or no invoice number) are set aside with a reason.
    """
    c = {role: _quote(name) for role, name in columns.items()}
    quantity = f"try_cast({_number_text_sql(c['quantity'], options)} as decimal(18, 3))"
    price = f"try_cast({_number_text_sql(c['unit_price'], options)} as decimal(18, 4))"
    customer = f"regexp_replace(trim({c['customer_id']}), '\\.0+$', '')"
    con.execute(f"""
        create table lines as
        select *,
            case
                when nullif(trim({c["order_id"]}), '') is null then 'missing_invoice_no'
                when nullif(trim({c["customer_id"]}), '') is null then 'missing_customer_id'
                when {quantity} is null or {price} is null then 'unparseable_quantity_or_price'
            end as set_aside_reason
        from src
    """)
    con.execute("create view set_aside as select * from lines where set_aside_reason is not null")
    con.execute("create view kept as select * from lines where set_aside_reason is null")
    stamp = _timestamp_sql(c["order_date"], options)
    con.execute(f"""
        create table landed as
        with invoices as (
            select
                trim({c["order_id"]}) as order_id,
                any_value({customer}) as customer_id,
                min({stamp}) as first_stamp,
                min({c["order_date"]}) as first_text,
                sum({quantity} * {price}) as total,
                any_value({c["location"]}) as location
            from kept
            group by 1
        )
        select
            customer_id,
            order_id,
            coalesce(strftime(first_stamp, '{ISO_TIMESTAMP}'), first_text) as order_date,
            printf('%.2f', case when upper(order_id) like 'C%' then -abs(total) else total end)
                as amount,
            cast(null as varchar) as category,
            cast(null as varchar) as payment_method,
            location
        from invoices
        order by first_stamp, order_id
    """)


PRESETS: dict[str, Preset] = {
    "online-retail": Preset(
        description="UCI Online Retail invoice lines (InvoiceNo, Quantity, UnitPrice, ...)",
        columns={
            "order_id": "InvoiceNo",
            "customer_id": "CustomerID",
            "order_date": "InvoiceDate",
            "quantity": "Quantity",
            "unit_price": "UnitPrice",
            "location": "Country",
        },
        build=build_online_retail,
        provides=("customer_id", "order_id", "order_date", "amount", "location"),
    ),
}
GENERIC = Preset(
    description="one row per transaction, contract column names or --map",
    columns={},
    build=build_mapped,
)


def _register_source(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Read the file once into table ``src``, every column as text; return its column names."""
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        con.execute(f"create view raw_src as select * from read_parquet({_literal(str(path))})")
        described = con.execute("describe raw_src").fetchall()
        casts = []
        for column, dtype, *_ in described:
            q = _quote(column)
            if dtype.startswith(("TIMESTAMP", "DATE")):
                expr = f"strftime(cast({q} as timestamp), '{ISO_TIMESTAMP}')"
            elif dtype in ("DOUBLE", "FLOAT") or dtype.startswith("DECIMAL"):
                expr = f"printf('%.2f', {q})"
            else:
                expr = f"cast({q} as varchar)"
            casts.append(f"{expr} as {q}")
        con.execute(f"create table src as select {', '.join(casts)} from raw_src")
    else:
        con.execute(
            "create table src as select * from read_csv("
            f"{_literal(str(path))}, all_varchar = true, header = true)"
        )
    return [row[0] for row in con.execute("describe src").fetchall()]


def _resolve_columns(
    preset: Preset, source_columns: list[str], overrides: dict[str, str]
) -> dict[str, str]:
    """Role → source column: preset defaults, then --map, then same-named columns."""
    by_lower = {c.lower(): c for c in source_columns}
    wanted = dict(preset.columns) | overrides
    resolved = {}
    for role, source in wanted.items():
        if source not in source_columns and source.lower() not in by_lower:
            raise SystemExit(
                f"column {source!r} (for {role}) is not in the source; "
                f"it has: {', '.join(source_columns)}"
            )
        resolved[role] = source if source in source_columns else by_lower[source.lower()]
    if preset is GENERIC:
        for name in contract.TRANSACTION_COLUMNS:
            if name not in resolved and name in by_lower:
                resolved[name] = by_lower[name]
        missing = [n for n in contract.REQUIRED_TRANSACTION_COLUMNS if n not in resolved]
        if missing:
            raise SystemExit(
                f"required column(s) {', '.join(missing)} not found; map them "
                f"with --map {missing[0]}=SOURCE_COLUMN (source has: "
                f"{', '.join(source_columns)})"
            )
    return resolved


def load(
    path: Path,
    out: Path = Path("data/raw"),
    *,
    mapping: dict[str, str] | None = None,
    preset: str | None = None,
    date_format: str | None = None,
    decimal: str = ".",
) -> LoadSummary:
    """Write ``<out>/transactions.parquet`` (and set-aside rows) from ``path``."""
    started = time.perf_counter()
    path, out = Path(path), Path(out)
    if decimal not in (".", ","):
        raise SystemExit("--decimal must be '.' or ','")
    chosen = PRESETS[preset] if preset else GENERIC
    options = Options(date_format=date_format, decimal=decimal)
    con = duckdb.connect()
    source_columns = _register_source(con, path)
    columns = _resolve_columns(chosen, source_columns, mapping or {})
    chosen.build(con, columns, options)

    summary = LoadSummary(source=path, out=out, preset=preset)
    summary.rows_read = con.execute("select count(*) from src").fetchall()[0][0]
    summary.rows_kept = con.execute("select count(*) from kept").fetchall()[0][0]
    summary.set_aside = dict(
        con.execute("select set_aside_reason, count(*) from set_aside group by 1").fetchall()
    )
    provided = chosen.provides or tuple(columns)
    summary.null_columns = [n for n in contract.TRANSACTION_COLUMNS if n not in provided]
    used = set(columns.values())
    summary.ignored_columns = [c for c in source_columns if c not in used]
    if "order_date" in columns:
        stamp = _timestamp_sql("order_date", options)
        summary.dates_left_as_text = con.execute(
            f"select count(*) from landed where order_date is not null and {stamp} is null"
        ).fetchall()[0][0]

    out.mkdir(parents=True, exist_ok=True)
    _copy_atomic(
        con, "select * from landed", out / contract.TRANSACTIONS_FILE, contract.TRANSACTIONS_SCHEMA
    )
    aside_path = out / contract.SET_ASIDE_DIR / contract.SET_ASIDE_FILE
    keep = {contract.TRANSACTIONS_FILE}
    if summary.set_aside:
        aside_path.parent.mkdir(exist_ok=True)
        _copy_atomic(con, "select * from set_aside", aside_path)
        keep.add(f"{contract.SET_ASIDE_DIR}/{contract.SET_ASIDE_FILE}")
    # the customer file is optional for the source but the raw folder always carries one, so
    # dbt's staging reads an empty profile table rather than failing on a missing file
    contract.write_table_atomic(
        contract.CUSTOMERS_SCHEMA.empty_table(), out / contract.CUSTOMERS_FILE
    )
    keep.add(contract.CUSTOMERS_FILE)
    summary.removed_stale = contract.remove_stale(out, keep)
    summary.rows_written = con.execute("select count(*) from landed").fetchall()[0][0]
    summary.returns = con.execute("select count(*) from landed where amount like '-%'").fetchall()[
        0
    ][0]
    summary.seconds = time.perf_counter() - started
    return summary


def _copy_atomic(
    con: duckdb.DuckDBPyConnection, query: str, path: Path, schema: pa.Schema | None = None
) -> None:
    """Stream a query into Parquet via a temp file + ``os.replace``.

    Written through pyarrow with an explicit all-nullable schema: DuckDB would otherwise mark
    a column NOT NULL whenever it can prove it, and the contract's columns are always nullable.
    """
    reader = con.sql(query).to_arrow_reader(batch_size=262_144)
    schema = schema or pa.schema([pa.field(f.name, f.type) for f in reader.schema])
    temp = contract.temp_path_for(path)
    try:
        with pq.ParquetWriter(temp, schema) as writer:
            for batch in reader:
                writer.write_batch(
                    pa.RecordBatch.from_arrays(
                        [
                            column.cast(field.type)
                            for column, field in zip(batch.columns, schema, strict=True)
                        ],
                        schema=schema,
                    )
                )
        contract.publish(temp, path)
    except BaseException:
        contract.discard(temp)
        raise


def _parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        target, sep, source = pair.partition("=")
        if not sep or not target or not source:
            raise SystemExit(f"--map expects CONTRACT_COLUMN=SOURCE_COLUMN, got {pair!r}")
        mapping[target.strip()] = source.strip()
    return mapping


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    presets = "; ".join(f"{name}: {p.description}" for name, p in PRESETS.items())
    parser = argparse.ArgumentParser(
        prog="python -m ingest.load",
        description="Load a transaction log (CSV, CSV.gz or Parquet) into the raw landing "
        "contract (<out>/transactions.parquet, all text). A file that already "
        "uses the contract's column names needs no options.",
    )
    parser.add_argument(
        "path", type=Path, help="input .csv, .csv.gz or .parquet file (put it before --map)"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("data/raw"), help="output folder (default data/raw)"
    )
    parser.add_argument(
        "--map",
        dest="mapping",
        action="extend",
        nargs="+",
        default=[],
        metavar="COLUMN=SOURCE",
        help="take contract COLUMN from SOURCE column, e.g. "
        "--map order_date=InvoiceDate amount=Total",
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), help=f"known layouts: {presets}")
    parser.add_argument("--date-format", help="strptime format tried after ISO, e.g. %%d/%%m/%%Y")
    parser.add_argument(
        "--decimal",
        default=".",
        choices=[".", ","],
        metavar="{.|,}",
        help="decimal separator of amounts (',' also drops '.' thousands)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    summary = load(
        args.path,
        args.out,
        mapping=_parse_mapping(args.mapping),
        preset=args.preset,
        date_format=args.date_format,
        decimal=args.decimal,
    )
    print(summary.report())


if __name__ == "__main__":
    main()
