"""Fixtures shared by the marking-panel tests (test_annotation_panel.py, test_drawing_edits.py):
a recording of a synthetic clip (a file name with non-ASCII letters, a long key-frame interval)
in a fresh visit, and the marking panel open on it with the keyboard focus.

Use in a test module as ``recording = marking_fixtures.recording`` and ``panel =
marking_fixtures.panel`` (module-level names; pytest finds fixtures there)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from app.records.patients import PatientData, create_patient
from app.records.recordings import import_recording
from app.records.visits import VisitData, create_visit
from app.video.synthetic import write_clip


@pytest.fixture
def recording(clinic, tmp_path: Path) -> int:  # type: ignore[no-untyped-def]
    clip = write_clip(
        tmp_path / "Läufer 跑步.mp4", n_frames=90, width=160, height=120, fps=30, gop=60
    )
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Test Runner")).id
        vid = create_visit(s, pid, VisitData(visit_date="2026-11-01")).id
    return import_recording(clinic.db, clinic.videos_root, vid, clip, capture_fps=120.0)


@pytest.fixture
def panel(qtbot, clinic, recording):  # type: ignore[no-untyped-def]
    from ui.annotation_panel import AnnotationPanel

    p = AnnotationPanel(clinic)
    qtbot.addWidget(p)
    p.resize(1200, 800)
    p.show()
    assert p.open_recording(recording)
    p.activateWindow()
    p.setFocus()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is p, timeout=5000)
    yield p
    p.shutdown()
