from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from app.db.database import (
    DatabaseCorrupt,
    DatabaseForeign,
    DatabaseTooNew,
    all_revisions,
    head_revision,
    open_database,
    sqlite_url,
)
from app.db.models import FootEventRecord, Patient, Recording, Visit
from app.records.patients import PatientData, create_patient
from app.records.visits import VisitData, create_visit


def test_empty_database_is_migrated_to_head(tmp_path: Path) -> None:
    db = open_database(sqlite_url(tmp_path / "c.sqlite3"))
    assert db.current_revision() == head_revision()
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "patient",
        "visit",
        "recording",
        "foot_event",
        "prescription",
        "home_program",
        "clinician",
    } <= tables
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


@pytest.mark.parametrize("start", all_revisions())
def test_upgrade_from_every_revision_keeps_data(tmp_path: Path, start: str) -> None:
    url = sqlite_url(tmp_path / "c.sqlite3")
    db = open_database(url, migrate=False)
    db.upgrade(start)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO patient (full_name, name_key, sex, created_at, updated_at, version) "
                "VALUES ('Ana Ruiz', 'ana ruiz', 'female', '2026-01-01', '2026-01-01', 1)"
            )
        )
    db.dispose()
    db = open_database(url)
    assert db.current_revision() == head_revision()
    with db.session() as s:
        assert s.scalars(select(Patient.full_name)).all() == ["Ana Ruiz"]
    db.dispose()


def test_downgrade_to_base_and_back(tmp_path: Path) -> None:
    db = open_database(sqlite_url(tmp_path / "c.sqlite3"))
    db.downgrade("base")
    assert "patient" not in inspect(db.engine).get_table_names()
    db.upgrade()
    assert "patient" in inspect(db.engine).get_table_names()
    db.dispose()


def test_database_from_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    open_database(sqlite_url(path)).dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    before = path.read_bytes()
    with pytest.raises(DatabaseTooNew) as err:
        open_database(sqlite_url(path))
    assert "newer version" in err.value.message
    assert path.read_bytes() == before


def test_corrupt_database_file_gives_clear_error_and_is_untouched(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    before = path.read_bytes()
    with pytest.raises(DatabaseCorrupt) as err:
        open_database(sqlite_url(path))
    assert "not a readable Stride Clinic database" in err.value.message
    assert path.read_bytes() == before


def test_foreign_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    """Another program's database: refused without a restore offer, and really not changed
    (it was once switched to WAL while the message said otherwise)."""
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE songs (id INTEGER)")
    before = path.read_bytes()
    with pytest.raises(DatabaseForeign) as err:
        open_database(sqlite_url(path))
    assert not isinstance(err.value, DatabaseCorrupt)  # no backup is offered over it
    assert "not one of Stride Clinic's" in err.value.message
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.sqlite3"]  # no -wal/-shm


def test_deleting_a_patient_cascades_in_the_database(tmp_path: Path) -> None:
    db = open_database(sqlite_url(tmp_path / "c.sqlite3"))
    with db.session() as s:
        p = create_patient(s, PatientData(full_name="Ola Nordmann"))
        v = create_visit(s, p.id, VisitData(visit_date="2026-01-02"))
        r = Recording(visit_id=v.id, video_path="x.mp4")
        s.add(r)
        s.flush()
        s.add(FootEventRecord(recording_id=r.id, frame=3, foot="left", type="initial_contact"))
        pid = p.id
    with db.engine.begin() as conn:  # raw SQL delete: the database itself must cascade
        conn.execute(text("DELETE FROM patient WHERE id = :id"), {"id": pid})
    with db.session() as s:
        assert s.scalars(select(Visit)).all() == []
        assert s.scalars(select(Recording)).all() == []
        assert s.scalars(select(FootEventRecord)).all() == []
    db.dispose()


def test_uid_migration_gives_existing_rows_distinct_uids_and_downgrade_keeps_rows(
    tmp_path: Path,
) -> None:
    """0004 adds ``uid`` without copying tables: existing patients, visits and recordings each
    get their own uid, and going back down never cascades into the child rows."""
    path = tmp_path / "c.sqlite3"
    db = open_database(sqlite_url(path))
    db.downgrade("0003")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys=ON")
        for i in (1, 2):
            conn.execute(
                "INSERT INTO patient (id, full_name, name_key, sex, version, created_at, updated_at) "
                "VALUES (?, ?, ?, 'unspecified', 1, '2026-01-01', '2026-01-01')",
                (i, f"P{i}", f"p{i}"),
            )
            conn.execute(
                "INSERT INTO visit (id, patient_id, visit_date, version, created_at) "
                "VALUES (?, ?, '2026-01-0' || ?, 1, '2026-01-01')",
                (i, i, i),
            )
            conn.execute(
                "INSERT INTO recording (id, visit_id, video_path, view, events_revision, created_at) "
                "VALUES (?, ?, 'v.mp4', 'side', 0, '2026-01-01')",
                (i, i),
            )
    db.upgrade()
    with sqlite3.connect(path) as conn:
        for table in ("patient", "visit", "recording"):
            uids = [r[0] for r in conn.execute(f"SELECT uid FROM {table}")]
            assert len(uids) == 2 and len(set(uids)) == 2 and all(len(u) == 32 for u in uids)
    db.downgrade("0003")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM visit").fetchone()[0] == 2
        assert conn.execute("SELECT COUNT(*) FROM recording").fetchone()[0] == 2
    db.upgrade()
    db.dispose()
