"""Crash safety: kill -9 during autosave loses no committed edit; a failed or killed migration
leaves the old database usable."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.operations import BatchOperations
from sqlalchemy import select

from app.db.database import DatabaseError, head_revision, open_database, sqlite_url
from app.db.models import FootEventRecord, Patient, Recording
from app.records.patients import PatientData, create_patient
from app.records.visits import VisitData, create_visit
from benchmarks.reliability import kill_session

REPO = Path(__file__).resolve().parents[2]


def test_wal_and_full_sync_are_on(tmp_path: Path) -> None:
    db = open_database(sqlite_url(tmp_path / "c.sqlite3"))
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    db.dispose()


@pytest.mark.slow
def test_sigkill_during_autosave_loses_no_acknowledged_edit(tmp_path: Path) -> None:
    result = kill_session(4, seed=7, home=tmp_path / "home")
    assert result["kill_edits_acknowledged"] > 0  # the session really was saving when killed
    assert result["kill_edits_lost"] == 0
    assert result["kill_inconsistent_states"] == 0


def _old_database_with_data(path: Path) -> dict[str, object]:
    """A database at revision 0002 holding one patient with a visit, recording and event."""
    db = open_database(sqlite_url(path), migrate=False)
    db.upgrade("0002")
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO patient (full_name, name_key, sex, created_at, updated_at, version) "
            "VALUES ('Ana Ruiz', 'ana ruiz', 'female', '2026-01-01', '2026-01-01', 1)"
        )
        conn.exec_driver_sql(
            "INSERT INTO visit (patient_id, visit_date, created_at, version) "
            "VALUES (1, '2026-01-02', '2026-01-02', 1)"
        )
        conn.exec_driver_sql(
            "INSERT INTO recording (visit_id, video_path, view, created_at) "
            "VALUES (1, 'a.mp4', 'side', '2026-01-02')"
        )
        conn.exec_driver_sql(
            "INSERT INTO foot_event (recording_id, frame, foot, type, source, confidence, "
            "created_at) VALUES (1, 5, 'left', 'initial_contact', 'manual', 1.0, '2026-01-02')"
        )
    db.dispose()
    return _snapshot(path)


def _snapshot(path: Path) -> dict[str, object]:
    with sqlite3.connect(path) as conn:
        tables = sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master"))
        rev = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        rows = {t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in ("patient", "visit", "recording", "foot_event")}  # fmt: skip
        cols = [r[1] for r in conn.execute("PRAGMA table_info(clinician)")]
    conn.close()
    return {"schema": tables, "revision": rev, "rows": rows, "clinician_columns": cols}


def test_a_migration_failing_halfway_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.sqlite3"
    before = _old_database_with_data(path)
    calls = []

    def fail(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(args)
        raise RuntimeError("injected failure in the middle of migration 0003")

    # 0003 first creates the audit table and its indexes, then adds columns: fail there.
    monkeypatch.setattr(BatchOperations, "add_column", fail)
    with pytest.raises(DatabaseError) as err:
        open_database(sqlite_url(path))
    assert calls, "the injected failure was not reached"
    assert "rolled back" in err.value.message
    assert _snapshot(path) == before  # no audit table, no new column, same rows, same revision
    monkeypatch.undo()
    db = open_database(sqlite_url(path))  # still opens, and now upgrades
    assert db.current_revision() == head_revision()
    with db.session() as s:
        assert s.scalars(select(Patient.full_name)).all() == ["Ana Ruiz"]
        assert s.scalar(select(Recording.events_revision)) == 0
        assert len(s.scalars(select(FootEventRecord)).all()) == 1
    db.dispose()


KILLED_MIGRATION = r"""
import sys, time
from alembic.operations import BatchOperations
from app.db.database import open_database, sqlite_url
original = BatchOperations.add_column
def slow(self, *a, **k):
    print("halfway", flush=True)
    time.sleep(60)
BatchOperations.add_column = slow
open_database(sqlite_url(sys.argv[1]))
"""


def test_a_migration_killed_halfway_leaves_the_old_database_usable(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    before = _old_database_with_data(path)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_MIGRATION, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "halfway"
        assert sqlite3.connect(path).execute("SELECT 1").fetchone() == (1,)
        time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # the audit table was created before the kill, inside the uncommitted transaction
    assert _snapshot(path) == before
    db = open_database(sqlite_url(path))
    assert db.current_revision() == head_revision()
    with db.session() as s:
        p = create_patient(s, PatientData(full_name="After Crash"))
        create_visit(s, p.id, VisitData())
    db.dispose()
