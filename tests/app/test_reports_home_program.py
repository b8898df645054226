"""Home-program content model, defaults, record and reprint (no Qt)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from app.clinic import Clinic, open_clinic
from app.db.models import HomeProgram, Patient, Prescription
from app.demo import ensure_demo_data
from app.paths import DataFolder
from app.prescription.plan import plan_for
from app.prescription.rules import baseline_from_measurement
from app.records.patients import PatientData, create_patient
from app.records.visits import VisitData, create_visit
from app.reports.exercises import ExerciseLibrary
from app.reports.home_program import (
    DEFAULT_EXERCISES,
    HomeProgramContent,
    HomeProgramError,
    NoPrescriptionError,
    build_content,
    latest_prescription,
    list_programs,
    load_program,
    record_program,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Clinic:
    """One demo clinic for the module (building it takes seconds); tests only add to it."""
    c = open_clinic(demo=True, folder=DataFolder(tmp_path_factory.mktemp("demo")))
    ensure_demo_data(c)
    yield c
    c.close()


def runner_without_prescription(clinic: Clinic, name: str = "Chloé Neu") -> int:
    """A patient with one visit and no prescription (demo patients all have one)."""
    with clinic.db.session() as s:
        p = create_patient(s, PatientData(full_name=name))
        create_visit(s, p.id, VisitData())
        return p.id


def add_prescription(clinic: Clinic, name_part: str, baseline: float, percent: float) -> int:
    """Prescribe for the demo patient's latest visit; returns the patient id."""
    plan = plan_for(baseline_from_measurement(baseline, (8, 8)), percent)
    with clinic.db.session() as s:
        p = s.scalars(select(Patient).where(Patient.full_name.contains(name_part))).one()
        s.add(
            Prescription(
                visit_id=p.visits[-1].id,
                baseline_spm=baseline,
                target_spm=plan.target_spm,
                increase_pct=percent,
                plan=plan.to_dict(),
            )
        )
        return p.id


def test_content_from_latest_prescription_and_settings(demo: Clinic) -> None:
    pid = add_prescription(demo, "Anna", 158, 5)
    demo.settings.clinic_contact = "Tel. 555 0100"
    lib = ExerciseLibrary.for_data_folder(demo.folder.root)
    with demo.db.session() as s:
        c = build_content(s, pid, demo.settings, library=lib)
    assert c.patient_name == "Anna Lindqvist"
    assert c.clinic_contact == "Tel. 555 0100"
    assert c.clinician_name == "Sam Okafor (PT)"
    assert c.cadence is not None
    assert c.cadence.target_spm == c.cadence.metronome_bpm == 166  # round(158 × 1.05) = 165.9
    assert "166 beats per minute" in c.cadence.intro
    assert c.cadence.schedule[0] == ["Sessions 1–4", "Metronome for the whole run"]
    assert [e.exercise_id for e in c.exercises] == list(DEFAULT_EXERCISES)
    assert [z.scores for z in c.pain_zones] == ["0–3", "4–5", "6–10"]
    assert any("next morning" in r for r in c.pain_rules)
    assert any("2 to 3 times a week" in line for line in c.run_plan)
    json.dumps(c.to_dict())  # storable as JSON


def test_latest_prescription_wins(demo: Clinic) -> None:
    pid = add_prescription(demo, "Jonas", 160, 5)
    add_prescription(demo, "Jonas", 160, 10)
    with demo.db.session() as s:
        assert latest_prescription(s, pid).target_spm == 176  # type: ignore[union-attr]
        c = build_content(s, pid, demo.settings)
    assert c.cadence is not None and c.cadence.target_spm == 176


def test_no_prescription_is_a_clear_error_unless_allowed(demo: Clinic) -> None:
    pid = runner_without_prescription(demo)
    with demo.db.session() as s:
        with pytest.raises(NoPrescriptionError, match="no cadence prescription") as err:
            build_content(s, pid, demo.settings)
        assert err.value.patient_name == "Chloé Neu"
        c = build_content(s, pid, demo.settings, allow_without_prescription=True)
    assert c.cadence is None and c.run_log_rows == 0
    assert not any(e.exercise_id.startswith("cadence_") for e in c.exercises)
    assert c.visit_id is not None


def test_unknown_patient_and_patient_without_visit(demo: Clinic) -> None:
    with demo.db.session() as s:
        with pytest.raises(HomeProgramError, match="no patient"):
            build_content(s, 9999, demo.settings)
        p = Patient(full_name="New Runner", name_key="new runner")
        s.add(p)
        s.flush()
        with pytest.raises(HomeProgramError, match="no visit"):
            build_content(s, p.id, demo.settings, allow_without_prescription=True)


