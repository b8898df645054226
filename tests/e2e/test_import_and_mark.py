"""A clinician imports a clip into a visit, it opens for marking, marks are kept with the visit."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.records.patients import PatientData, create_patient
from app.records.visits import VisitData, create_visit
from app.video.synthetic import write_clip


def _patient_with_visit(clinic) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Ana Import")).id
        vid = create_visit(s, pid, VisitData(visit_date="2026-11-02", treadmill_speed_kmh=10)).id
    return pid, vid


def test_import_opens_marking_and_asks_capture_rate(
    qtbot, clinic, tmp_path: Path, monkeypatch
) -> None:
    from ui import import_video
    from ui.main_window import MainWindow

    pid, vid = _patient_with_visit(clinic)
    clip = write_clip(tmp_path / "Ärztin video.mp4", n_frames=40, width=160, height=120, fps=30)
    asked: list[str] = []

    def fake_ask(_parent, name, fps):  # type: ignore[no-untyped-def]
        asked.append(name)
        return 240.0

    monkeypatch.setattr(import_video, "ask_capture_fps", fake_ask)
    w = MainWindow(clinic)
    qtbot.addWidget(w)
    w.show()
    w.patient_list.select(pid)
    w.import_video(vid, clip)
    qtbot.waitUntil(lambda: w.annotation.recording_id is not None, timeout=20000)
    assert asked == ["Ärztin video.mp4"]  # no capture-rate tag in the file: the clinician is asked
    assert w.tabs.currentWidget() is w._annotation_tab
    assert w.annotation.capture_fps.value() == 240.0
    assert clip.exists()  # the original is untouched

    # Shortcuts act in the active window, as on a clinic PC: make sure ours is the active one.
    w.activateWindow()
    w.annotation.setFocus()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    qtbot.keyClick(w.annotation, Qt.Key.Key_Right)
    qtbot.keyClick(w.annotation, Qt.Key.Key_1)
    w.tabs.setCurrentWidget(w.patient_view)
    # The mark is saved in the background; the visits table follows when it lands.
    qtbot.waitUntil(lambda: w.patient_view.summary.visits[0].recordings[0].contacts == 1)
    recs = w.patient_view.summary.visits[0].recordings
    assert len(recs) == 1 and recs[0].contacts == 1
    assert recs[0].capture_fps == 240.0


def test_import_of_a_bad_file_explains_and_keeps_the_app_running(
    qtbot, clinic, tmp_path: Path, monkeypatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from ui.main_window import MainWindow

    pid, vid = _patient_with_visit(clinic)
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is a text file, not a video", encoding="utf-8")
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, title, text, *a, **k: shown.append(text))
    w = MainWindow(clinic)
    qtbot.addWidget(w)
    w.patient_list.select(pid)
    w.import_video(vid, bad)
    qtbot.waitUntil(lambda: bool(shown), timeout=20000)
    assert "not" in shown[0].lower()
    assert w.patient_view.summary.visits[0].recordings == []
