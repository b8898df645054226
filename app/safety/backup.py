"""Rotating backups of the SQLite clinic database, and restoring one safely.

Backups are made with SQLite's online backup API (:meth:`sqlite3.Connection.backup`) while the
program runs: the copy is one consistent snapshot even while the annotation panel autosaves,
including edits still in the ``-wal`` file. Each backup is a single self-contained file
(journal mode DELETE) in ``<data folder>/backups/``, readable by the owner only, named
``stride_clinic-YYYYMMDDTHHMMSSZ-<kind>.sqlite3`` (UTC).

Restoring never destroys the current state: the current database is backed up first (or,
when it is too damaged for the backup API, its files are copied byte for byte), then the chosen
backup is copied next to the database and swapped in with one atomic rename.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import sqlite3
import stat
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.db import errors
from app.errors import ClinicError
from app.paths import fsync_dir
from app.safety.integrity import FileReport, database_is_empty, inspect_file

if TYPE_CHECKING:
    from app.clinic import Clinic
    from app.paths import DataFolder

PREFIX = "stride_clinic-"
SUFFIX = ".sqlite3"
_NAME = re.compile(r"^stride_clinic-(\d{8}T\d{6})(?:\.(\d+))?Z-([a-z-]+)\.sqlite3$")
KINDS = ("auto", "manual", "before-restore")
# Safety copies taken before a restore are never rotated away while younger than this.
KEEP_BEFORE_RESTORE_DAYS = 30


class BackupError(ClinicError):
    """A backup or restore could not be done. ``message`` is for the clinician.

    ``kind`` is an :mod:`app.db.errors` kind when the cause is known (a full disk, a lock...):
    only a ``corrupt`` source justifies calling the database damaged.
    """

    def __init__(self, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


def _failure(exc: BaseException, doing: str, where: Path) -> BackupError:
    """The plain reason a backup or restore step failed, chosen by error code / errno."""
    kind = errors.kind_of(exc)
    if kind == errors.DISK_FULL:
        return BackupError(
            f"The {doing} failed because the disk is full ({where}). Free some space on the "
            "disk, then try again. Nothing has been changed; the database itself is fine.",
            kind,
        )
    if kind == errors.LOCKED:
        return BackupError(
            f"The {doing} could not be made just now: another program or a second copy of "
            "Stride Clinic is holding the database. Close it and try again. Nothing has been "
            "changed.",
            kind,
        )
    if kind == errors.READ_ONLY:
        return BackupError(
            f"The {doing} could not be written to {where}: this computer's user may not write "
            "there. Nothing has been changed.",
            kind,
        )
    if kind == errors.DISK_ERROR:
        return BackupError(
            f"The {doing} failed because the disk reported an error ({where}). Check that the "
            "disk is connected and has free space, then try again. Nothing has been changed.",
            kind,
        )
    if kind == errors.CORRUPT:
        return BackupError(
            f"The database could not be read for the {doing} ({exc}). It may be damaged; "
            "restore an earlier backup if the program reports problems.",
            kind,
        )
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return BackupError(
        f"The {doing} could not be made ({detail[:200]}). Nothing has been changed.", kind
    )


# How long a backup waits for another program that holds the database.
BACKUP_LOCK_WAIT_S = 5.0
_LOCKED_MESSAGE = (
    "The backup could not be made just now: another program or a second copy of Stride Clinic "
    "is holding the database. Close it and try again. Nothing has been changed."
)


class _StillLocked(ClinicError):
    """Raised inside the backup progress callback to stop a backup of a held database."""


def _give_up_when_locked(seconds: float):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds

    def progress(status: int, _remaining: int, _total: int) -> None:
        if status in (5, 6) and time.monotonic() > deadline:  # SQLITE_BUSY, SQLITE_LOCKED
            raise _StillLocked()

    return progress


# Room kept free beyond the copy itself, so a backup never fills the disk the database needs.
SPACE_MARGIN_BYTES = 2 * 1024 * 1024


def _check_space(folder: Path, needed: int, doing: str) -> None:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # unknown: the write itself will tell
    if free < needed + SPACE_MARGIN_BYTES:
        raise BackupError(
            f"The {doing} was not made because the disk is full ({folder} has "
            f"{free / 1e6:.0f} MB free, {(needed + SPACE_MARGIN_BYTES) / 1e6:.0f} MB are "
            "needed). Free some space on the disk, then try again. Nothing has been changed.",
            errors.DISK_FULL,
        )


def _db_size(db_path: Path) -> int:
    total = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(OSError):
            total += Path(f"{db_path}{suffix}").stat().st_size
    return total


@dataclass(frozen=True)
class BackupPolicy:
    """How often and how many (settings ``extra``: backup_every_hours/keep_daily/keep_weekly)."""

    every_hours: float = 12.0
    keep_daily: int = 7
    keep_weekly: int = 4

    @classmethod
    def from_extra(cls, extra: dict[str, object]) -> BackupPolicy:
        def num(key: str, default: float, lo: float) -> float:
            try:
                return max(lo, float(extra.get(key, default)))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return default

        return cls(
            every_hours=num("backup_every_hours", cls.every_hours, 0.0),
            keep_daily=int(num("backup_keep_daily", cls.keep_daily, 1)),
            keep_weekly=int(num("backup_keep_weekly", cls.keep_weekly, 0)),
        )


@dataclass(frozen=True)
class BackupInfo:
    """One backup file and what it contains (read from the file itself, read-only)."""

    path: Path
    created: dt.datetime  # UTC, naive
    kind: str
    report: FileReport

    @property
    def size_bytes(self) -> int:
        return self.report.size_bytes

    @property
    def ok(self) -> bool:
        return self.report.ok

    def describe(self) -> str:
        """One line for the restore list, in local time."""
        local = self.created.replace(tzinfo=dt.timezone.utc).astimezone()
        when = local.strftime("%Y-%m-%d %H:%M")
        size = f"{self.size_bytes / 1e6:.1f} MB"
        label = {"auto": "automatic", "manual": "manual", "before-restore": "before a restore"}
        if not self.ok:
            return f"{when} — {label.get(self.kind, self.kind)} — {size} — unusable: {self.report.problem}"
        return (
            f"{when} — {label.get(self.kind, self.kind)} — {size} — {self.report.patients} "
            f"patients, {self.report.visits} visits, {self.report.recordings} recordings"
        )


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)




def _owner_only_dir(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(folder, stat.S_IRWXU)


def parse_name(path: Path) -> tuple[dt.datetime, str] | None:
    """(UTC time, kind) from a backup file name, or None for other files."""
    m = _NAME.match(path.name)
    if not m:
        return None
    # ".N" marks the N-th backup within one second: it is newer than the one before it (and
    # must sort so, or rotation would delete the backup just made as an "older" duplicate).
    created = dt.datetime.strptime(m.group(1), "%Y%m%dT%H%M%S")
    return created + dt.timedelta(microseconds=int(m.group(2) or 0)), m.group(3)


def _target(backups_dir: Path, now: dt.datetime, kind: str) -> Path:
    """A new backup's name. Within one second the ".N" goes above every name of that second
    still in the folder, so a newer backup never takes a plain name that rotation freed
    (it would then sort as older than the ".1" beside it)."""
    stamp = now.strftime("%Y%m%dT%H%M%S")
    seen = [
        int(m.group(2) or 0)
        for p in backups_dir.glob(f"{PREFIX}{stamp}*{SUFFIX}")
        if (m := _NAME.match(p.name)) and m.group(1) == stamp
    ]
    k = max(seen) + 1 if seen else 0
    path = backups_dir / (
        f"{PREFIX}{stamp}.{k}Z-{kind}{SUFFIX}" if k else f"{PREFIX}{stamp}Z-{kind}{SUFFIX}"
    )
    while path.exists():
        k += 1
        path = backups_dir / f"{PREFIX}{stamp}.{k}Z-{kind}{SUFFIX}"
    return path


def backup_database(
    db_path: Path, backups_dir: Path, *, kind: str = "auto", now: dt.datetime | None = None
) -> BackupInfo:
    """Snapshot ``db_path`` into ``backups_dir`` with the online backup API; safe while in use.

    The snapshot is checked (``quick_check``) before it is renamed into place, so a listed
    backup is always complete. Raises :class:`BackupError`.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown backup kind {kind!r}")
    db_path, backups_dir = Path(db_path), Path(backups_dir)
    if not db_path.is_file():
        raise BackupError(f"There is no database at {db_path} to back up.")
    _owner_only_dir(backups_dir)
    _check_space(backups_dir, _db_size(db_path), "backup")
    now = now or _utcnow()
    tmp = backups_dir / f".{uuid.uuid4().hex}.backup-tmp"
    try:
        src = sqlite3.connect(db_path, timeout=1.0)  # the progress hook bounds the wait
        try:
            dst = sqlite3.connect(tmp)
            try:
                # One step: a consistent snapshot, WAL content included. Python retries a busy
                # source for ever; the progress hook gives up after BACKUP_LOCK_WAIT_S.
                src.backup(dst, progress=_give_up_when_locked(BACKUP_LOCK_WAIT_S))
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                check = dst.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                dst.close()
        finally:
            src.close()
        if check != "ok":
            raise BackupError(
                f"The backup could not be verified ({check}); the database may be damaged.",
                errors.CORRUPT,
            )
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, stat.S_IRUSR | stat.S_IWUSR)
        final = _target(backups_dir, now, kind)
        os.replace(tmp, final)
        fsync_dir(backups_dir)
    except _StillLocked as exc:
        raise BackupError(_LOCKED_MESSAGE, errors.LOCKED) from exc
    except (sqlite3.Error, OSError) as exc:
        # By the error code: a full disk or a lock is not a damaged database.
        raise _failure(exc, "backup", backups_dir) from exc
    finally:
        for leftover in (tmp, Path(f"{tmp}-journal")):
            with contextlib.suppress(OSError):
                leftover.unlink()
    return BackupInfo(final, now, kind, inspect_file(final))


