from __future__ import annotations

import pytest
from sqlalchemy import select

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.clinic import open_clinic
from app.db.models import Patient, Recording
from app.records import measurements
from app.records.patients import PatientData, create_patient
from app.records.recordings import merge_automatic, replace_events
from app.records.validation import ValidationError
from app.records.visits import VisitData, create_visit


@pytest.fixture
def clinic():
    c = open_clinic()
    yield c
    c.close()


def _visit(clinic, date: str = "2026-10-01") -> int:
    with clinic.db.session() as s:
        pid = s.scalar(select(Patient.id))
        if pid is None:
            pid = create_patient(s, PatientData(full_name="M Test")).id
        return create_visit(s, pid, VisitData(visit_date=date)).id


def test_visit_measurement_from_marked_events(clinic) -> None:
    vid = _visit(clinic)
    with clinic.db.session() as s:
        rec = Recording(visit_id=vid, video_path="x.mp4", capture_fps=120.0)
        s.add(rec)
        s.flush()
        # 16 alternating contacts every 43 frames at 120 fps -> 120*60/43 = 167.44 spm
        events = [
            FootEvent(
                Foot.LEFT if k % 2 == 0 else Foot.RIGHT, EventType.INITIAL_CONTACT, 10 + 43 * k, 0.0
            )
            for k in range(16)
        ]
        replace_events(s, rec.id, events)
    with clinic.db.session() as s:
        m = measurements.visit_measurement(s, vid)
    assert m is not None
    assert m.cadence_spm == pytest.approx(120 * 60 / 43, rel=1e-6)
    assert m.contacts_per_side == (8, 8)


def test_no_marks_no_measurement(clinic) -> None:
    vid = _visit(clinic)
    with clinic.db.session() as s:
        assert measurements.visit_measurement(s, vid) is None


def test_prescriptions_are_kept_per_visit_and_found_at_follow_up(clinic) -> None:
    v1 = _visit(clinic, "2026-09-01")
    v2 = _visit(clinic, "2026-10-01")
    with clinic.db.session() as s:
        measurements.save_prescription(
            s, v1, {"target_spm": 166, "baseline_spm": 158, "percent": 5}
        )
        measurements.save_prescription(
            s, v1, {"target_spm": 167, "baseline_spm": 158, "percent": 5.5}
        )
    with clinic.db.session() as s:
        assert measurements.latest_prescription(s, v1).target_spm == 167
        assert measurements.previous_prescription(s, v2).target_spm == 167
        assert measurements.previous_prescription(s, v1) is None
        with pytest.raises(ValidationError):
            measurements.save_prescription(s, v2, {"baseline_spm": 150})


def test_merge_keeps_manual_marks_and_replaces_old_proposals() -> None:
    manual = FootEvent(Foot.LEFT, EventType.INITIAL_CONTACT, 100, 1.0)
    old_auto = FootEvent(
        Foot.RIGHT, EventType.INITIAL_CONTACT, 120, 1.2, EventSource.AUTOMATIC, 0.8
    )
    new = [
        FootEvent(Foot.LEFT, EventType.INITIAL_CONTACT, 101, 1.01, EventSource.AUTOMATIC, 0.9),
        FootEvent(Foot.RIGHT, EventType.INITIAL_CONTACT, 122, 1.22, EventSource.AUTOMATIC, 0.9),
    ]
    merged = merge_automatic([manual, old_auto], new)
    assert merged == [manual, new[1]]
