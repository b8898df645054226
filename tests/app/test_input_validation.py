"""Values the program used to store without checking: names and notes (surrogates, control and
bidi characters), calibration scales, prescribed cadences; and the default file name."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.analysis.keypoints import JOINTS, KeypointTrack
from app.analysis.metrics import landing_metrics
from app.annotation.geometry import GeometryError, calibrate, check_cm_per_px
from app.clinic import open_clinic
from app.db.models import Patient, Prescription
from app.filenames import MAX_STEM_BYTES, safe_file_name, safe_file_stem
from app.records import measurements
from app.records.patients import PatientData, create_patient, update_patient
from app.records.recordings import add_recording, set_calibration
from app.records.validation import ValidationError, calibration_scale, clean_name, clean_text
from app.records.visits import VisitData, create_visit


@pytest.fixture
def clinic():  # type: ignore[no-untyped-def]
    c = open_clinic()
    yield c
    c.close()


# --- text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("Ana \ud800Ruiz", "damaged character"),  # lone surrogate: UnicodeEncodeError before
        ("Ana \udfffRuiz", "damaged character"),
        ("Anna\u202eztiM", "U+202E"),  # right-to-left override
        ("Anna\u2066Mitze\u2069", "U+2066"),  # isolates
        ("Ana\u200fRuiz", "U+200F"),  # right-to-left mark
        ("Ana\u200bRuiz", "U+200B"),  # zero-width space: two names that look the same
        ("Ana\x00Ruiz", "control"),
        ("Ana\x1bRuiz", "control"),
        ("   ", "Please enter"),
        ("x" * 301, "longer than 300"),
    ],
)
def test_bad_names_are_refused_with_a_message(clinic, name: str, says: str) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s, pytest.raises(ValidationError) as err:
        create_patient(s, PatientData(full_name=name))
    assert err.value.field == "full_name" and says in err.value.message
    with clinic.db.session() as s:
        assert s.query(Patient).count() == 0


def test_real_names_pass_and_are_nfc(clinic) -> None:  # type: ignore[no-untyped-def]
    names = ["Zoe\u0308 Ørsted", "مهر\u200cناز رضایی", "Nguyễn Thị Ánh", "李小龍", "O'Brien-Smith"]
    with clinic.db.session() as s:
        for n in names:
            create_patient(s, PatientData(full_name=n))
    with clinic.db.session() as s:
        stored = set(s.scalars(measurements.select(Patient.full_name)))
    assert "Zoë Ørsted" in stored  # composed: the same bytes however it was typed
    assert "مهر\u200cناز رضایی" in stored  # Persian zero-width non-joiner is part of the name


@pytest.mark.parametrize("field", ["phone", "email", "complaint", "notes"])
def test_other_patient_text_fields_are_checked(clinic, field: str) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Ana Ruiz")).id
    data = PatientData(full_name="Ana Ruiz", **{field: "x\ud800\u202e"})
    with clinic.db.session() as s, pytest.raises(ValidationError) as err:
        update_patient(s, pid, data)
    assert err.value.field == field


def test_visit_text_is_checked_and_notes_keep_their_lines(clinic) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Ana Ruiz")).id
        with pytest.raises(ValidationError) as err:
            create_visit(s, pid, VisitData(shoes="Nike\u202e"))
        assert err.value.field == "shoes"
        v = create_visit(s, pid, VisitData(notes="line one\n\tline two  \n"))
        assert v.notes == "line one\n\tline two"


def test_clean_text_rules() -> None:
    assert clean_text("  a \t b ", "f", "Field") == "a b"
    assert clean_text("", "f", "Field") is None
    with pytest.raises(ValidationError):
        clean_text("", "f", "Field", required=True)
    with pytest.raises(ValidationError):
        clean_text(12, "f", "Field")
    assert clean_name("Ana\nRuiz") == "Ana Ruiz"  # a pasted line break is only whitespace


# --- calibration ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [-0.5, 0, 0.0, -1e-9, math.inf, -math.inf, math.nan, "x", True, None])
def test_calibration_scale_must_be_positive_and_finite(bad: object) -> None:
    with pytest.raises(GeometryError):
        check_cm_per_px(bad)
    if bad is not None:
        with pytest.raises(ValidationError) as err:
            calibration_scale(bad)
        assert err.value.field == "cm_per_px"
    assert check_cm_per_px("0.25") == 0.25 and calibration_scale(None) is None


def test_calibrate_cannot_return_an_infinite_scale() -> None:
    with pytest.raises(GeometryError):
        calibrate((0, 0), (1e-300, 1e-300), 100)  # too short; never an overflowing scale
    assert calibrate((0, 0), (100, 0), 50) == 0.5


def test_stored_calibration_is_checked(clinic, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Ana Ruiz")).id
        vid = create_visit(s, pid, VisitData()).id
        rid = add_recording(s, vid, video_path="x.mp4").id
    for bad in (-0.5, 0.0, math.inf, math.nan):
        with clinic.db.session() as s, pytest.raises(ValidationError):
            set_calibration(s, rid, bad)
    with clinic.db.session() as s:
        set_calibration(s, rid, 0.1)
        set_calibration(s, rid, None)  # removing a calibration is allowed


def _track_with_landing() -> tuple[list[FootEvent], KeypointTrack]:
    n = 30
    xy = np.zeros((n, 2, len(JOINTS), 2))
    for j, name in enumerate(JOINTS):
        xy[:, :, j, 1] = {"hip": 100, "knee": 200, "ankle": 300, "heel": 310, "toe": 310}.get(name, 150)
    xy[:, :, JOINTS.index("heel"), 0] = 60  # heel 60 px ahead of the hip
    xy[:, :, JOINTS.index("toe"), 0] = 80
    track = KeypointTrack(times=np.arange(n) / 30.0, xy=xy)
    events = [
        FootEvent(
            foot=Foot.LEFT,
            type=EventType.INITIAL_CONTACT,
            frame=15,
            time_s=0.5,
            source=EventSource.MANUAL,
        )
    ]
    return events, track


@pytest.mark.parametrize("bad", [-0.1, 0.0, math.inf])
def test_landing_metrics_refuse_a_bad_scale(bad: float) -> None:
    events, track = _track_with_landing()
    good = landing_metrics(events, track, "right", cm_per_px=0.5)
    # the same track measures with a valid scale: heel 60 px ahead of the hip at 0.5 cm/px
    assert good.calibrated
    assert good.per_step and good.per_step[0]["overstride_cm"] == pytest.approx(30.0)
    with pytest.raises(GeometryError):
        landing_metrics(events, track, "right", cm_per_px=bad)  # -0.1 gave an overstride of -10 cm


# --- prescriptions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "plan",
    [
        {"target_spm": 0},
        {"target_spm": -5},
        {"target_spm": 5000},
        {"target_spm": math.inf},  # OverflowError before
        {"target_spm": math.nan},
        {"target_spm": "fast"},
        {"target_spm": 175, "baseline_spm": 0},
        {"target_spm": 175, "baseline_spm": math.inf},
        {"target_spm": 175, "percent": 400},
        {"target_spm": 175, "treadmill_speed_kmh": -3},
        {},
    ],
)
def test_saving_an_impossible_prescription_is_refused(clinic, plan: dict) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Ana Ruiz")).id
        vid = create_visit(s, pid, VisitData()).id
    with clinic.db.session() as s, pytest.raises(ValidationError) as err:
        measurements.save_prescription(s, vid, plan)
    assert err.value.message and "Traceback" not in err.value.message
    with clinic.db.session() as s:
        assert s.query(Prescription).count() == 0


def test_an_unusual_but_possible_prescription_is_saved(clinic) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Ana Ruiz")).id
        vid = create_visit(s, pid, VisitData()).id
        p = measurements.save_prescription(
            s, vid, {"target_spm": 205.0, "baseline_spm": 150, "percent": 36.7}
        )  # above the 140–200 sanity range: a warning when prescribing, never a refusal
        assert p.target_spm == 205 and p.baseline_spm == 150


# --- file names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Home program - Ana Ruiz - 1 Dec 2026", "Home program - Ana Ruiz - 1 Dec 2026"),
        ("A/B\\C:D*E?F\"G<H>I|J", "A B C D E F G H I J"),
        ("../../etc/passwd", "etc passwd"),
        ("report\u202efdp.exe", "report fdp.exe"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("   ...   ", "Stride Clinic"),
        ("Zoe\u0308", "Zoë"),
        ("bad\ud800name", "bad name"),
        ("trailing dots...", "trailing dots"),
    ],
)
def test_safe_file_stem(text: str, expected: str) -> None:
    assert safe_file_stem(text) == expected


@pytest.mark.parametrize("char", ["a", "é", "李", "😀"])
def test_long_names_are_capped_in_bytes_at_a_character_boundary(char: str, tmp_path: Path) -> None:
    name = safe_file_name(f"Home program - {char * 300} - 1 Dec 2026", ".pdf")
    stem = name.removesuffix(".pdf")
    assert len(stem.encode("utf-8")) <= MAX_STEM_BYTES
    stem.encode("utf-8")  # whole characters only
    (tmp_path / name).write_bytes(b"%PDF")  # the file system accepts it
    assert name.endswith(".pdf")


# --- body and treadmill figures ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (VisitData(treadmill_speed_kmh=math.inf), "treadmill_speed_kmh"),
        (VisitData(treadmill_speed_kmh="1e400"), "treadmill_speed_kmh"),
        (VisitData(treadmill_speed_kmh=-3), "treadmill_speed_kmh"),
        (VisitData(treadmill_speed_kmh=0), "treadmill_speed_kmh"),
        (VisitData(incline_pct=90), "incline_pct"),
        (VisitData(incline_pct=math.nan), "incline_pct"),
    ],
)
def test_treadmill_figures_are_checked(clinic, data: VisitData, field: str) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Ana Ruiz")).id
        with pytest.raises(ValidationError) as err:
            create_visit(s, pid, data)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (PatientData(full_name="A", height_cm=math.inf), "height_cm"),
        (PatientData(full_name="A", height_cm=0), "height_cm"),
        (PatientData(full_name="A", leg_length_cm=-80), "leg_length_cm"),
        (PatientData(full_name="A", leg_length_cm="nan"), "leg_length_cm"),
    ],
)
def test_body_figures_are_checked(clinic, data: PatientData, field: str) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s, pytest.raises(ValidationError) as err:
        create_patient(s, data)
    assert err.value.field == field