def list_backups(backups_dir: Path) -> list[BackupInfo]:
    """Every backup file, newest first, with its contents read from the file (read-only)."""
    backups_dir = Path(backups_dir)
    if not backups_dir.is_dir():
        return []
    found = []
    for path in backups_dir.glob(f"{PREFIX}*{SUFFIX}"):
        parsed = parse_name(path)
        if parsed is None:
            continue
        found.append(BackupInfo(path, parsed[0], parsed[1], inspect_file(path)))
    return sorted(found, key=lambda b: (b.created, b.path.name), reverse=True)


def newest_backup_time(backups_dir: Path) -> dt.datetime | None:
    """UTC time of the newest backup file (by name; no file is opened)."""
    times = [p[0] for f in Path(backups_dir).glob(f"{PREFIX}*{SUFFIX}") if (p := parse_name(f))]
    return max(times) if times else None


def needs_backup(backups_dir: Path, every_hours: float, now: dt.datetime | None = None) -> bool:
    newest = newest_backup_time(backups_dir)
    now = now or _utcnow()
    return newest is None or (now - newest) >= dt.timedelta(hours=every_hours)


def rotate(
    backups_dir: Path,
    *,
    keep_daily: int = 7,
    keep_weekly: int = 4,
    now: dt.datetime | None = None,
    keep_path: Path | None = None,
) -> list[Path]:
    """Delete old backups; keep the newest of each of the last ``keep_daily`` days that have one
    and of each of the last ``keep_weekly`` ISO weeks, plus recent before-restore copies.
    Returns the removed files."""
    now = now or _utcnow()
    entries = []
    for f in Path(backups_dir).glob(f"{PREFIX}*{SUFFIX}"):
        parsed = parse_name(f)
        if parsed:
            entries.append((parsed[0], f.name, f, parsed[1]))
    entries.sort(reverse=True)  # newest first
    keep: set[Path] = set()
    days: list[dt.date] = []
    weeks: list[tuple[int, int]] = []
    for created, _name, path, kind in entries:
        if kind == "before-restore" and now - created < dt.timedelta(days=KEEP_BEFORE_RESTORE_DAYS):
            keep.add(path)
            continue
        day = created.date()
        week = tuple(created.isocalendar())[:2]
        if day not in days and len(days) < keep_daily:
            days.append(day)
            keep.add(path)
        if week not in weeks and len(weeks) < keep_weekly:
            weeks.append(week)  # type: ignore[arg-type]
            keep.add(path)
    if entries:
        keep.add(entries[0][2])  # never remove the newest backup
    if keep_path is not None:
        keep.add(Path(keep_path))  # nor the one just made
    removed = []
    for _c, _n, path, _k in entries:
        if path not in keep:
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


