"""The importer's one kind of user-facing error: a message that names where the problem is.

``python -m ingest.load`` prints a ``LoadError`` as one line, ``FILE:LINE:COLUMN: message``
(line and column when they are known), and exits with status 2. A user with a broken export
needs to know which byte of which line to look at, not a DuckDB traceback.
"""

from __future__ import annotations

from pathlib import Path


class LoadError(Exception):
    """A problem with the input or the landing zone that the user can fix; never a bug."""

    def __init__(
        self,
        message: str,
        file: Path | str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message, self.file, self.line, self.column = message, file, line, column

    def __str__(self) -> str:
        where = [str(part) for part in (self.file, self.line, self.column) if part is not None]
        return ":".join([*where, " " + self.message]) if where else self.message
