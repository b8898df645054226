"""Conflicts between two workstations, accounts, audit trail, and no patient data in logs."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from app.analysis.events import EventType, Foot, FootEvent
from app.clinic import open_clinic, open_clinic_database
from app.db.database import Database, sqlite_url
from app.db.models import AuditEntry, Patient, Visit
from app.records.patients import PatientData, create_patient, delete_patient, update_patient
from app.records.recordings import add_recording, events_of, events_revision, replace_events
from app.records.validation import ValidationError
from app.records.visits import VisitData, create_visit, update_visit
from app.safety import accounts, audit
from app.safety.conflicts import EditConflict, is_conflict


def _two(tmp_path: Path) -> tuple[Database, Database]:
    """Two independent app instances on one database file."""
    url = sqlite_url(tmp_path / "c.sqlite3")
    return open_clinic_database(url), open_clinic_database(url)


def _patient(db: Database, name: str = "Ana Ruiz") -> int:
    with db.session() as s:
        return create_patient(s, PatientData(full_name=name, notes="start")).id


def test_second_save_of_the_same_patient_is_refused(tmp_path: Path) -> None:
    a, b = _two(tmp_path)
    pid = _patient(a)
    with a.session() as s:
        va = s.get(Patient, pid).version  # type: ignore[union-attr]
    with b.session() as s:
        vb = s.get(Patient, pid).version  # type: ignore[union-attr]
    with a.session() as s:
        update_patient(
            s, pid, PatientData(full_name="Ana Ruiz", notes="from A"), expected_version=va
        )
    with pytest.raises(ValidationError) as err, b.session() as s:
        update_patient(
            s, pid, PatientData(full_name="Ana Ruiz", notes="from B"), expected_version=vb
        )
    assert is_conflict(err.value) and "another workstation" in err.value.message
    with a.session() as s:
        assert s.get(Patient, pid).notes == "from A"  # type: ignore[union-attr]
    a.dispose()
    b.dispose()


def test_stale_orm_flush_becomes_an_edit_conflict(tmp_path: Path) -> None:
    a, b = _two(tmp_path)
    pid = _patient(a)
    with a.session() as s:
        v = create_visit(s, pid, VisitData(visit_date="2026-01-02"))
    with pytest.raises(EditConflict), b.session() as s:
        stale = s.get(Visit, v.id)
        with a.session() as s2:  # the other workstation saves in between
            update_visit(s2, v.id, VisitData(visit_date="2026-01-02", notes="A"))
        stale.notes = "B"  # type: ignore[union-attr]
        s.flush()
    with a.session() as s:
        assert s.get(Visit, v.id).notes == "A"  # type: ignore[union-attr]
    a.dispose()
    b.dispose()


def _ev(frame: int) -> FootEvent:
    return FootEvent(Foot.LEFT, EventType.INITIAL_CONTACT, frame, frame / 240)


def test_concurrent_annotation_saves_are_detected(tmp_path: Path) -> None:
    a, b = _two(tmp_path)
    pid = _patient(a)
    with a.session() as s:
        rid = add_recording(s, create_visit(s, pid, VisitData()).id, video_path="r.mp4").id
    with a.session() as s:
        rev_a = events_revision(s, rid)
    with b.session() as s:
        rev_b = events_revision(s, rid)
    with a.session() as s:
        rev_a = replace_events(s, rid, [_ev(10)], expected_revision=rev_a)
    with a.session() as s:  # A keeps autosaving with its own revision: fine
        rev_a = replace_events(s, rid, [_ev(10), _ev(40)], expected_revision=rev_a)
    with pytest.raises(EditConflict) as err, b.session() as s:
        replace_events(s, rid, [_ev(99)], expected_revision=rev_b)
    assert is_conflict(err.value) and "another workstation" in err.value.message
    with b.session() as s:
        assert [e.frame for e in events_of(s, rid)] == [10, 40]
        assert events_revision(s, rid) == rev_a == 2
    with b.session() as s:  # after reloading, B saves on top of A's marks
        replace_events(s, rid, [_ev(10), _ev(40), _ev(99)], expected_revision=rev_a)
    a.dispose()
    b.dispose()


def test_accounts_hash_with_argon2id_and_sign_in(tmp_path: Path) -> None:
    db = open_clinic_database(sqlite_url(tmp_path / "c.sqlite3"))
    with db.session() as s:
        assert not accounts.accounts_enabled(s)
        admin = accounts.create_account(s, "Dr Admin", "correct horse", role="admin")
        accounts.create_account(s, "Sam Physio", "battery staple")
        assert admin.password_hash.startswith("$argon2id$")  # type: ignore[union-attr]
        assert "correct horse" not in admin.password_hash  # type: ignore[operator]
        assert accounts.accounts_enabled(s)
        with pytest.raises(accounts.SignInError):
            accounts.create_account(s, "Short", "abc")
    with pytest.raises(accounts.SignInError) as err:
        accounts.sign_in(db, "Sam Physio", "wrong password")
    assert "not right" in err.value.message
    with pytest.raises(accounts.SignInError):
        accounts.sign_in(db, "Nobody", "battery staple")
    sam = accounts.sign_in(db, "  Sam  Physio ", "battery staple")
    assert db.clinician_id == sam.id
    assert not accounts.is_admin(db)
    # a visit created now records the signed-in clinician; edits carry the id in the trail
    pid = _patient(db)
    with db.session() as s:
        v = create_visit(s, pid, VisitData())
        assert v.clinician_id == sam.id
    accounts.sign_out(db)
    assert db.clinician_id is None
    accounts.sign_in(db, "Dr Admin", "correct horse")
    assert accounts.is_admin(db)
    with db.session() as s:
        actions = [(r.action, r.clinician_id) for r in audit.entries(s)]
    assert ("sign_in_failed", sam.id) in actions
    assert ("sign_in_failed", None) in actions
    assert ("create", sam.id) in actions and ("sign_out", sam.id) in actions
    db.dispose()


def test_idle_lock_uses_the_setting() -> None:
    now = [1000.0]
    lock = accounts.IdleLock(accounts.idle_minutes({"idle_lock_minutes": 5}), clock=lambda: now[0])
    now[0] += 299
    assert not lock.due()
    lock.touch()
    now[0] += 299
    assert not lock.due() and lock.seconds_left() == pytest.approx(1.0)
    now[0] += 1
    assert lock.due()
    assert not accounts.IdleLock(accounts.idle_minutes({"idle_lock_minutes": 0})).due()
    assert accounts.idle_minutes({"idle_lock_minutes": "nonsense"}) == accounts.DEFAULT_IDLE_MINUTES


def test_audit_trail_records_who_did_what_and_exports_csv(tmp_path: Path) -> None:
    db = open_clinic_database(sqlite_url(tmp_path / "c.sqlite3"))
    with db.session() as s:
        c = accounts.create_account(s, "Dr Admin", "correct horse", role="admin")
    db.clinician_id = c.id
    pid = _patient(db, "Zebedee Quixote")
    with db.session() as s:
        update_patient(s, pid, PatientData(full_name="Zebedee Quixote", notes="knee pain"))
        audit.record(s, "view", pid)
        audit.record(s, "export", pid, detail="history spreadsheet")
        audit.record(s, "print", pid, detail="home program PDF")
    with db.session() as s:
        delete_patient(s, pid, tmp_path)
    with db.session() as s:
        rows = audit.entries(s, patient_id=pid)
        with pytest.raises(audit.AuditError):
            audit.record(s, "tickle", pid)
    assert [r.action for r in reversed(rows)] == [
        "create",
        "change",
        "view",
        "export",
        "print",
        "delete",
    ]
    assert all(r.clinician_id == c.id and r.clinician == "Dr Admin" for r in rows)
    assert "notes" in rows[-2].detail  # the changed field's name, not its content
    text = audit.to_csv(rows)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [p["action"] for p in parsed][0] == "delete"
    assert "Zebedee" not in text and "knee pain" not in text  # no health data in the trail
    audit.export_csv(rows, tmp_path / "audit.csv")
    assert (tmp_path / "audit.csv").read_text(encoding="utf-8-sig") == text
    db.dispose()


def test_failed_edit_leaves_no_audit_entry(tmp_path: Path) -> None:
    db = open_clinic_database(sqlite_url(tmp_path / "c.sqlite3"))
    with pytest.raises(RuntimeError), db.session() as s:
        create_patient(s, PatientData(full_name="Rolled Back"))
        raise RuntimeError("cancelled")
    with db.session() as s:
        assert s.scalars(select(AuditEntry)).all() == []
    db.dispose()


def test_patient_names_never_reach_the_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Typical operations, with every logger at DEBUG (SQLAlchemy's engine log included)."""
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "sqlalchemy.engine", "alembic"):
        caplog.set_level(logging.DEBUG, logger=name)
    name, notes = "Zebedee Quixote", "Achilles tendinopathy since March"
    clinic = open_clinic()
    db = clinic.db
    with db.session() as s:
        c = accounts.create_account(s, "Dr Admin", "correct horse", role="admin")
    accounts.sign_in(db, "Dr Admin", "correct horse")
    pid = _patient(db, name)
    with db.session() as s:
        update_patient(s, pid, PatientData(full_name=name, notes=notes, phone="+44 7700 900123"))
        v = create_visit(s, pid, VisitData(notes=notes, pain_now=4))
        rid = add_recording(s, v.id, video_path="patient_000001/zebedee.mp4").id
        replace_events(s, rid, [_ev(12)])
        audit.record(s, "view", pid)
    with pytest.raises(ValidationError), db.session() as s:  # a refused save
        update_visit(s, v.id, VisitData(pain_now=11))
    with db.session() as s:
        s.execute(select(Patient).where(Patient.full_name == name)).all()
        delete_patient(s, pid, clinic.videos_root)
    from app.safety.backup import backup_now, list_backups

    backup_now(clinic)
    list_backups(clinic.folder.backups)
    clinic.close()
    assert c.id
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert len(caplog.records) > 0  # the engine log really was captured
    for secret in ("Zebedee", "Quixote", "Achilles", "7700 900123", "correct horse"):
        assert secret not in logged, f"{secret!r} appeared in the log output"


def test_views_are_folded_and_ui_actions_are_one_call(tmp_path: Path) -> None:
    db = open_clinic_database(sqlite_url(tmp_path / "c.sqlite3"))
    pid = _patient(db)
    assert audit.log_view(db, pid, now=0.0)
    assert not audit.log_view(db, pid, now=60.0)  # same patient, same clinician: folded
    assert audit.log_view(db, pid, now=audit.VIEW_REPEAT_S + 1)
    audit.log_action(db, "export", pid, detail="history spreadsheet")
    with db.session() as s:
        assert [r.action for r in audit.entries(s, patient_id=pid)] == [
            "export",
            "view",
            "view",
            "create",
        ]
    db.dispose()