def test_damaged_plan_keeps_the_target_and_warns(demo: Clinic) -> None:
    pid = add_prescription(demo, "Tomás", 152, 5)
    with demo.db.session() as s:
        rx = latest_prescription(s, pid)
        rx.plan = {"schema_version": 1, "baseline_spm": "abc"}  # type: ignore[union-attr]
    with demo.db.session() as s:
        c = build_content(s, pid, demo.settings)
    assert c.cadence is not None and c.cadence.target_spm == 160
    assert c.warnings and "damaged" in c.warnings[0]


def test_unknown_exercise_id_warns_and_logo_comes_from_settings(demo: Clinic) -> None:
    pid = add_prescription(demo, "Anna", 158, 5)
    demo.settings.extra["clinic_logo"] = "/nowhere/logo.png"
    with demo.db.session() as s:
        c = build_content(s, pid, demo.settings, exercise_ids=["calf_raise", "gone"])
    assert [e.exercise_id for e in c.exercises] == ["calf_raise"]
    assert any("gone" in w for w in c.warnings)
    assert c.logo_path == "/nowhere/logo.png"


def test_content_round_trip_and_damaged_content(demo: Clinic) -> None:
    pid = add_prescription(demo, "Anna", 158, 5)
    with demo.db.session() as s:
        c = build_content(s, pid, demo.settings)
    c.clinician_note = "Ørjan's note — 山田"
    back = HomeProgramContent.from_dict(json.loads(json.dumps(c.to_dict())))
    assert back == c
    with pytest.raises(HomeProgramError):
        HomeProgramContent.from_dict({"schema_version": 99, "patient_name": "x"})
    with pytest.raises(HomeProgramError):
        HomeProgramContent.from_dict({"patient_name": "x", "cadence": {"bad": 1}})


def test_record_list_and_reload_a_program(demo: Clinic, tmp_path: Path) -> None:
    pid = add_prescription(demo, "Anna", 158, 5)
    pdf = tmp_path / "given.pdf"
    pdf.write_bytes(b"%PDF-1.4 test\n%%EOF\n")  # complete enough for the kept-copy check
    with demo.db.session() as s:
        c = build_content(s, pid, demo.settings)
        c.clinician_note = "Keep the easy pace."
        row = record_program(s, demo.folder.root, c, pdf)
        row_id = row.id
        uid = s.get(Patient, pid).uid  # type: ignore[union-attr]
        assert row.pdf_path.startswith(f"programs/patient-{uid}/")  # type: ignore[union-attr]
    with demo.db.session() as s:
        records = list_programs(s, demo.folder.root, pid)
        assert [r.id for r in records] == [row_id]
        assert records[0].pdf_path is not None
        assert records[0].pdf_path.read_bytes() == b"%PDF-1.4 test\n%%EOF\n"
        again = load_program(s, row_id)
        assert again.clinician_note == "Keep the easy pace."
        assert s.get(HomeProgram, row_id).printed_at is not None  # type: ignore[union-attr]
        with pytest.raises(HomeProgramError):
            load_program(s, 424242)
        c.visit_id = None
        with pytest.raises(HomeProgramError, match="not linked"):
            record_program(s, demo.folder.root, c, pdf)


def test_default_stills_are_first_and_latest_visits(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app.clinic import open_clinic
    from app.db.models import Recording
    from app.paths import DataFolder
    from app.records.patients import PatientData, create_patient
    from app.records.visits import VisitData, create_visit
    from app.reports.home_program import default_stills

    c = open_clinic(folder=DataFolder(tmp_path / "clinic"))
    with c.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Stills Runner")).id
        recs = []
        for date in ("2026-09-01", "2026-10-01", "2026-11-01"):
            v = create_visit(s, pid, VisitData(visit_date=date))
            r = Recording(visit_id=v.id, video_path="x.mp4")
            s.add(r)
            s.flush()
            recs.append((r.id, r.uid))
    layout = c.folder.media()
    with c.db.session() as s:
        assert default_stills(s, c.folder.stills, pid) == (None, None)
    # Old id-named stills are never offered (the id may be another patient's after a restore).
    (c.folder.stills / f"recording{recs[1][0]}_frame12.png").write_bytes(b"png")
    with c.db.session() as s:
        assert default_stills(s, c.folder.stills, pid) == (None, None)
    layout.still(recs[1][1], 12).write_bytes(b"png")
    with c.db.session() as s:
        assert default_stills(s, c.folder.stills, pid) == (None, layout.still(recs[1][1], 12))
    layout.still(recs[0][1], 40).write_bytes(b"png")
    layout.still(recs[2][1], 7).write_bytes(b"png")
    with c.db.session() as s:
        before, after = default_stills(s, c.folder.stills, pid)
    assert before == layout.still(recs[0][1], 40)
    assert after == layout.still(recs[2][1], 7)
    c.close()
