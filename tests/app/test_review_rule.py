"""One review rule for every figure: unreviewed automatic proposals are never counted.

A recording holds 6 reviewed contacts 40 frames apart at 100 fps (150 steps/min) and 6
unreviewed proposals in between (which, if counted, would double the cadence to 300). Every place
a figure comes from must say 150: the visits table, the Prescribe baseline (and the home program
printed from it), the History and its exports, and the marking panel's own session.
"""

from __future__ import annotations

import pytest

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.analysis.metrics import temporal_metrics
from app.annotation.session import MarkingSession, reviewed
from app.history.export import history_tables
from app.history.trends import load_history
from app.prescription.plan import build_plan
from app.prescription.rules import baseline_from_measurement, prescribe
from app.records import measurements
from app.records.patients import PatientData, create_patient
from app.records.recordings import add_recording, replace_events
from app.records.visits import VisitData, create_visit

FPS = 100.0
REVIEWED_SPM = 150.0


def _events() -> list[FootEvent]:
    feet = (Foot.LEFT, Foot.RIGHT)
    mine = [
        FootEvent(feet[i % 2], EventType.INITIAL_CONTACT, 40 * i, 0.4 * i) for i in range(6)
    ]
    proposals = [
        FootEvent(
            feet[(i + 1) % 2], EventType.INITIAL_CONTACT, 40 * i + 20, 0.4 * i + 0.2,
            EventSource.AUTOMATIC, 0.9,
        )
        for i in range(6)
    ]
    return mine + proposals


@pytest.fixture
def clinic():  # type: ignore[no-untyped-def]
    from app.clinic import open_clinic

    c = open_clinic()
    yield c
    c.close()


@pytest.fixture
def marked(clinic):  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Rule Runner")).id
        vid = create_visit(s, pid, VisitData(visit_date="2026-10-01")).id
        rid = add_recording(s, vid, video_path="r.mp4", container_fps=FPS, capture_fps=FPS).id
        replace_events(s, rid, _events())
    return pid, vid, rid


def test_counting_the_proposals_would_change_the_figure() -> None:
    """The fixture really distinguishes the rules (so the tests below can fail)."""
    assert temporal_metrics(_events()).cadence_spm == pytest.approx(2 * REVIEWED_SPM, rel=0.02)
    assert temporal_metrics(reviewed(_events())).cadence_spm == pytest.approx(REVIEWED_SPM)


def test_visits_table_follows_the_rule(clinic, marked) -> None:  # type: ignore[no-untyped-def]
    pid, vid, rid = marked
    with clinic.db.session() as s:
        m = measurements.patient_measurements(s, pid)[vid]
        counts = measurements.reviewed_contact_counts(s, pid)
    assert m.cadence_spm == pytest.approx(REVIEWED_SPM)
    assert m.contacts_per_side == (3, 3)
    assert counts == {rid: 6}


def test_prescribe_baseline_and_home_program_follow_the_rule(clinic, marked) -> None:  # type: ignore[no-untyped-def]
    from app.reports.home_program import build_content

    pid, vid, _rid = marked
    with clinic.db.session() as s:
        m = measurements.visit_measurement(s, vid)
    assert m is not None and m.cadence_spm == pytest.approx(REVIEWED_SPM)
    baseline = baseline_from_measurement(m.cadence_spm, m.contacts_per_side)
    plan = build_plan(prescribe(baseline, 5.0))
    assert plan.baseline_spm == pytest.approx(REVIEWED_SPM)
    with clinic.db.session() as s:
        measurements.save_prescription(s, vid, plan.to_dict())
    with clinic.db.session() as s:
        rx = measurements.latest_prescription(s, vid)
        assert rx.baseline_source == "reviewed"  # stored: survives a restart
        content = build_content(s, pid, clinic.settings)
    assert content.cadence is not None
    assert content.cadence.target_spm == round(REVIEWED_SPM * 1.05)


def test_history_and_exports_follow_the_rule(clinic, marked) -> None:  # type: ignore[no-untyped-def]
    pid, _vid, _rid = marked
    with clinic.db.session() as s:
        history = load_history(s, pid)
    assert history.series["cadence"].mean[0] == pytest.approx(REVIEWED_SPM)
    assert history.visits[0].contacts == (3, 3)
    tables = history_tables(history)
    metrics = tables[next(k for k in tables if "metric" in k)]
    assert metrics["cadence_mean"].iloc[0] == pytest.approx(REVIEWED_SPM)
    visits = tables[next(k for k in tables if "visit" in k)]
    assert int(visits["contacts_left"].iloc[0] + visits["contacts_right"].iloc[0]) == 6


def test_the_marking_session_follows_the_rule() -> None:
    s = MarkingSession(_events(), frame_count=400)
    assert temporal_metrics(s.reviewed_events()).cadence_spm == pytest.approx(REVIEWED_SPM)
    s.accept_all()  # once accepted, proposals count
    assert temporal_metrics(s.reviewed_events()).cadence_spm == pytest.approx(
        2 * REVIEWED_SPM, rel=0.02
    )


def test_visits_table_shows_the_review_state(clinic, marked) -> None:  # type: ignore[no-untyped-def]
    """The visits table says which visit still needs review: "6 of 12 reviewed"."""
    from app.records.summary import patient_summary

    pid, vid, rid = marked
    with clinic.db.session() as s:
        summary = patient_summary(s, pid)
        visit_count = measurements.visit_review_count(s, vid)
        # a second, fully reviewed visit and an unmarked one
        vid2 = create_visit(s, pid, VisitData(visit_date="2026-10-08")).id
        rid2 = add_recording(s, vid2, video_path="b.mp4", container_fps=FPS, capture_fps=FPS).id
        replace_events(s, rid2, reviewed(_events()))
        vid3 = create_visit(s, pid, VisitData(visit_date="2026-10-15")).id
        add_recording(s, vid3, video_path="c.mp4", container_fps=FPS, capture_fps=FPS)
    assert summary is not None
    (v,) = summary.visits
    assert v.recordings[0].review == measurements.ReviewCount(total=12, reviewed=6)
    assert v.review.text == "6 of 12 reviewed" and v.review.unreviewed == 6
    assert visit_count.unreviewed == 6
    with clinic.db.session() as s:
        by_id = {x.id: x for x in patient_summary(s, pid).visits}  # type: ignore[union-attr]
    assert by_id[vid2].review.text == "all 6 reviewed"
    assert by_id[vid3].review.text == "not marked"
