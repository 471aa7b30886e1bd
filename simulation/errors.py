"""User-facing input errors: where (file, line), which field, and what was expected.

The CLI prints `str(error)` on one line and exits with code 2; no traceback is
shown for a user's mistake.
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """A problem in a file or argument the user supplied."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        what = f"field '{self.field}': " if self.field else ""
        return f"{where}: {what}{self.message}"
