"""Opening the database under faults: locks, empty files where a clinic was, foreign files,
failed migrations, read-only and full disks (issue 13, items 2-5)."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy import exc as sa_exc

from app.clinic import open_clinic
from app.db import database as dbmod
from app.db import errors
from app.db.database import (
    DatabaseCorrupt,
    DatabaseError,
    DatabaseLocked,
    DatabaseMissing,
    DatabaseUnavailable,
    open_database,
    sqlite_url,
)
from app.db.models import Patient
from app.paths import DataFolder
from app.records.patients import PatientData, create_patient
from app.safety import backup as bk


def _add(db, *names: str) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        for n in names:
            create_patient(s, PatientData(full_name=n))


def _count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        n = conn.execute("SELECT count(*) FROM patient").fetchone()[0]
    conn.close()
    return int(n)


def _hold_exclusive(path: Path) -> sqlite3.Connection:
    """Another program's connection holding the whole file (PRAGMA locking_mode=EXCLUSIVE)."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    return holder


@pytest.fixture
def clinic_db(tmp_path: Path) -> Path:
    path = tmp_path / "c.sqlite3"
    db = open_database(sqlite_url(path))
    _add(db, *(f"Patient {i}" for i in range(7)))
    db.dispose()
    return path


# --- locks ---------------------------------------------------------------------------------


def test_a_locked_database_is_locked_not_damaged_and_nothing_is_rolled_back(
    clinic_db: Path,
) -> None:
    holder = _hold_exclusive(clinic_db)
    t = time.monotonic()
    try:
        with pytest.raises(DatabaseLocked) as err:
            open_database(sqlite_url(clinic_db), lock_wait_s=1.0)
    finally:
        holder.rollback()
        holder.close()
    waited = time.monotonic() - t
    assert not isinstance(err.value, DatabaseCorrupt)  # so no restore can be offered
    assert "another program" in err.value.message and "second copy" in err.value.message
    assert "not damaged" in err.value.message
    assert 1.0 <= waited < 8.0  # it waited and retried, bounded
    assert _count(clinic_db) == 7
    open_database(sqlite_url(clinic_db)).dispose()  # and it opens once the lock is gone


def test_a_lock_released_while_waiting_opens_normally(clinic_db: Path) -> None:
    holder = _hold_exclusive(clinic_db)

    def release() -> None:
        time.sleep(0.6)
        holder.rollback()
        holder.close()

    threading.Thread(target=release).start()
    db = open_database(sqlite_url(clinic_db), lock_wait_s=5.0)
    with db.session() as s:
        assert s.scalar(select(func.count(Patient.id))) == 7
    db.dispose()


def _other_process(path: Path, exclusive_mode: bool) -> subprocess.Popen:
    """A second program holding the database: BEGIN EXCLUSIVE, optionally in exclusive mode."""
    mode = "c.execute('PRAGMA locking_mode=EXCLUSIVE')\n" if exclusive_mode else ""
    script = (
        "import sqlite3, time\n"
        f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
        f"{mode}c.execute('BEGIN EXCLUSIVE')\n"
        "c.execute('UPDATE patient SET notes = notes'); print('held', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen(["python3", "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_lock_held_by_another_process_is_reported_as_such(clinic_db: Path) -> None:
    proc = _other_process(clinic_db, exclusive_mode=True)
    try:
        with pytest.raises(DatabaseLocked):
            open_database(sqlite_url(clinic_db), lock_wait_s=0.5)
    finally:
        proc.kill()
        proc.wait()
    assert _count(clinic_db) == 7


def test_another_process_writing_does_not_stop_the_clinic_from_opening(clinic_db: Path) -> None:
    """BEGIN EXCLUSIVE on a WAL database blocks writers only: the clinic opens and reads."""
    proc = _other_process(clinic_db, exclusive_mode=False)
    try:
        db = open_database(sqlite_url(clinic_db), lock_wait_s=0.5)
        with db.session() as s:
            assert s.scalar(select(func.count(Patient.id))) == 7
        db.dispose()
    finally:
        proc.kill()
        proc.wait()


def test_error_kinds_come_from_sqlite_result_codes(clinic_db: Path, tmp_path: Path) -> None:
    holder = _hold_exclusive(clinic_db)
    other = sqlite3.connect(clinic_db, timeout=0.05)
    with pytest.raises(sqlite3.OperationalError) as busy:
        other.execute("SELECT count(*) FROM patient").fetchall()
    holder.rollback()
    holder.close()
    other.close()
    assert errors.kind_of(busy.value) == errors.LOCKED
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"x" * 8192)
    with pytest.raises(sqlite3.DatabaseError) as notadb:
        sqlite3.connect(junk).execute("SELECT 1 FROM sqlite_master").fetchall()
    assert errors.kind_of(notadb.value) == errors.CORRUPT
    assert errors.kind_of(OSError(errno.ENOSPC, "No space left on device")) == errors.DISK_FULL
    assert errors.kind_of(ValueError("x")) is None


