"""Backups: online snapshots while writing, rotation, listing from the file, safe restore."""

from __future__ import annotations

import datetime as dt
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.clinic import open_clinic
from app.db.database import DatabaseCorrupt, open_database, sqlite_url
from app.db.models import Patient
from app.records.patients import PatientData, create_patient
from app.records.recordings import add_recording
from app.records.visits import VisitData, create_visit
from app.safety import backup as bk
from app.safety.integrity import inspect_file


def _fill(db, n: int, prefix: str = "Patient") -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        for i in range(n):
            p = create_patient(s, PatientData(full_name=f"{prefix} {i}"), allow_duplicate=True)
            v = create_visit(s, p.id, VisitData(visit_date="2026-01-02"))
            add_recording(s, v.id, video_path=f"v{i}.mp4")


def _patients(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM patient").fetchone()[0])


def test_backup_is_a_complete_verified_owner_only_file(tmp_path: Path) -> None:
    db = open_database(sqlite_url(tmp_path / "c.sqlite3"))
    _fill(db, 3)
    info = bk.backup_database(tmp_path / "c.sqlite3", tmp_path / "backups", kind="manual")
    db.dispose()
    assert info.ok, info.report.problem
    assert (info.report.patients, info.report.visits, info.report.recordings) == (3, 3, 3)
    assert stat.S_IMODE(info.path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "backups").stat().st_mode) == 0o700
    # self-contained: no -wal beside it, and it reads back on its own
    assert not Path(f"{info.path}-wal").exists()
    assert _patients(info.path) == 3
    assert "3 patients, 3 visits, 3 recordings" in info.describe()


