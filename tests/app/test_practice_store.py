"""Practice sessions in the database: migration 0006, save/replace/read back, cascade, sentence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import inspect

from app.db.database import head_revision, open_database, sqlite_url
from app.db.models import Visit
from app.practice.live_cadence import CadenceEstimate, Status
from app.practice.report import by_visit, latest_sentence, sentence
from app.practice.session import PracticeError, PracticeSession, faded
from app.practice.store import (
    count_for_patient,
    decode_samples,
    save_session,
    sessions_for_patient,
    sessions_for_visit,
)
from app.records.patients import PatientData, create_patient
from app.records.visits import VisitData, create_visit


@pytest.fixture
def db(tmp_path: Path):
    d = open_database(sqlite_url(tmp_path / "c.sqlite3"))
    yield d
    d.dispose()


def _visit(db, day: int = 1) -> tuple[int, int]:
    with db.session() as s:
        p = create_patient(s, PatientData(full_name=f"Runner {day}"), allow_duplicate=True)
        v = create_visit(s, p.id, VisitData(visit_date=dt.date(2026, 3, day)))
        return p.id, v.id


def _practised(minutes_on: int = 2, minutes_off: int = 5, spm_off: float = 172.0) -> PracticeSession:
    s = PracticeSession(172, 2.0, faded(first_on_s=minutes_on * 60, off_s=(minutes_off * 60,)))
    s.start(0.0, dt.datetime(2026, 3, 1, 10, 0))
    total = (minutes_on + minutes_off) * 60
    for k in range(total * 2 + 1):
        t = k / 2
        spm = 171.0 if t < minutes_on * 60 else spm_off
        s.tick(t, CadenceEstimate(t, spm, 0.9, Status.OK))
    s.stop(total)
    return s


def test_migration_creates_the_table_and_downgrades(db) -> None:
    assert "practice_session" in inspect(db.engine).get_table_names()
    assert db.current_revision() == head_revision()  # 0006 and any later revision
    db.downgrade("0005")
    assert "practice_session" not in inspect(db.engine).get_table_names()
    db.upgrade()
    assert "practice_session" in inspect(db.engine).get_table_names()


def test_round_trip_and_replace(db) -> None:
    pid, vid = _visit(db)
    s = _practised()
    row = save_session(db, s, vid)
    saved = sessions_for_visit(db, vid)
    assert len(saved) == 1 and saved[0].id == row
    got = saved[0]
    assert got.uid == s.uid and got.target_spm == 172 and got.tolerance_spm == 2.0
    assert got.duration_s == pytest.approx(420.0)
    assert [(x.t, x.spm, x.cue) for x in got.samples] == [(x.t, x.spm, x.cue) for x in s.samples]
    assert got.spans == [[0.0, 120.0, True], [120.0, 420.0, False]]
    assert got.totals.on_target_nocue_s == 300 and got.totals.measured_cue_s == 120
    assert got.schedule and got.schedule["label"].startswith("Faded")
    # Saving again (the autosave, then the end) replaces the row, never duplicates it.
    s.events.append("00:10 camera stopped")
    assert save_session(db, s, vid) == row
    again = sessions_for_visit(db, vid)
    assert len(again) == 1 and again[0].notes == ["00:10 camera stopped"]
    assert count_for_patient(db, pid) == 1


def test_deleting_the_visit_deletes_its_sessions(db) -> None:
    pid, vid = _visit(db)
    save_session(db, _practised(), vid)
    with db.session() as s:
        s.delete(s.get(Visit, vid))
    assert sessions_for_patient(db, pid) == []


def test_sentence_for_the_home_program(db) -> None:
    pid, vid = _visit(db)
    save_session(db, _practised(minutes_off=4), vid)
    text = latest_sentence(db, pid)
    assert text == "In the clinic you held 172 spm without the metronome for 4 minutes."
    pid2, vid2 = _visit(db, 2)
    save_session(db, _practised(minutes_off=4, spm_off=160.0), vid2)
    text2 = latest_sentence(db, pid2)
    assert text2 is not None and "160 spm" in text2 and "keep practising" in text2
    assert latest_sentence(db, pid2, visit_id=vid) is None  # another patient's visit


def test_summary_by_visit(db) -> None:
    pid, vid = _visit(db)
    save_session(db, _practised(), vid)
    save_session(db, _practised(minutes_off=2, spm_off=180.0), vid)
    rows = by_visit(sessions_for_patient(db, pid))
    assert len(rows) == 1 and rows[0].sessions == 2
    r = rows[0]
    assert r.mean_cue_spm == pytest.approx(171.0)
    assert r.on_target_cue_pct == pytest.approx(100.0)
    assert r.on_target_nocue_pct == pytest.approx(100 * 300 / 420)  # 180 spm is "too fast"
    assert r.visit_date == dt.date(2026, 3, 1)


def test_unstarted_session_and_damaged_record_refused(db) -> None:
    _pid, vid = _visit(db)
    with pytest.raises(PracticeError):
        save_session(db, PracticeSession(172), vid)
    with pytest.raises(PracticeError):
        decode_samples({"t": [0.0], "spm": []})

def test_sentence_without_anything_measured() -> None:
    s = PracticeSession(172)
    s.start(0.0)
    s.stop(30.0)

    class Row:
        totals = s.totals()
        target_spm = 172.0

    assert sentence(Row()) is None  # type: ignore[arg-type]


def test_the_printed_home_program_says_what_was_held(tmp_path: Path, monkeypatch) -> None:
    from app.clinic import open_clinic
    from app.records import measurements
    from app.reports.home_program import build_content

    clinic = open_clinic()
    try:
        pid, vid = _visit(clinic.db)
        with clinic.db.session() as s:
            measurements.save_prescription(s, vid, {"target_spm": 172, "baseline_spm": 164,
                                                    "percent": 5})  # fmt: skip
        with clinic.db.session() as s:
            before = build_content(s, pid, clinic.settings).run_plan
        save_session(clinic.db, _practised(minutes_off=4), vid)
        with clinic.db.session() as s:
            after = build_content(s, pid, clinic.settings).run_plan
        assert after == before + ["In the clinic you held 172 spm without the metronome for 4 minutes."]
    finally:
        clinic.close()