# --- empty or missing database where a clinic was -------------------------------------------


def _earlier_clinic(home: Path) -> DataFolder:
    clinic = open_clinic(folder=DataFolder(home))
    _add(clinic.db, "Ana Ruiz", "Ben Ode")
    bk.backup_now(clinic)
    video = clinic.folder.videos / "patient_0001" / "visit_0001" / "run.mp4"
    video.parent.mkdir(parents=True)
    video.write_bytes(b"\x00" * 1000)
    folder = clinic.folder
    clinic.close()
    return folder


def test_a_zero_byte_database_beside_an_earlier_clinic_is_refused_not_emptied(
    tmp_path: Path,
) -> None:
    folder = _earlier_clinic(tmp_path / "home")
    for suffix in ("-wal", "-shm"):
        Path(f"{folder.database}{suffix}").unlink(missing_ok=True)
    folder.database.write_bytes(b"")
    with pytest.raises(DatabaseMissing) as err:
        open_clinic(folder=folder)
    assert isinstance(err.value, DatabaseCorrupt)  # the start-up flow offers the newest backup
    assert "empty" in err.value.message and "backup" in err.value.message
    assert folder.database.stat().st_size == 0  # no empty clinic was created in its place
    bk.restore_latest_backup(folder)
    clinic = open_clinic(folder=folder)
    with clinic.db.session() as s:
        assert s.scalar(select(func.count(Patient.id))) == 2
    clinic.close()


def test_a_missing_database_beside_videos_only_is_refused(tmp_path: Path) -> None:
    folder = _earlier_clinic(tmp_path / "home")
    shutil.rmtree(folder.backups)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{folder.database}{suffix}").unlink(missing_ok=True)
    with pytest.raises(DatabaseMissing) as err:
        open_clinic(folder=folder)
    assert "is missing" in err.value.message and "video files" in err.value.message
    assert not folder.database.exists()


def test_a_new_folder_and_an_empty_file_in_a_new_folder_start_empty(tmp_path: Path) -> None:
    clinic = open_clinic(folder=DataFolder(tmp_path / "new"))  # creates empty sub-folders
    folder = clinic.folder
    clinic.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{folder.database}{suffix}").unlink(missing_ok=True)
    folder.database.write_bytes(b"")
    clinic = open_clinic(folder=folder)  # still a new clinic: nothing shows an earlier one
    with clinic.db.session() as s:
        assert s.scalar(select(func.count(Patient.id))) == 0
    clinic.close()


# --- the migration-failure message ---------------------------------------------------------


def test_a_failed_migration_says_so_briefly_and_logs_the_sql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "c.sqlite3"
    db = open_database(sqlite_url(path))
    db.downgrade("0003")
    db.dispose()
    sql = "ALTER TABLE audit_log ADD COLUMN chain_hash VARCHAR(64) " + "/* padding */ " * 60

    def fail(self, revision="head"):  # type: ignore[no-untyped-def]
        raise sa_exc.OperationalError(sql, {}, sqlite3.OperationalError("near x: syntax error"))

    monkeypatch.setattr(dbmod.Database, "upgrade", fail)
    with (
        caplog.at_level(logging.ERROR, logger="app.db.database"),
        pytest.raises(DatabaseError) as err,
    ):
        open_database(sqlite_url(path))
    assert len(err.value.message) < 400
    assert "ALTER TABLE" not in err.value.message and "rolled back" in err.value.message
    assert "ALTER TABLE audit_log" in caplog.text


