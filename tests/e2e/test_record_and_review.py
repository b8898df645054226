"""Record the runner with the (synthetic) camera, the file lands on the visit, review it at once."""

from __future__ import annotations

from app.records.patients import PatientData, create_patient
from app.records.visits import VisitData, create_visit


def test_record_stop_links_then_review_opens(qtbot, clinic, monkeypatch) -> None:
    monkeypatch.setenv("STRIDE_CLINIC_DEV_SOURCES", "1")
    from ui.main_window import MainWindow

    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Rita Recorder")).id
        vid = create_visit(s, pid, VisitData(visit_date="2026-11-20")).id
    w = MainWindow(clinic)
    qtbot.addWidget(w)
    w.show()
    w.patient_list.select(pid)
    w.tabs.setCurrentWidget(w._capture_tab)
    panel = w.capture
    qtbot.waitUntil(
        lambda: panel.recorder is not None and panel.record_button.isEnabled(), timeout=10000
    )
    panel.toggle_recording()
    qtbot.waitUntil(lambda: panel.recorder.is_recording, timeout=5000)
    qtbot.wait(600)
    panel.toggle_recording()
    # Stopping alone links the file to the visit (no "Review now" needed to keep it listed).
    qtbot.waitUntil(lambda: bool(w._linked_captures), timeout=10000)
    visit = next(v for v in w.patient_view.summary.visits if v.id == vid)
    assert len(visit.recordings) == 1 and visit.recordings[0].view == "side"
    # Filmed into the visit's uid-named folder (never an id-named one an old record left).
    from pathlib import Path

    from app.records.media import visit_folder

    with clinic.db.session() as s:
        folder = visit_folder(s, clinic.videos_root, vid)
    assert [Path(p).parent for p in w._linked_captures] == [folder]
    panel.review_button.click()
    qtbot.waitUntil(lambda: w.annotation.recording_id == visit.recordings[0].id, timeout=10000)
    assert w.tabs.currentWidget() is w._annotation_tab
    assert w.annotation.frame_count > 10
    w.close()
