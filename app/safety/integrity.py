"""Read-only checks of SQLite database files (the live database or a backup).

A file is opened with ``mode=ro&immutable=1`` so that checking it never writes, never creates
``-wal``/``-shm`` files next to it, and never takes a lock a running app would notice.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from app.db.readonly import open_readonly  # storage owns it; re-exported here


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


def _files_in(folder: Path, limit: int = 1000) -> int:
    """How many files are under ``folder`` (counting stops at ``limit``: a sign, not a census)."""
    n = 0
    try:
        for _dirpath, _dirs, files in os.walk(folder):
            n += sum(1 for f in files if not f.startswith("."))
            if n >= limit:
                break
    except OSError:
        return 0
    return n


def earlier_clinic_signs(root: Path, videos_root: Path | None = None) -> list[str]:
    """What in the data folder ``root`` shows that a clinic worked here before.

    Videos, stills, printed programs and database backups are only ever written by a clinic
    with a database, so any of them next to an empty or missing database means the database
    was lost, not that the clinic is new. Empty sub-folders (as created on first start) are
    no sign. Returns short plain phrases ("3 backups", "12 video files"), empty for a new folder.
    """
    root = Path(root)
    signs: list[str] = []
    backups = root / "backups"
    n_backups = 0
    with contextlib.suppress(OSError):
        n_backups = sum(
            1
            for p in backups.iterdir()
            if (p.name.startswith("stride_clinic-") and p.suffix == ".sqlite3")
            or (p.is_dir() and p.name.startswith("damaged-"))
        )
    if n_backups:
        signs.append(f"{n_backups} database backup{'s' if n_backups != 1 else ''} in {backups}")
    for label, folder in (
        ("video files", videos_root or root / "videos"),
        ("stills", root / "stills"),
        ("printed home programs", root / "programs"),
    ):
        n = _files_in(folder)
        if n:
            signs.append(f"{n if n < 1000 else 'over 1000'} {label} in {folder}")
    return signs


def database_is_empty(path: Path) -> bool:
    """True when ``path`` is missing or 0 bytes (with no WAL content that could fill it)."""
    path = Path(path)
    try:
        if path.stat().st_size > 0:
            return False
    except FileNotFoundError:
        pass
    except OSError:
        return False
    try:
        return Path(f"{path}-wal").stat().st_size == 0
    except OSError:
        return True
