"""Read-only checks of SQLite database files (the live database or a backup).

A file is opened with ``mode=ro&immutable=1`` so that checking it never writes, never creates
``-wal``/``-shm`` files next to it, and never takes a lock a running app would notice.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote


@dataclass(frozen=True)
class FileReport:
    """What a database file contains, read from the file itself."""

    path: Path
    ok: bool
    problem: str = ""
    revision: str | None = None
    patients: int = 0
    visits: int = 0
    recordings: int = 0
    size_bytes: int = 0


@contextlib.contextmanager
def open_readonly(path: Path, *, immutable: bool = True) -> Iterator[sqlite3.Connection]:
    """A read-only connection to ``path``; ``immutable`` also skips locks and WAL files.

    Use ``immutable=False`` for a live database that may have committed pages in its WAL.
    """
    flags = "mode=ro&immutable=1" if immutable else "mode=ro"
    conn = sqlite3.connect(f"file:{quote(str(path))}?{flags}", uri=True, timeout=5.0)
    try:
        yield conn
    finally:
        conn.close()


def _count(conn: sqlite3.Connection, table: str) -> int:
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
    except sqlite3.DatabaseError:
        return 0


def inspect_file(path: Path, *, immutable: bool = True, full: bool = False) -> FileReport:
    """Check ``path`` (``quick_check``, or ``integrity_check`` when ``full``) and count records.

    Never raises for a bad file: ``ok`` is False and ``problem`` says why in plain words.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        return FileReport(path, False, f"the file cannot be read ({exc.strerror or exc})")
    if size == 0:
        return FileReport(path, False, "the file is empty", size_bytes=0)
    try:
        with open_readonly(path, immutable=immutable) as conn:
            pragma = "integrity_check" if full else "quick_check"
            check = str(conn.execute(f"PRAGMA {pragma}").fetchone()[0])
            if check != "ok":
                return FileReport(path, False, f"it is damaged ({check})", size_bytes=size)
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "patient" not in tables:
                return FileReport(
                    path, False, "it is not a Stride Clinic database", size_bytes=size
                )
            revision = None
            if "alembic_version" in tables:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = row[0] if row else None
            return FileReport(
                path,
                True,
                revision=revision,
                patients=_count(conn, "patient"),
                visits=_count(conn, "visit"),
                recordings=_count(conn, "recording"),
                size_bytes=size,
            )
    except sqlite3.DatabaseError as exc:
        return FileReport(path, False, f"it is not a readable database ({exc})", size_bytes=size)


def check_live_database(path: Path) -> str:
    """``quick_check`` of the live database including its WAL; "ok" or the problem."""
    report = inspect_file(path, immutable=False)
    return "ok" if report.ok else report.problem