# --- read-only, locked and full databases while the program runs ----------------------------


def test_a_read_only_database_gives_a_plain_error_that_is_still_an_operational_error(
    clinic_db: Path,
) -> None:
    db = open_database(sqlite_url(clinic_db))
    event.listen(db.engine, "connect", lambda c, _r: c.execute("PRAGMA query_only = 1"))
    db.engine.dispose()
    with pytest.raises(DatabaseUnavailable) as err:
        _add(db, "Cara Lee")
    assert err.value.kind == errors.READ_ONLY
    assert isinstance(err.value, sa_exc.OperationalError)  # older handlers still catch it
    assert "cannot be written" in err.value.message and str(err.value) == err.value.message
    with db.session() as s:  # reading still works
        assert s.scalar(select(func.count(Patient.id))) == 7
    db.dispose()


def test_a_save_during_a_lock_says_another_program_holds_the_database(
    clinic_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 200)
    db = open_database(sqlite_url(clinic_db))
    holder = sqlite3.connect(clinic_db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another copy in the middle of a save
    try:
        with pytest.raises(DatabaseUnavailable) as err:
            _add(db, "Cara Lee")
    finally:
        holder.rollback()
        holder.close()
    assert err.value.kind == errors.LOCKED and "another program" in err.value.message
    _add(db, "Cara Lee")  # works again once the other program lets go
    db.dispose()
    assert _count(clinic_db) == 8


def _bulk(s, name: str, total_chars: int) -> None:  # type: ignore[no-untyped-def]
    """``total_chars`` of notes in one transaction, as patients with notes of the allowed size."""
    for i in range(total_chars // 4000 + 1):
        create_patient(s, PatientData(full_name=f"{name} {i}", notes="n" * 4000))


def test_after_a_full_disk_the_next_save_works_by_itself(clinic_db: Path) -> None:
    """SQLITE_FULL from a connection that stays full (max_page_count): the pool must be thrown
    away, or every later save keeps failing on the same connection."""
    db = open_database(sqlite_url(clinic_db))
    with db.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
        conn.exec_driver_sql(f"PRAGMA max_page_count = {pages}")  # this pooled connection is full
    with pytest.raises(DatabaseUnavailable) as err, db.session() as s:
        _bulk(s, "Dan Eze", 200_000)
    assert err.value.kind == errors.DISK_FULL and "disk is full" in err.value.message
    with db.session() as s:  # a fresh connection (not the full one): saved
        create_patient(s, PatientData(full_name="Eve Obi", notes="n" * 4000))
    db.dispose()
    assert _count(clinic_db) == 8


# --- backups and restores on a full disk ---------------------------------------------------


def _tiny_free_space(monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.disk_usage

    def usage(path):  # type: ignore[no-untyped-def]
        u = real(path)
        return type(u)(u.total, u.total - 1_000_000, 1_000_000)

    monkeypatch.setattr(bk.shutil, "disk_usage", usage)


def test_backup_on_a_full_disk_says_the_disk_is_full_not_damaged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clinic = open_clinic()
    _add(clinic.db, "Ana Ruiz")
    _tiny_free_space(monkeypatch)
    with pytest.raises(bk.BackupError) as err:
        bk.backup_now(clinic)
    assert err.value.kind == errors.DISK_FULL
    assert "disk is full" in err.value.message and "damaged" not in err.value.message
    assert bk.list_backups(clinic.folder.backups) == []  # no false success
    clinic.close()


def test_backup_write_failing_with_enospc_is_a_full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    clinic = open_clinic()

    def full(*_a, **_k):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(bk.os, "fsync", full)
    with pytest.raises(bk.BackupError) as err:
        bk.backup_now(clinic)
    assert "disk is full" in err.value.message
    assert list(clinic.folder.backups.iterdir()) == []  # the partial file was removed
    clinic.close()


def test_restore_on_a_full_disk_is_a_plain_message_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clinic = open_clinic()
    _add(clinic.db, "Ana Ruiz")
    info = bk.backup_now(clinic)
    _add(clinic.db, "Ben Ode")

    def full(*_a, **_k):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(bk.shutil, "copyfile", full)
    monkeypatch.setattr(bk.shutil, "copy2", full)
    with pytest.raises(bk.BackupError) as err:
        bk.restore_into_clinic(clinic, info.path)
    assert "disk is full" in err.value.message
    monkeypatch.undo()
    with clinic.db.session() as s:  # the running program still works, nothing was changed
        assert s.scalar(select(func.count(Patient.id))) == 2
    _add(clinic.db, "Cara Lee")
    clinic.close()


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real 4 MB disk (tmpfs); skipped where mounting is not permitted."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root to mount a small tmpfs")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True
    )
    if r.returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\x00" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def test_a_really_full_disk_backup_restore_and_recovery(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bk, "SPACE_MARGIN_BYTES", 0)  # let the writes themselves hit the wall
    clinic = open_clinic(folder=DataFolder(small_disk / "home"))
    with clinic.db.session() as s:
        for i in range(40):
            create_patient(s, PatientData(full_name=f"Patient {i}", notes="q" * 2000))
    info = bk.backup_now(clinic)
    filler = _fill(small_disk)
    with pytest.raises(bk.BackupError) as backup_err:
        bk.backup_now(clinic)
    with pytest.raises(bk.BackupError) as restore_err:
        bk.restore_into_clinic(clinic, info.path)
    with pytest.raises(DatabaseUnavailable) as save_err, clinic.db.session() as s:
        _bulk(s, "Too Much", 400_000)
    assert "disk is full" in backup_err.value.message
    assert "damaged" not in backup_err.value.message
    assert "disk is full" in restore_err.value.message
    assert save_err.value.kind in (errors.DISK_FULL, errors.DISK_ERROR)
    filler.unlink()  # space returns: everything works again without a restart
    _add(clinic.db, "After Space")
    with clinic.db.session() as s:
        assert s.scalar(select(func.count(Patient.id))) == 41
    assert bk.backup_now(clinic).ok
    clinic.close()


def test_two_backups_in_one_second_keep_the_newest_and_report_only_real_files() -> None:
    """Rotation once sorted "...T120000.1Z" (the second backup of a second) before
    "...T120000Z" and deleted the backup just made, while "Back up now" reported it."""
    clinic = open_clinic()
    _add(clinic.db, "Ana Ruiz")
    first = bk.backup_now(clinic)
    _add(clinic.db, "Ben Ode")
    infos = []
    for _ in range(3):
        infos.append(bk.backup_now(clinic))
        assert infos[-1].path.is_file()  # what "Back up now" reports exists
    newest = bk.list_backups(clinic.folder.backups)[0]
    assert newest.path == infos[-1].path and newest.report.patients == 2
    assert first.created <= infos[0].created
    clinic.close()


def test_back_up_now_while_another_program_holds_the_database_gives_up_plainly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Python's backup API retries a busy source for ever: the window froze for good."""
    monkeypatch.setattr(bk, "BACKUP_LOCK_WAIT_S", 0.5)
    clinic = open_clinic()
    _add(clinic.db, "Ana Ruiz")
    clinic.db.dispose()
    holder = _hold_exclusive(clinic.folder.database)
    holder.execute("UPDATE patient SET notes = notes")
    t = time.monotonic()
    try:
        with pytest.raises(bk.BackupError) as err:
            bk.backup_now(clinic)
    finally:
        holder.rollback()
        holder.close()
    assert time.monotonic() - t < 15
    assert err.value.kind == errors.LOCKED and "another program" in err.value.message
    assert bk.list_backups(clinic.folder.backups) == []
    clinic.close()
