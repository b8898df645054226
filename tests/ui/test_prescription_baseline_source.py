"""The Prescribe baseline says where its figure comes from, and the stored source survives a
restart (issue 15): measured from reviewed marks (with the unreviewed proposals left out), or
typed in. Driven through the real Prescribe tab and database, then a reopened clinic."""

from __future__ import annotations

import pytest

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.prescription.plan import CadencePlan
from app.records import measurements
from app.records.patients import PatientData, create_patient
from app.records.recordings import add_recording, replace_events
from app.records.visits import VisitData, create_visit
from ui.prescription_panel import PrescriptionPanel

FPS = 100.0


def _events(n_reviewed: int = 8, n_proposals: int = 5) -> list[FootEvent]:
    feet = (Foot.LEFT, Foot.RIGHT)
    # 37 frames apart at 100 fps: 162.16... spm, not a round figure (the field shows 162.2)
    mine = [
        FootEvent(feet[i % 2], EventType.INITIAL_CONTACT, 37 * i, 0.37 * i)
        for i in range(n_reviewed)
    ]
    props = [
        FootEvent(feet[i % 2], EventType.TOE_OFF, 37 * i + 15, 0.37 * i + 0.15,
                  EventSource.AUTOMATIC, 0.9)
        for i in range(n_proposals)
    ]
    return mine + props


def _visit(clinic, events):  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Source Runner")).id
        vid = create_visit(s, pid, VisitData(visit_date="2026-10-01")).id
        rid = add_recording(s, vid, video_path="r.mp4", container_fps=FPS, capture_fps=FPS).id
        replace_events(s, rid, events)
    return pid, vid, rid


@pytest.fixture
def panel(qtbot):  # type: ignore[no-untyped-def]
    p = PrescriptionPanel()
    qtbot.addWidget(p)
    yield p
    p.shutdown()


def test_measured_source_names_reviewed_marks_and_the_proposals_left_out(panel) -> None:
    panel.set_context(165.0, (8, 9), None, None, None, unreviewed=30)
    text = panel.baseline_source.text()
    assert "reviewed marks" in text and "8 left / 9 right" in text
    assert "30 unreviewed proposals not counted" in text
    assert "measured from video" not in text
    panel.set_context(165.0, (8, 9), None, None, None)  # nothing left to review: no note
    assert "not counted" not in panel.baseline_source.text()
    panel.baseline_edit.setText("171")
    assert panel.baseline_source.text() == "typed in"


def test_no_reviewed_marks_says_what_to_do(panel) -> None:
    panel.set_context(None, None, None, None, None, unreviewed=65)
    text = panel.baseline_source.text()
    assert "No reviewed marks" in text and "65 unreviewed proposals" in text
    assert not panel.save_button.isEnabled()


def test_saved_source_survives_reopening_even_when_the_marks_changed(panel, qtbot) -> None:
    spm = 162.16216216
    panel.set_context(spm, (4, 4), None, None, None, unreviewed=5)
    data = panel.save()
    assert data is not None and data["baseline_source"] == "reviewed"
    assert data["baseline_unreviewed"] == 5
    # Reopened after more marks were reviewed: the saved prescription keeps its own source.
    other = PrescriptionPanel()
    qtbot.addWidget(other)
    other.set_context(170.0, (10, 10), None, None, data)
    assert other.baseline_edit.text() == "162.2"
    assert "reviewed marks (4 left / 4 right" in other.baseline_source.text()
    again = other.save()
    assert again is not None and again["baseline_source"] == "reviewed"
    assert again["baseline_spm"] == pytest.approx(spm)
    other.shutdown()


def test_typed_and_older_sources_are_kept(panel) -> None:
    panel.set_context(165.0, (8, 8), None, None, None)
    panel.baseline_edit.setText("158.5")
    typed = panel.save()
    assert typed is not None and typed["baseline_source"] == "typed"
    panel.set_context(165.0, (8, 8), None, None, typed)
    assert panel.baseline_source.text() == "typed in"
    assert panel.save()["baseline_source"] == "typed"  # type: ignore[index]
    older = dict(typed, baseline_source="measured", contacts_per_side=[7, 7], baseline_spm=160.0)
    panel.set_context(None, None, None, None, older)
    assert "saved before marks needed review" in panel.baseline_source.text()
    assert panel.save()["baseline_source"] == "measured"  # type: ignore[index]


def test_tab_shows_reviewed_source_and_it_survives_a_restart(qtbot, clinic) -> None:  # type: ignore[no-untyped-def]
    from app.clinic import open_clinic
    from ui.prescription_tab import PrescriptionTab

    _pid, vid, _rid = _visit(clinic, _events(8, 5))
    tab = PrescriptionTab(clinic)
    qtbot.addWidget(tab)
    tab.set_visit(vid)
    text = tab.panel.baseline_source.text()
    assert "reviewed marks (4 left / 4 right contacts)" in text
    assert "5 unreviewed proposals not counted" in text
    data = tab.panel.save()  # the tab stores it (prescription_saved)
    assert data is not None
    with clinic.db.session() as s:
        assert measurements.latest_prescription(s, vid) is not None
    tab.close()
    clinic.close()

    reopened = open_clinic()  # a restart: same data folder, new database connection
    try:
        with reopened.db.session() as s:
            rx = measurements.latest_prescription(s, vid)
            assert rx is not None and rx.baseline_source == "reviewed"
            plan = CadencePlan.from_dict(rx.plan)
        assert "reviewed marks (4 left / 4 right contacts)" in plan.baseline.source_text
        assert "5 unreviewed proposals" in plan.baseline.source_text
        tab2 = PrescriptionTab(reopened)
        qtbot.addWidget(tab2)
        tab2.set_visit(vid)
        assert "reviewed marks (4 left / 4 right" in tab2.panel.baseline_source.text()
        tab2.close()
    finally:
        reopened.close()
