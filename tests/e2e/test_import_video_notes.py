"""Importing a file that is only partly readable tells the clinician how much and why."""

from __future__ import annotations

import os
import time
from pathlib import Path

from app.records.patients import PatientData, create_patient
from app.records.visits import VisitData, create_visit
from app.video.synthetic import write_clip


def test_cut_off_recording_is_imported_with_a_note(
    qtbot, clinic, tmp_path: Path, monkeypatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from ui import import_video
    from ui.main_window import MainWindow

    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Ana Partial")).id
        vid = create_visit(s, pid, VisitData(visit_date="2026-11-02")).id
    full = write_clip(
        tmp_path / "full.mp4",
        n_frames=120,
        width=160,
        height=120,
        gop=15,
        container_options={"movflags": "frag_keyframe+empty_moov+default_base_moof"},
    )
    clip = tmp_path / "GX010042.mp4"
    data = full.read_bytes()
    clip.write_bytes(data[: int(len(data) * 0.5)])  # the camera was still writing
    past = time.time() - 600
    os.utime(clip, (past, past))
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _p, title, text, *a, **k: shown.append((title, text))
    )
    monkeypatch.setattr(import_video, "ask_capture_fps", lambda *_a: None)
    w = MainWindow(clinic)
    qtbot.addWidget(w)
    w.patient_list.select(pid)
    w.import_video(vid, clip)
    qtbot.waitUntil(lambda: w.annotation.recording_id is not None, timeout=30000)
    assert len(shown) == 1
    title, text = shown[0]
    assert title == "Only part of the video was imported"
    assert "frames" in text and "cut off" in text
    recs = w.patient_view.summary.visits[0].recordings
    assert len(recs) == 1  # imported all the same
