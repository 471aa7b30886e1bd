"""User-facing input errors: where (file, line), which field, and what was expected.

The CLI prints `str(error)` on one line and exits with code 2; no traceback is
shown for a user's mistake.
"""

from __future__ import annotations

import stat
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


NOT_FOUND = "does not exist"


def missing(path: Path) -> str | None:
    """Why nothing is at `path` (following links): NOT_FOUND, or the system's reason when the path
    cannot even be looked at (a name too long, a loop of symbolic links, a path through a file, a
    NUL byte); None when something is there. Never raises: `Path.exists` raises on a name too long."""
    try:
        path.stat()
    except FileNotFoundError:
        return NOT_FOUND
    except OSError as exc:
        return str(exc.strerror or exc)
    except ValueError:  # an embedded NUL byte
        return "a path cannot contain a NUL byte"
    return None


def unreadable(path: Path, absent: str = NOT_FOUND) -> str | None:
    """What a reader says, after a file's name, of a file a user named that it cannot open: None when
    something is there, `absent` when nothing is (NOT_FOUND, or the reader's own words, 'not found'),
    else 'cannot be read (WHY)' with the system's reason (a name too long, a loop of links)."""
    problem = missing(path)
    if problem is None:
        return None
    return absent if problem == NOT_FOUND else f"cannot be read ({problem})"


def read_text_file(path: Path, what: str, max_bytes: int) -> str:
    """A user's text file, whole, as UTF-8, or one `InputError` naming it: missing, unreadable, not
    a regular file (a device or a pipe could stream forever), larger than `max_bytes`, not UTF-8."""
    problem = missing(path)
    if problem is not None:
        raise InputError(f"{what} not found" if problem == NOT_FOUND else f"cannot read {what}: {problem}", file=path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{what} is not a regular file", file=path)
        if info.st_size > max_bytes:
            raise InputError(f"{what} is larger than {max_bytes} bytes", file=path)
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror or exc}", file=path) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} is not UTF-8 text (byte {raw[exc.start]:#04x}); save it as UTF-8", file=path,
                         line=raw[:exc.start].count(b"\n") + 1) from None
