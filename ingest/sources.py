"""Read one source file into DuckDB table ``src``, every column as text, without changing it.

CSV (optionally gzipped) is read as text in the encoding the user names. Anything DuckDB cannot
read is diagnosed here so the user sees one line naming the file, line and column: a byte that
is not valid in the encoding, or a *ragged* line (more or fewer fields than the header) — which
DuckDB's dialect sniffer otherwise turns into a one-column table and a misleading "required
column not found".

Parquet keeps its types until this module turns them into text, and that text must keep the
value's identity, because an id or an amount that changes here changes silently downstream:

* DOUBLE/FLOAT: integral values without a fraction (customer id ``17850.0`` → ``17850``),
  others as their shortest round-trip text (``1234.5``, ``0.1``); NaN is a missing value
  (null), never the text ``nan``. DECIMAL and integers are their exact text.
* TIMESTAMP WITH TIME ZONE is converted to the ``--timezone`` zone (UTC by default), never to
  the machine's local zone; a naive TIMESTAMP or DATE is kept as written (it has no zone).

The names of these typed numeric columns are returned, so the importer never re-parses them as
text (``--decimal ,`` applies to text only).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import tempfile
from contextlib import contextmanager
from pathlib import Path

import duckdb

from ingest.errors import LoadError

ISO_TIMESTAMP = "%Y-%m-%d %H:%M:%S"
ISO_DATE = "%Y-%m-%d"
DELIMITERS = (",", ";", "\t", "|")


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def register(
    con: duckdb.DuckDBPyConnection, path: Path, *, encoding: str, timezone: str
) -> tuple[list[str], frozenset[str]]:
    """Create table ``src`` from ``path``; return its column names and the typed numeric ones."""
    if not path.is_file():
        raise LoadError("no such file", path)
    if path.stat().st_size == 0:
        raise LoadError("the file is empty (not even a header line)", path)
    if path.name.lower().endswith((".parquet", ".pq")):
        typed = _register_parquet(con, path, timezone)
    else:
        _register_csv(con, path, encoding)
        typed = frozenset()
    return [row[0] for row in con.execute("describe src").fetchall()], typed


def _text_of_number(column: str) -> str:
    """SQL: a DOUBLE/FLOAT as text that keeps its identity (see the module docstring)."""
    return (
        f"case when isnan({column}) then null "
        f"when not isinf({column}) and {column} = trunc({column}) and abs({column}) < 1e38 "
        f"then cast(cast({column} as hugeint) as varchar) "
        f"else cast({column} as varchar) end"
    )


def _check_utf8(con: duckdb.DuckDBPyConnection, column: str, path: Path) -> None:
    """A BINARY column (text some writers store without Parquet's UTF8 annotation) is read as
    the UTF-8 text it holds; a cast would write 'José' as 'Jos\\xC3\\xA9', an id nobody has.
    Bytes that are not UTF-8 stop the import, named as a CSV's are, rather than be guessed."""
    q = quote(column)
    bad = con.execute(
        f"select {q}, count(*) over () from raw_src "
        f"where {q} is not null and try(decode({q})) is null limit 1"
    ).fetchall()
    if bad:
        value, count = bad[0]
        raise LoadError(
            f"column {column!r} holds bytes that are not UTF-8 text in {count:,} rows (e.g. "
            f"{bytes(value)[:40]!r}); write it as a string column",
            path,
        )


def _register_parquet(con: duckdb.DuckDBPyConnection, path: Path, timezone: str) -> frozenset[str]:
    try:
        con.execute(f"create view raw_src as select * from read_parquet({literal(str(path))})")
        described = con.execute("describe raw_src").fetchall()
    except duckdb.Error as error:
        raise LoadError(f"not a readable Parquet file ({_first_line(error)})", path) from None
    casts, typed = [], set()
    for column, dtype, *_ in described:
        q = quote(column)
        if dtype == "TIMESTAMP WITH TIME ZONE":
            expr = f"strftime(timezone({literal(timezone)}, {q}), '{ISO_TIMESTAMP}')"
        elif dtype == "DATE":
            expr = f"strftime({q}, '{ISO_DATE}')"
        elif dtype.startswith("TIMESTAMP"):
            expr = f"strftime(cast({q} as timestamp), '{ISO_TIMESTAMP}')"
        elif dtype in ("DOUBLE", "FLOAT"):
            expr, typed = _text_of_number(q), typed | {column}
        elif dtype.startswith("DECIMAL") or dtype.endswith(("INT", "INTEGER")):
            expr, typed = f"cast({q} as varchar)", typed | {column}
        elif dtype == "BLOB":
            _check_utf8(con, column, path)
            expr = f"decode({q})"
        else:
            expr = f"cast({q} as varchar)"
        casts.append(f"{expr} as {q}")
    con.execute(f"create table src as select {', '.join(casts)} from raw_src")
    return frozenset(typed)


def _register_csv(con: duckdb.DuckDBPyConnection, path: Path, encoding: str) -> None:
    with _as_utf8(path, encoding) as readable:
        try:
            con.execute(
                "create table src as select * from read_csv("
                f"{literal(str(readable))}, all_varchar = true, header = true)"
            )
        except duckdb.Error as error:
            _diagnose_csv(path, readable, encoding)
            raise LoadError(f"cannot read this CSV ({_first_line(error)})", path) from None
        columns = [row[0] for row in con.execute("describe src").fetchall()]
        if len(columns) == 1 and any(d in columns[0] for d in DELIMITERS):
            # the sniffer gave up on the dialect and read whole lines: find out why
            _diagnose_csv(path, readable, encoding)


@contextmanager
def _as_utf8(path: Path, encoding: str):
    """Yield a UTF-8 readable path: ``path`` itself, or a transcoded temporary copy.

    Transcoding line by line (on bytes) lets a byte that is undefined in the encoding (cp1252
    has five) be reported with its line and column.
    """
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise LoadError(f"unknown --encoding {encoding!r}") from None
    if info.name == "utf-8":
        yield path
        return
    if "a,;\t|\n".encode(info.name) != b"a,;\t|\n":
        raise LoadError(f"--encoding {encoding!r} is not ASCII-compatible; convert to UTF-8 first")
    with tempfile.TemporaryDirectory(prefix="ingest-") as folder:
        target = Path(folder) / (path.name.removesuffix(".gz") or "source.csv")
        with _open_bytes(path) as source, open(target, "w", encoding="utf-8", newline="") as out:
            for number, line in enumerate(source, start=1):
                out.write(_decode(line, info.name, path, number))
        yield target


def _open_bytes(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _decode(line: bytes, encoding: str, path: Path, number: int) -> str:
    try:
        return line.decode(encoding)
    except UnicodeDecodeError as error:
        column = len(line[: error.start].decode(encoding, errors="replace")) + 1
        hint = " (try --encoding latin-1 or cp1252)" if encoding == "utf-8" else ""
        raise LoadError(
            f"byte 0x{line[error.start]:02x} is not valid {encoding}{hint}", path, number, column
        ) from None


def _diagnose_csv(path: Path, readable: Path, encoding: str) -> None:
    """Raise a ``LoadError`` naming the first undecodable byte or ragged line, if any.

    Runs only when DuckDB could not read the file (or read it as one column), so its cost — one
    pass in Python — is paid only on the error path.
    """
    if codecs.lookup(encoding).name == "utf-8":
        with _open_bytes(path) as source:
            for number, line in enumerate(source, start=1):
                _decode(line, "utf-8", path, number)
    with _open_bytes(readable) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
        header_line = text.readline()
        delimiter = max(DELIMITERS, key=header_line.count)
        if header_line.count(delimiter) == 0:
            return
        text.seek(0)
        reader = csv.reader(text, delimiter=delimiter)
        expected = len(next(reader))
        for row in _rows_until_unreadable(reader):
            if row and len(row) != expected:
                many = "too many" if len(row) > expected else "too few"
                raise LoadError(
                    f"ragged line: {len(row)} fields where the header has {expected} "
                    f"({many} {delimiter!r}-separated fields)",
                    path,
                    reader.line_num,
                )


def _rows_until_unreadable(reader):
    """The rows ``csv`` can parse; stops quietly at one it cannot (DuckDB's message then says
    what is wrong)."""
    try:
        yield from reader
    except csv.Error:
        return


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
