"""Load any transaction log (CSV, CSV.gz or Parquet) into the raw landing contract.

    python -m ingest.load orders.csv                        # already in contract column names
    python -m ingest.load export.csv --map order_date=InvoiceDate --map amount=Total
    python -m ingest.load sales.csv --date-format %d/%m/%Y --decimal , --encoding cp1252
    python -m ingest.load online_retail.csv.gz --preset online-retail
    python -m ingest.load more.csv --append       # or --replace; --undo restores the previous

The loader only makes a source *representable* in the contract: it maps columns, normalises
ISO (or ``--date-format``) dates to ``YYYY-MM-DD HH:MM:SS`` (converting explicit time zones to
``--timezone``), decimal commas to points, and aggregates where a preset says so. Cleaning —
typing, trimming, de-duplicating, rejecting bad rows with a reason code — is dbt staging's job,
so a bad value is written as it arrived. It never guesses at a user's numbers or ids: a value
it cannot represent without guessing (``12.5`` in a ``--decimal ,`` file: 12.5 or 125?) is set
aside with a reason in ``<out>/set_aside/``, never silently changed or dropped, and the printed
summary accounts for every input row: read = kept + set aside.

How a source is read (encodings, Parquet types) is in :mod:`ingest.sources`; how an import
may replace or add to the landing zone, and the undo, in :mod:`ingest.landing`. Every error
the user can fix is one line naming the file (and line and column when known), exit status 2.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ingest import contract, landing, sources
from ingest.errors import LoadError
from ingest.sources import ISO_DATE, ISO_TIMESTAMP, literal, quote

# The forms accepted under --decimal ',': 12 · 12,5 · -3,00 · 1.234,50 (dot thousands groups
# of exactly three digits need a comma part). Any other value with a '.' or ',' is set aside.
COMMA_DECIMAL = r"[+-]?(\d+(,\d+)?|\d{1,3}(\.\d{3})+,\d+)"
# --decimal . (the default): digit groups of 3 with a decimal point ('1,234.50') or several
# groups ('1,234,567') can only be thousands separators, so their commas are dropped; one comma
# between digits alone ('1,5', '1,234') may be a decimal comma or a thousands one: set aside
# as ambiguous_amount (with --decimal , the first is 1.5), never read as either
DOT_GROUPED = r"[+-]?\d{1,3}((,\d{3})+\.\d+|(,\d{3}){2,})"
DOT_AMBIGUOUS = r"[+-]?\d+,\d+"
# text ending in a time and an explicit offset: converted to --timezone, not left as written
ZONED_TIME = r"\d:\d\d(:\d\d(\.\d+)?)?\s*([zZ]|[+-]\d\d(:?\d\d)?)$"


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
    amounts_not_numbers: int = 0
    amount_examples: list[str] = field(default_factory=list)  # a few, for the note
    decimal: str = "."
    returns: int = 0
    null_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    preset: str | None = None
    mode: str = "fresh"
    earlier: landing.Holding = field(default_factory=lambda: landing.Holding("empty"))
    rows_in_landing: int = 0
    moved_to_previous: list[str] = field(default_factory=list)
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
        if self.set_aside.get("ambiguous_amount"):
            other = "," if self.decimal == "." else "."
            lines.append(
                f"  (amounts whose separator could mean either: the file was read with "
                f"--decimal {self.decimal}; if {other!r} is its decimal separator, load it "
                f"again with --decimal {other})"
            )
        lines.append(
            f"check: {self.rows_read:,} read = {self.rows_kept:,} kept + {aside:,} set aside"
        )
        if self.dates_left_as_text:
            lines.append(
                f"note: {self.dates_left_as_text:,} order_date values are neither ISO "
                "nor --date-format; kept as text for dbt staging to reject"
            )
        if self.amounts_not_numbers:
            examples = ", ".join(repr(e) for e in self.amount_examples)
            lines.append(
                f"note: {self.amounts_not_numbers:,} amount values are not numbers (e.g. "
                f"{examples}); kept as text for dbt staging to reject as unparseable_amount "
                "(a currency sign, unit or word in the amount: remove it to keep those rows)"
            )
        if self.null_columns:
            lines.append(
                "columns missing in the source, written as null: " + ", ".join(self.null_columns)
            )
        if self.ignored_columns:
            lines.append(
                "source columns not in the contract (ignored): " + ", ".join(self.ignored_columns)
            )
        lines += self._landing_lines()
        return "\n".join(lines)

    def _landing_lines(self) -> list[str]:
        previous = self.out / landing.PREVIOUS_DIR
        undo = f"python -m ingest.load --undo --out {self.out}"
        lines = []
        if self.mode == "same":
            lines.append("the landing zone held this same file (same SHA-256); re-imported it")
        elif self.mode == "replace":
            lines.append(f"replaced {self.earlier.describe()}; kept in {previous} (undo: {undo})")
        elif self.mode == "append":
            earlier = self.earlier.rows
            lines.append(
                f"appended to {self.earlier.describe()}: {earlier:,} earlier + "
                f"{self.rows_written:,} new = {self.rows_in_landing:,} rows "
                f"(the earlier state is kept in {previous}; undo: {undo})"
            )
        lines.append(
            f"wrote {self.rows_written:,} rows to "
            f"{self.out / contract.TRANSACTIONS_FILE} in {self.seconds:.1f} s"
        )
        return lines


@dataclass(frozen=True)
class Options:
    """How to read values: date format, decimal separator, time zone, and which source columns
    were typed numbers (never re-parsed as text)."""

    date_format: str | None = None
    decimal: str = "."
    timezone: str = "UTC"
    typed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Preset:
    """A known source layout: which source column plays which role, and how to build rows."""

    description: str
    columns: dict[str, str]
    build: Callable[[duckdb.DuckDBPyConnection, dict[str, str], Options], None]
    provides: tuple[str, ...] = ()


def _timestamp_sql(column: str, options: Options) -> str:
    """A TIMESTAMP from text: ISO first (an explicit offset converted to ``--timezone``), then
    ``--date-format``; NULL when neither parses.

    Only text that starts with a digit is cast: DuckDB's cast reads the words ``epoch`` and
    ``infinity`` as dates (1970-01-01, and a date that prints as text), which would turn a
    placeholder into a real order; left as text, staging rejects it as unparseable."""
    text = f"trim({column})"  # ' 2024-01-05 ' is a date to staging too
    zoned = f"timezone({literal(options.timezone)}, try_cast({text} as timestamptz))"
    parsed = (
        f"case when not regexp_matches({column}, '^\\s*[0-9]') then null "
        f"when regexp_matches({text}, '{ZONED_TIME}') then {zoned} "
        f"else try_cast({text} as timestamp) end"
    )
    if options.date_format:
        parsed = f"coalesce({parsed}, try_strptime({text}, {literal(options.date_format)}))"
    return parsed


def _number_text_sql(source: str, options: Options) -> str:
    """Number text with separators → plain decimal-point text, for the accepted forms only:
    with ``--decimal ,`` '1.234,50' → '1234.50'; with '.' '1,234.50' → '1234.50'. Anything
    else (and every typed column) unchanged."""
    column = quote(source)
    if source in options.typed:
        return column
    text = f"trim({column})"
    if options.decimal == ".":
        return (
            f"case when regexp_full_match({text}, '{DOT_GROUPED}') "
            f"then replace({text}, ',', '') else {column} end"
        )
    return (
        f"case when regexp_full_match({text}, '{COMMA_DECIMAL}') "
        f"then replace(replace({text}, '.', ''), ',', '.') else {column} end"
    )


def _ambiguous_sql(source: str, options: Options) -> str:
    """SQL true when a text number cannot be read without guessing the separator: with
    ``--decimal ,`` one with a separator that is not an accepted form, with '.' one comma
    between digits alone (DOT_AMBIGUOUS)."""
    if source in options.typed:
        return "false"
    text = f"trim({quote(source)})"
    if options.decimal == ".":
        return f"coalesce(regexp_full_match({text}, '{DOT_AMBIGUOUS}'), false)"
    return (
        f"coalesce(not regexp_full_match({text}, '{COMMA_DECIMAL}') "
        f"and regexp_matches({text}, '[.,]'), false)"
    )


def build_mapped(con: duckdb.DuckDBPyConnection, columns: dict[str, str], options: Options) -> None:
    """One output row per input row, columns renamed: tables/views ``landed``, ``kept``,
    ``set_aside`` (rows whose amount cannot be read without guessing)."""
    ambiguous = _ambiguous_sql(columns["amount"], options) if "amount" in columns else "false"
    con.execute(f"""
        create table lines as
        select *, case when {ambiguous} then 'ambiguous_amount' end as set_aside_reason
        from src
    """)
    con.execute("create view set_aside as select * from lines where set_aside_reason is not null")
    con.execute(
        "create view kept as select * exclude (set_aside_reason) from lines "
        "where set_aside_reason is null"
    )
    select = []
    for name in contract.TRANSACTION_COLUMNS:
        source = columns.get(name)
        if source is None:
            select.append(f"cast(null as varchar) as {name}")
        elif name == "order_date":
            text = quote(source)
            stamp = _timestamp_sql(text, options)
            # a date without a time of day stays one: staging's duplicate policy for logs with
            # no order id depends on knowing that two lines only share a day, not an instant
            select.append(
                f"case when {stamp} is null then {text} "
                f"when strpos({text}, ':') = 0 then strftime({stamp}, '{ISO_DATE}') "
                f"else strftime({stamp}, '{ISO_TIMESTAMP}') end as {name}"
            )
        elif name == "amount":
            select.append(f"{_number_text_sql(source, options)} as {name}")
        else:
            select.append(f"{quote(source)} as {name}")
    con.execute(f"create table landed as select {', '.join(select)} from kept")


def build_online_retail(
    con: duckdb.DuckDBPyConnection, columns: dict[str, str], options: Options
) -> None:
    """UCI Online Retail: invoice lines → one order per invoice.

    amount = Σ quantity × unit price (exact decimals, 2 dp); order_date = the invoice's first
    timestamp; invoices starting with 'C' are returns and always negative; Country is the
    location; CustomerID '17850.0' → '17850'. Lines without a customer id (or with a
    non-numeric quantity/price, or no invoice number) are set aside with a reason, and so are
    all lines of an invoice that names several customers: it cannot be one customer's order,
    and crediting it to any one of them would invent purchases.
    """
    c = {role: quote(name) for role, name in columns.items()}
    quantity = f"try_cast({_number_text_sql(columns['quantity'], options)} as decimal(18, 3))"
    price = f"try_cast({_number_text_sql(columns['unit_price'], options)} as decimal(18, 4))"
    ambiguous = (
        f"{_ambiguous_sql(columns['quantity'], options)} "
        f"or {_ambiguous_sql(columns['unit_price'], options)}"
    )
    customer = f"regexp_replace(trim({c['customer_id']}), '\\.0+$', '')"
    con.execute(f"""
        create table lines as
        with reasons as (
            select *,
                row_number() over () as _line,
                {customer} as _customer,
                case
                    when nullif(trim({c["order_id"]}), '') is null then 'missing_invoice_no'
                    when nullif(trim({c["customer_id"]}), '') is null then 'missing_customer_id'
                    when {ambiguous} then 'ambiguous_amount'
                    when {quantity} is null or {price} is null
                        then 'unparseable_quantity_or_price'
                end as _reason
            from src
        )
        select * exclude (_customer, _reason),
            coalesce(_reason, case when min(_customer) over invoice <> max(_customer) over invoice
                then 'invoice_with_several_customers' end) as set_aside_reason
        from reasons
        window invoice as (partition by trim({c["order_id"]}), _reason is null)
    """)
    con.execute(
        "create view set_aside as select * exclude (_line) from lines "
        "where set_aside_reason is not null order by _line"
    )
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


def _resolve_columns(
    preset: Preset, source_columns: list[str], overrides: dict[str, str], path: Path
) -> dict[str, str]:
    """Role → source column: preset defaults, then --map, then same-named columns."""
    by_lower = {c.lower(): c for c in source_columns}
    wanted = dict(preset.columns) | overrides
    resolved = {}
    for role, source in wanted.items():
        if source not in source_columns and source.lower() not in by_lower:
            raise LoadError(
                f"column {source!r} (for {role}) is not in the source; "
                f"it has: {', '.join(source_columns)}",
                path,
            )
        resolved[role] = source if source in source_columns else by_lower[source.lower()]
    if preset is GENERIC:
        for name in contract.TRANSACTION_COLUMNS:
            if name not in resolved and name in by_lower:
                resolved[name] = by_lower[name]
        missing = [n for n in contract.REQUIRED_TRANSACTION_COLUMNS if n not in resolved]
        if missing:
            raise LoadError(
                f"required column(s) {', '.join(missing)} not found; map them "
                f"with --map {missing[0]}=SOURCE_COLUMN (source has: "
                f"{', '.join(source_columns)})",
                path,
            )
    return resolved


def _count(con: duckdb.DuckDBPyConnection, query: str) -> int:
    return con.execute(query).fetchall()[0][0]


def load(
    path: Path,
    out: Path = Path("data/raw"),
    *,
    mapping: dict[str, str] | None = None,
    preset: str | None = None,
    date_format: str | None = None,
    decimal: str = ".",
    encoding: str = "utf-8",
    timezone: str = "UTC",
    replace: bool = False,
    append: bool = False,
) -> LoadSummary:
    """Write ``<out>/transactions.parquet`` (and set-aside rows) from ``path``.

    Raises ``LoadError`` — leaving ``out`` untouched — when the file cannot be read, has no
    usable row, or would replace another import without ``replace``/``append``.
    """
    started = time.perf_counter()
    path, out = Path(path), Path(out)
    if decimal not in (".", ","):
        raise LoadError("--decimal must be '.' or ','")
    if replace and append:
        raise LoadError("--replace and --append exclude each other")
    con = duckdb.connect()
    try:
        con.execute(f"set TimeZone = {literal(timezone)}")
    except duckdb.Error:
        raise LoadError(f"unknown --timezone {timezone!r} (e.g. UTC, Asia/Kolkata)") from None
    source_columns, typed = sources.register(con, path, encoding=encoding, timezone=timezone)
    chosen = PRESETS[preset] if preset else GENERIC
    options = Options(date_format=date_format, decimal=decimal, timezone=timezone, typed=typed)
    columns = _resolve_columns(chosen, source_columns, mapping or {}, path)
    chosen.build(con, columns, options)

    summary = LoadSummary(source=path, out=out, preset=preset, decimal=decimal)
    summary.rows_read = _count(con, "select count(*) from src")
    summary.rows_kept = _count(con, "select count(*) from kept")
    summary.set_aside = dict(
        con.execute("select set_aside_reason, count(*) from set_aside group by 1").fetchall()
    )
    summary.rows_written = _count(con, "select count(*) from landed")
    if summary.rows_written == 0:
        aside = ", ".join(f"{r}: {n:,}" for r, n in sorted(summary.set_aside.items()))
        raise LoadError(
            f"no usable rows (read {summary.rows_read:,}"
            + (f"; set aside {aside}" if aside else "")
            + f"); {out} was left as it was",
            path,
        )
    digest = landing.file_digest(path)
    summary.earlier = earlier = landing.inspect(out)
    summary.mode = mode = landing.decide(out, earlier, digest, replace=replace, append=append)
    provided = chosen.provides or tuple(columns)
    summary.null_columns = [n for n in contract.TRANSACTION_COLUMNS if n not in provided]
    used = set(columns.values())
    summary.ignored_columns = [c for c in source_columns if c not in used]
    if "order_date" in columns:
        stamp = _timestamp_sql("order_date", options)
        summary.dates_left_as_text = _count(
            con, f"select count(*) from landed where order_date is not null and {stamp} is null"
        )
    # the amounts dbt staging will reject as unparseable_amount, by its very cast, told now
    not_numbers = (
        "from landed where nullif(trim(amount), '') is not null "
        "and try_cast(trim(amount) as decimal(18, 2)) is null"
    )
    summary.amounts_not_numbers = _count(con, f"select count(*) {not_numbers}")
    if summary.amounts_not_numbers:
        summary.amount_examples = [
            row[0]
            for row in con.execute(
                f"select amount {not_numbers} group by amount order by count(*) desc, amount "
                "limit 3"
            ).fetchall()
        ]
    summary.returns = _count(con, "select count(*) from landed where amount like '-%'")

    source = {"file": path.name, "sha256": digest, "rows_read": summary.rows_read}
    earlier_sources = list(earlier.sources) if mode == "append" else []
    _write_incoming(con, out, mode == "append", [*earlier_sources, source])
    summary.moved_to_previous = landing.commit(out, keep_previous=mode in ("replace", "append"))
    summary.rows_in_landing = pq.ParquetFile(out / contract.TRANSACTIONS_FILE).metadata.num_rows
    if mode == "append" and summary.rows_in_landing != earlier.rows + summary.rows_written:
        raise LoadError(  # cannot happen; checked because an append must conserve rows
            f"append lost rows: {earlier.rows:,} + {summary.rows_written:,} "
            f"!= {summary.rows_in_landing:,}; restore with --undo",
            out,
        )
    summary.seconds = time.perf_counter() - started
    return summary


def _write_incoming(
    con: duckdb.DuckDBPyConnection, out: Path, append: bool, sources_: list[dict]
) -> None:
    """The new landing zone in ``<out>/.incoming``; with ``append``, the current one's rows and
    profiles first."""
    incoming = landing.incoming(out)
    transactions, customers = out / contract.TRANSACTIONS_FILE, out / contract.CUSTOMERS_FILE
    aside = out / contract.SET_ASIDE_DIR / contract.SET_ASIDE_FILE
    query, aside_query = "select * from landed", "select * from set_aside"
    if append:
        earlier = f"select * from read_parquet({literal(str(transactions))})"
        query = f"{earlier} union all by name {query}"
        if aside.exists():
            aside_query = (
                f"select * from read_parquet({literal(str(aside))}) union all by name {aside_query}"
            )
    schema = contract.TRANSACTIONS_SCHEMA.with_metadata(landing.manifest(sources_))
    _copy_atomic(con, query, incoming / contract.TRANSACTIONS_FILE, schema)
    if _count(con, f"select count(*) from ({aside_query})"):
        (incoming / contract.SET_ASIDE_DIR).mkdir()
        _copy_atomic(con, aside_query, incoming / contract.SET_ASIDE_DIR / contract.SET_ASIDE_FILE)
    # the customer file is optional for the source but the raw folder always carries one, so
    # dbt's staging reads an empty profile table rather than failing on a missing file
    if append and customers.exists():
        shutil.copy2(customers, incoming / contract.CUSTOMERS_FILE)
    else:
        contract.write_table_atomic(
            contract.CUSTOMERS_SCHEMA.empty_table(), incoming / contract.CUSTOMERS_FILE
        )


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
                columns = [batch.column(f.name).cast(f.type) for f in schema]
                writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=schema))
        contract.publish(temp, path)
    except BaseException:
        contract.discard(temp)
        raise


def _parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        target, sep, source = pair.partition("=")
        if not sep or not target or not source:
            raise LoadError(f"--map expects CONTRACT_COLUMN=SOURCE_COLUMN, got {pair!r}")
        mapping[target.strip()] = source.strip()
    return mapping


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    presets = "; ".join(f"{name}: {p.description}" for name, p in PRESETS.items())
    parser = argparse.ArgumentParser(
        prog="python -m ingest.load",
        description="Load a transaction log (CSV, CSV.gz or Parquet) into the raw landing "
        "contract (<out>/transactions.parquet, all text). A file that already "
        "uses the contract's column names needs no options. Errors are one line, exit 2.",
    )
    parser.add_argument(
        "path",
        type=Path,
        nargs="?",
        help="input .csv, .csv.gz or .parquet file (put it before --map)",
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
        help="decimal separator of text amounts. With ',' the accepted forms are 12,5 -3,00 "
        "1.234,50 (dot groups of 3 digits); other values with '.' or ',' are set aside as "
        "ambiguous_amount. With '.' 1,234.50 and 12,345,678 are thousands; one comma alone "
        "(1,5 or 1,234) is set aside as ambiguous_amount. Typed Parquet numbers are never "
        "re-read as text",
    )
    parser.add_argument(
        "--encoding", default="utf-8", help="CSV text encoding, e.g. latin-1, cp1252 (utf-8)"
    )
    parser.add_argument(
        "--timezone",
        default="UTC",
        help="zone that time-zone-aware timestamps are converted to (default UTC; "
        "naive timestamps are kept as written)",
    )
    what = parser.add_mutually_exclusive_group()
    what.add_argument(
        "--replace",
        action="store_true",
        help="replace a landing zone holding another import or a sample (kept for --undo)",
    )
    what.add_argument(
        "--append",
        action="store_true",
        help="add this file's rows to the earlier import (row counts are checked)",
    )
    what.add_argument(
        "--undo",
        action="store_true",
        help="swap the landing zone back to its state before the last import (again: redo)",
    )
    args = parser.parse_args(argv)
    if (args.path is None) != args.undo:
        parser.error("give a file to import, or --undo without one")
    return args


def _undo(out: Path) -> str:
    now, undone = landing.undo(out)
    return (
        f"{out} holds {now.describe()} again; {undone.describe()} is kept in "
        f"{out / landing.PREVIOUS_DIR} (--undo again to restore it)"
    )


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    try:
        if args.undo:
            print(_undo(args.out))
            return
        summary = load(
            args.path,
            args.out,
            mapping=_parse_mapping(args.mapping),
            preset=args.preset,
            date_format=args.date_format,
            decimal=args.decimal,
            encoding=args.encoding,
            timezone=args.timezone,
            replace=args.replace,
            append=args.append,
        )
    except LoadError as error:
        print(f"ingest.load: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except Exception as error:  # anything else: still one line, never a traceback
        detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
        print(f"ingest.load: error: {args.path}: {type(error).__name__}: {detail}", file=sys.stderr)
        raise SystemExit(2) from None
    print(summary.report())


if __name__ == "__main__":
    main()
