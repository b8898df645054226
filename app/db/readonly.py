"""A read-only SQLite connection that never writes, never creates WAL files, never locks.

Storage's own tool (used by :mod:`app.db.database` to probe a file before opening it, and by
:mod:`app.safety.integrity` for its checks), so that storage imports nothing above it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote


@contextlib.contextmanager
def open_readonly(
    path: Path, *, immutable: bool = True, timeout: float = 5.0
) -> Iterator[sqlite3.Connection]:
    """A read-only connection to ``path``; ``immutable`` also skips locks and WAL files.

    Use ``immutable=False`` for a live database that may have committed pages in its WAL (it
    also notices another program's lock: ``SQLITE_BUSY`` after ``timeout`` seconds).
    """
    flags = "mode=ro&immutable=1" if immutable else "mode=ro"
    conn = sqlite3.connect(f"file:{quote(str(path))}?{flags}", uri=True, timeout=timeout)
    try:
        yield conn
    finally:
        conn.close()