# --- using the clinic -----------------------------------------------------------------------


def _require_sqlite(clinic: Clinic) -> Path:
    path = clinic.db.sqlite_path
    if path is None:
        raise BackupError(
            "This workstation uses the clinic's database server. Backups of a server database "
            "are made on the server (see the clinic-server guide), not here."
        )
    return path


def backup_now(clinic: Clinic, *, kind: str = "manual") -> BackupInfo:
    """Back up the open clinic's database now (File ▸ Back up now), then rotate."""
    info = backup_database(_require_sqlite(clinic), clinic.folder.backups, kind=kind)
    policy = BackupPolicy.from_extra(clinic.settings.extra)
    rotate(
        clinic.folder.backups,
        keep_daily=policy.keep_daily,
        keep_weekly=policy.keep_weekly,
        keep_path=info.path,
    )
    return info


def auto_backup(clinic: Clinic, *, now: dt.datetime | None = None) -> BackupInfo | None:
    """Back up if the newest backup is older than the policy's interval (start-up and timer).

    Returns None when no backup was due or the database is on a server.
    """
    if clinic.db.sqlite_path is None:
        return None
    policy = BackupPolicy.from_extra(clinic.settings.extra)
    if not needs_backup(clinic.folder.backups, policy.every_hours, now):
        return None
    info = backup_database(clinic.db.sqlite_path, clinic.folder.backups, kind="auto", now=now)
    rotate(
        clinic.folder.backups,
        keep_daily=policy.keep_daily,
        keep_weekly=policy.keep_weekly,
        now=now,
        keep_path=info.path,
    )
    return info


