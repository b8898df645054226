"""The clinic on a REAL PostgreSQL server that this test module starts itself (tests/pg.py).

Skipped, with the reason, when the PostgreSQL server binaries are not installed. Runs the
key record tests of the SQLite suite again on PostgreSQL (same test functions, a ``clinic``
fixture pointing ``database_url`` at the server), then the server-only checks: migrations,
conflicts between two workstations, concurrent first start, audit and sign-in, unreachable
server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from app.analysis.events import EventType, Foot, FootEvent
from app.clinic import Clinic, open_clinic, open_clinic_database
from app.db.database import DatabaseError, head_revision, open_database
from app.db.models import Patient, Visit
from app.paths import DataFolder
from app.records.patients import PatientData, create_patient, update_patient
from app.records.recordings import add_recording, events_of, events_revision, replace_events
from app.records.validation import ValidationError
from app.records.visits import VisitData, create_visit
from app.safety import accounts, audit
from app.safety.conflicts import EditConflict, is_conflict
from app.settings import Settings
from tests.app import test_measurements as _measurements
from tests.app import test_patients as _patients
from tests.pg import PostgresServer, unavailable_reason

pytestmark = pytest.mark.skipif(
    unavailable_reason() is not None, reason=f"PostgreSQL unavailable: {unavailable_reason()}"
)


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def shared_url(pg_server: PostgresServer) -> str:
    url = pg_server.create_database()
    open_database(url).dispose()  # migrate once; tests below empty the tables instead
    return url


def _empty(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def clinic(shared_url: str, data_home: Path) -> Iterator[Clinic]:
    """What the SQLite tests call ``clinic``, but configured with ``database_url``."""
    _empty(shared_url)
    Settings(database_url=shared_url).save(DataFolder(data_home).settings_file)
    c = open_clinic()
    assert c.db.engine.dialect.name == "postgresql"
    yield c
    c.close()


# The same record tests as on SQLite, collected here again with the PostgreSQL ``clinic``.
for _module in (_patients, _measurements):
    for _name, _fn in list(vars(_module).items()):
        if _name.startswith("test_") and callable(_fn):
            globals()[f"test_pg_{_name[5:]}"] = _fn
del _module, _name, _fn


def test_fresh_server_database_is_migrated(pg_server: PostgresServer) -> None:
    url = pg_server.create_database()
    db = open_clinic_database(url)  # with the audit trail
    assert db.current_revision() == head_revision()
    assert db.sqlite_path is None and db.quick_check() == "ok"
    assert {"patient", "visit", "recording", "foot_event", "audit_log"} <= set(
        inspect(db.engine).get_table_names()
    )
    db.downgrade("base")
    assert "patient" not in inspect(db.engine).get_table_names()
    db.upgrade()
    assert db.current_revision() == head_revision()
    db.dispose()


def test_two_workstations_starting_together_migrate_once(pg_server: PostgresServer) -> None:
    url = pg_server.create_database()
    errors: list[BaseException] = []
    dbs = []

    def start() -> None:
        try:
            dbs.append(open_clinic_database(url))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(dbs) == 2
    for db in dbs:
        assert db.current_revision() == head_revision()
        db.dispose()


def test_database_enforces_constraints_and_cascades(clinic: Clinic) -> None:
    with clinic.db.session() as s:
        p = create_patient(s, PatientData(full_name="Søren Ærø"))
        v = create_visit(s, p.id, VisitData(visit_date="2026-01-02"))
        rid = add_recording(s, v.id, video_path="a.mp4").id
        replace_events(s, rid, [FootEvent(Foot.LEFT, EventType.INITIAL_CONTACT, 3, 0.1)])
        pid = p.id
    with pytest.raises(IntegrityError), clinic.db.engine.begin() as conn:
        conn.execute(text("UPDATE visit SET pain_now = 11 WHERE id = :i"), {"i": v.id})
    with clinic.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM patient WHERE id = :i"), {"i": pid})
    with clinic.db.session() as s:
        assert s.scalars(select(Visit)).all() == []
        assert events_of(s, rid) == []


def test_second_workstation_cannot_overwrite_a_patient(clinic: Clinic, shared_url: str) -> None:
    other = open_database(shared_url)
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Ana Ruiz")).id
    with clinic.db.session() as s:
        seen_here = s.get(Patient, pid).version  # type: ignore[union-attr]
    with other.session() as s:
        seen_there = s.get(Patient, pid).version  # type: ignore[union-attr]
        update_patient(
            s, pid, PatientData(full_name="Ana Ruiz", notes="there"), expected_version=seen_there
        )
    with pytest.raises(ValidationError) as err, clinic.db.session() as s:
        update_patient(
            s, pid, PatientData(full_name="Ana Ruiz", notes="here"), expected_version=seen_here
        )
    assert is_conflict(err.value)
    # the same race inside one transaction: the ORM's version check catches it
    with pytest.raises(EditConflict), clinic.db.session() as s:
        mine = s.get(Patient, pid)
        with other.session() as s2:
            update_patient(s2, pid, PatientData(full_name="Ana Ruiz", notes="there again"))
        mine.notes = "here"  # type: ignore[union-attr]
        s.flush()
    with other.session() as s:
        assert s.get(Patient, pid).notes == "there again"  # type: ignore[union-attr]
    other.dispose()


def test_concurrent_annotation_saves_on_the_server(clinic: Clinic, shared_url: str) -> None:
    other = open_database(shared_url)
    with clinic.db.session() as s:
        p = create_patient(s, PatientData(full_name="Ana Ruiz"))
        rid = add_recording(s, create_visit(s, p.id, VisitData()).id, video_path="r.mp4").id
    with clinic.db.session() as s:
        rev = events_revision(s, rid)
    ev = FootEvent(Foot.RIGHT, EventType.INITIAL_CONTACT, 7, 7 / 240)
    with other.session() as s:
        replace_events(s, rid, [ev], expected_revision=rev)
    with pytest.raises(EditConflict), clinic.db.session() as s:
        replace_events(s, rid, [], expected_revision=rev)
    with clinic.db.session() as s:
        assert [e.frame for e in events_of(s, rid)] == [7]
    other.dispose()


def test_audit_and_sign_in_on_the_server(clinic: Clinic) -> None:
    with clinic.db.session() as s:
        accounts.create_account(s, "Dr Admin", "correct horse", role="admin")
    c = accounts.sign_in(clinic.db, "Dr Admin", "correct horse")
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Zebedee Quixote")).id
        audit.record(s, "print", pid, detail="home program PDF")
    with clinic.db.session() as s:
        rows = audit.entries(s, patient_id=pid)
    assert [r.action for r in rows] == ["print", "create"]
    assert {r.clinician_id for r in rows} == {c.id}


def test_unreachable_server_gives_a_clear_message(pg_server: PostgresServer) -> None:
    url = f"postgresql+psycopg://clinic:s3cret@127.0.0.1:{pg_server.port + 1}/clinic"
    with pytest.raises(DatabaseError) as err:
        open_database(url + "?connect_timeout=3")
    assert "cannot reach the clinic database server" in err.value.message
    assert "s3cret" not in err.value.message