def test_backup_taken_during_writes_is_consistent(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    db = open_database(sqlite_url(path))
    stop = threading.Event()
    written = []

    def writer() -> None:
        k = 0
        while not stop.is_set() and k < 400:
            _fill(db, 1, prefix=f"W{k}")
            written.append(k)
            k += 1

    t = threading.Thread(target=writer)
    t.start()
    infos = []
    try:
        while len(infos) < 5:
            infos.append(bk.backup_database(path, tmp_path / "backups"))
    finally:
        stop.set()
        t.join()
    db.dispose()
    for info in infos:
        assert info.ok
        # every patient in a snapshot came with its visit and recording (one transaction each)
        assert info.report.patients == info.report.visits == info.report.recordings
    assert infos[-1].report.patients <= len(written)


def test_listing_reads_each_backup_read_only_and_flags_damaged_ones(tmp_path: Path) -> None:
    db = open_database(sqlite_url(tmp_path / "c.sqlite3"))
    _fill(db, 2)
    t0 = dt.datetime(2026, 3, 1, 8, 0)
    good = bk.backup_database(tmp_path / "c.sqlite3", tmp_path / "b", now=t0)
    _fill(db, 1)
    newer = bk.backup_database(tmp_path / "c.sqlite3", tmp_path / "b", now=t0.replace(hour=9))
    db.dispose()
    damaged = tmp_path / "b" / "stride_clinic-20260301T100000Z-auto.sqlite3"
    damaged.write_bytes(good.path.read_bytes()[:5000])
    before = {p.name: p.read_bytes() for p in (tmp_path / "b").iterdir()}
    listed = bk.list_backups(tmp_path / "b")
    assert [b.path for b in listed] == [damaged, newer.path, good.path]
    assert not listed[0].ok and "unusable" in listed[0].describe()
    assert (listed[1].report.patients, listed[2].report.patients) == (3, 2)
    # reading changed nothing and left no -wal/-shm files behind
    assert {p.name: p.read_bytes() for p in (tmp_path / "b").iterdir()} == before


def test_rotation_keeps_daily_and_weekly(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    folder.mkdir()
    now = dt.datetime(2026, 3, 31, 12, 0)
    made = []
    for days in range(60):  # two backups a day for 60 days
        for hour in (9, 17):
            t = (now - dt.timedelta(days=days)).replace(hour=hour)
            p = folder / f"stride_clinic-{t:%Y%m%dT%H%M%S}Z-auto.sqlite3"
            p.write_bytes(b"x")
            made.append((t, p))
    old_safety = (
        folder
        / f"stride_clinic-{now - dt.timedelta(days=40):%Y%m%dT%H%M%S}Z-before-restore.sqlite3"
    )
    recent_safety = (
        folder
        / f"stride_clinic-{now - dt.timedelta(days=20):%Y%m%dT%H%M%S}Z-before-restore.sqlite3"
    )
    old_safety.write_bytes(b"x")
    recent_safety.write_bytes(b"x")
    removed = bk.rotate(folder, keep_daily=7, keep_weekly=4, now=now)
    kept = sorted(p for p in folder.iterdir())
    kept_times = sorted(bk.parse_name(p)[0] for p in kept if "auto" in p.name)  # type: ignore[index]
    days = {t.date() for t in kept_times}
    weeks = {tuple(t.isocalendar())[:2] for t in kept_times}
    assert len(days) <= 7 + 4 and len(weeks) >= 4
    # the last 7 days each keep exactly their newest backup
    for d in range(7):
        day = (now - dt.timedelta(days=d)).date()
        assert [t for t in kept_times if t.date() == day] == [dt.datetime.combine(day, dt.time(17))]
    assert recent_safety.exists() and not old_safety.exists()
    assert len(removed) + len(kept) == len(made) + 2


def test_auto_backup_only_when_due(tmp_path: Path) -> None:
    clinic = open_clinic()
    clinic.settings.extra["backup_every_hours"] = 12
    t0 = dt.datetime(2026, 3, 1, 8, 0)
    assert bk.auto_backup(clinic, now=t0) is not None
    assert bk.auto_backup(clinic, now=t0 + dt.timedelta(hours=11)) is None
    again = bk.auto_backup(clinic, now=t0 + dt.timedelta(hours=12))
    assert again is not None
    # same day: rotation keeps only that day's newest
    assert [b.path for b in bk.list_backups(clinic.folder.backups)] == [again.path]
    assert bk.auto_backup(clinic, now=t0 + dt.timedelta(hours=30)) is not None
    assert len(bk.list_backups(clinic.folder.backups)) == 2
    clinic.close()


def test_restore_keeps_the_current_state_and_reopens(tmp_path: Path) -> None:
    clinic = open_clinic()
    _fill(clinic.db, 2, prefix="Before")
    snap = bk.backup_now(clinic)
    _fill(clinic.db, 5, prefix="After")
    kept = bk.restore_into_clinic(clinic, snap.path)
    with clinic.db.session() as s:  # the reopened database is the restored one
        assert s.scalar(select(func.count(Patient.id))) == 2
    assert kept is not None and kept.is_file()
    assert inspect_file(kept).patients == 7  # nothing lost: the pre-restore state is kept
    assert "before-restore" in kept.name
    _fill(clinic.db, 1, prefix="Later")  # the reopened database is writable
    clinic.close()


def test_restore_refuses_a_damaged_backup_and_changes_nothing(tmp_path: Path) -> None:
    clinic = open_clinic()
    _fill(clinic.db, 2)
    bad = clinic.folder.backups / "stride_clinic-20260101T000000Z-manual.sqlite3"
    bad.write_bytes(b"garbage" * 1000)
    with pytest.raises(bk.BackupError) as err:
        bk.restore_into_clinic(clinic, bad)
    assert "cannot be restored" in err.value.message
    with clinic.db.session() as s:
        assert s.scalar(select(func.count(Patient.id))) == 2
    clinic.close()


def test_restore_refuses_a_backup_from_a_newer_version(tmp_path: Path) -> None:
    clinic = open_clinic()
    snap = bk.backup_now(clinic)
    with sqlite3.connect(snap.path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    conn.close()
    with pytest.raises(bk.BackupError, match="newer version"):
        bk.restore_into_clinic(clinic, snap.path)
    clinic.close()


def _corrupt(path: Path) -> None:
    """Overwrite pages in the middle of the file (the header stays, so SQLite opens it)."""
    data = bytearray(path.read_bytes())
    page = 4096
    for p in range(1, len(data) // page):
        data[p * page + 8 : p * page + 3000] = b"\xa5" * (3000 - 8)
    path.write_bytes(bytes(data))


def test_start_up_after_corruption_restores_the_newest_backup(tmp_path: Path) -> None:
    clinic = open_clinic()
    _fill(clinic.db, 4)
    bk.backup_database(clinic.folder.database, clinic.folder.backups, now=dt.datetime(2026, 1, 1))
    _fill(clinic.db, 1)
    newest = bk.backup_now(clinic)
    folder = clinic.folder
    clinic.close()
    _corrupt(folder.database)
    with pytest.raises(DatabaseCorrupt) as err:
        open_clinic()
    assert "backup" in err.value.message.lower()
    restored = bk.restore_latest_backup(folder)
    assert restored.path == newest.path
    clinic = open_clinic()
    with clinic.db.session() as s:
        assert s.scalar(select(func.count(Patient.id))) == 5
    clinic.close()
    # the damaged database was kept, not destroyed
    damaged = [p for p in folder.backups.iterdir() if p.name.startswith("damaged-")]
    kept_before = [b for b in bk.list_backups(folder.backups) if b.kind == "before-restore"]
    assert damaged or kept_before


def test_restore_latest_without_backups_says_so(tmp_path: Path) -> None:
    clinic = open_clinic()
    folder = clinic.folder
    clinic.close()
    with pytest.raises(bk.BackupError, match="no usable backup"):
        bk.restore_latest_backup(folder)


def test_server_database_is_not_backed_up_here(tmp_path: Path) -> None:
    clinic = open_clinic()
    clinic.db.engine.dispose()

    class FakeDb:
        sqlite_path = None

    clinic.db = FakeDb()  # type: ignore[assignment]
    assert bk.auto_backup(clinic) is None
    with pytest.raises(bk.BackupError, match="server"):
        bk.backup_now(clinic)


def test_videos_filmed_after_the_backup_are_kept_and_named_after_a_restore() -> None:
    """A restore brings back an older database; the videos added since then stay on disk
    (they are not in database backups) and are found, so the clinician can be told."""
    clinic = open_clinic()
    root = clinic.videos_root
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Ana Ruiz")).id
        vid = create_visit(s, pid, VisitData(visit_date=dt.date(2026, 11, 1))).id
    before = root / "a" / "before.mkv"
    before.parent.mkdir(parents=True)
    before.write_bytes(b"v1")
    with clinic.db.session() as s:
        add_recording(s, vid, video_path="a/before.mkv")
    snap = bk.backup_now(clinic)
    after = root / "b" / "after visit.mp4"
    after.parent.mkdir(parents=True)
    after.write_bytes(b"v2")
    (root / "b" / "after visit.timestamps.csv").write_text("sidecar, not a video")
    with clinic.db.session() as s:
        add_recording(s, vid, video_path=str(after))  # absolute, as an older row may be
    assert bk.videos_without_record(clinic) == []
    bk.restore_into_clinic(clinic, snap.path)
    assert bk.videos_without_record(clinic) == [after]
    assert after.read_bytes() == b"v2" and before.read_bytes() == b"v1"
    clinic.close()