def _keep_damaged_copy(db_path: Path, backups_dir: Path) -> Path:
    """Byte-for-byte copy of a database (and its -wal/-shm) the backup API cannot read.

    Raises :class:`BackupError` (and leaves no partial copy) when the copy cannot be made.
    """
    folder = backups_dir / f"damaged-{_utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    try:
        _check_space(backups_dir, _db_size(db_path), "copy of the current database")
        _owner_only_dir(folder)
        for suffix in ("", "-wal", "-shm"):
            src = Path(f"{db_path}{suffix}")
            if src.exists():
                shutil.copy2(src, folder / src.name)
        fsync_dir(folder)
    except (OSError, BackupError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, BackupError):
            raise
        raise _failure(exc, "copy of the current database", backups_dir) from exc
    return folder


def restore_file(db_path: Path, backup_path: Path, backups_dir: Path) -> Path | None:
    """Replace the database at ``db_path`` by ``backup_path``; return where the old one was kept.

    Every connection to ``db_path`` in this process must be closed first
    (``Database.dispose()``). Raises :class:`BackupError` (nothing changed) when the backup is
    unusable or written by a newer version.
    """
    from app.db.database import all_revisions

    db_path, backup_path, backups_dir = Path(db_path), Path(backup_path), Path(backups_dir)
    report = inspect_file(backup_path, full=True)
    if not report.ok:
        raise BackupError(f"The backup {backup_path.name} cannot be restored: {report.problem}.")
    if report.revision is not None and report.revision not in all_revisions():
        raise BackupError(
            f"The backup {backup_path.name} was made by a newer version of Stride Clinic. "
            "Install that version to restore it."
        )
    kept: Path | None = None
    if db_path.exists() and not database_is_empty(db_path):  # an empty file holds nothing to keep
        try:
            kept = backup_database(db_path, backups_dir, kind="before-restore").path
        except BackupError as exc:
            if exc.kind not in (errors.CORRUPT, None):
                raise  # a full disk or a lock: restoring now could not keep the current state
            kept = _keep_damaged_copy(db_path, backups_dir)
        # Fold the WAL into the old file so no stale -wal is left to be replayed onto the
        # restored one; if the old file is too damaged for that, its copy is already kept.
        with contextlib.suppress(sqlite3.DatabaseError):
            conn = sqlite3.connect(db_path, timeout=10.0)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
    tmp = db_path.with_name(f".{db_path.name}.{uuid.uuid4().hex}.restoring")
    try:
        _check_space(db_path.parent, backup_path.stat().st_size, "restore")
        shutil.copyfile(backup_path, tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, stat.S_IRUSR | stat.S_IWUSR)
        for suffix in ("-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        os.replace(tmp, db_path)
        fsync_dir(db_path.parent)
    except (OSError, BackupError) as exc:
        failure = exc if isinstance(exc, BackupError) else _failure(exc, "restore", db_path.parent)
        raise BackupError(
            failure.message.replace("Nothing has been changed", "The current database is unchanged")
            + (f" A copy of it is also kept in {kept}." if kept else ""),
            failure.kind,
        ) from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return kept


def restore_into_clinic(clinic: Clinic, backup_path: Path) -> Path | None:
    """Restore ``backup_path`` under the running program and reopen the database.

    ``clinic.db`` is replaced by a new, migrated :class:`~app.db.database.Database`; widgets
    that use ``clinic.db`` must reload what they show. Returns where the previous database was
    kept. If the restored file cannot be opened, the previous database is put back.
    """
    from app.clinic import open_clinic_database
    from app.db.database import DatabaseError, sqlite_url

    db_path = _require_sqlite(clinic)
    clinician_id = clinic.db.clinician_id
    clinic.db.dispose()
    try:
        kept = restore_file(db_path, backup_path, clinic.folder.backups)
    except BackupError:
        # Nothing was swapped: the disposed engine opens fresh connections to the unchanged
        # file on its next use (reopening could itself fail on a full disk).
        raise
    except OSError as exc:  # never a raw OSError on screen
        raise _failure(exc, "restore", db_path.parent) from exc
    _forget_audit_head(db_path)
    try:
        clinic.db = open_clinic_database(sqlite_url(db_path))
    except DatabaseError as exc:
        if kept is not None and kept.is_file():
            restore_file(db_path, kept, clinic.folder.backups)
            clinic.db = open_clinic_database(sqlite_url(db_path))
        raise BackupError(f"The restored database could not be opened: {exc.message}") from exc
    clinic.db.clinician_id = clinician_id
    return kept


def _forget_audit_head(db_path: Path) -> None:
    """A restored database legitimately ends its audit trail earlier than the one it replaced."""
    from app.safety.audit_chain import forget_head

    forget_head(db_path)


def restore_latest_backup(folder: DataFolder | None = None) -> BackupInfo:
    """Restore the newest usable backup into ``folder`` (default: the active data folder).

    For start-up when the database fails its integrity check: no database is open. The
    damaged database is kept (copied into the backups folder) before the swap. Raises
    :class:`BackupError` when there is no usable backup.
    """
    from app.db.database import all_revisions
    from app.paths import data_folder

    folder = folder or data_folder()
    known = set(all_revisions())
    for info in list_backups(folder.backups):
        if info.ok and (info.report.revision is None or info.report.revision in known):
            try:
                restore_file(folder.database, info.path, folder.backups)
            except OSError as exc:
                raise _failure(exc, "restore", folder.root) from exc
            _forget_audit_head(folder.database)
            return info
    raise BackupError(
        f"There is no usable backup in {folder.backups}. Contact support; the damaged "
        "database has not been changed."
    )


#: File endings of the videos Stride Clinic records or imports (capture writes .mkv).
VIDEO_SUFFIXES = frozenset({".mkv", ".mp4", ".mov", ".avi", ".m4v", ".webm", ".mts", ".3gp"})


def videos_without_record(clinic: Clinic) -> list[Path]:
    """Videos in the clinic's videos folder that no recording of the database names.

    After a restore these are the videos filmed or imported after the backup was made: they are
    kept (videos are not in database backups, and deleting one would lose it for good) and the
    clinician is told where they are. Their folders are named by never-reused uids, so no new
    record can adopt them.
    """
    from sqlalchemy import select

    from app.db.models import Recording
    from app.records.media import resolve_stored

    root = clinic.videos_root
    if not root.is_dir():
        return []
    with clinic.db.session() as s:
        named = {
            os.path.normcase(str(resolve_stored(stored, root).resolve()))
            for (stored,) in s.execute(select(Recording.video_path))
            if stored
        }
    found = [
        p
        for p in root.rglob("*")
        if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file() and not p.is_symlink()
    ]
    return sorted(p for p in found if os.path.normcase(str(p.resolve())) not in named)
