"""On a rear-view recording the marking tool bar offers the frontal-plane measures."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.records.patients import PatientData, create_patient
from app.records.recordings import import_recording, overlays_of
from app.records.visits import VisitData, create_visit
from app.video.synthetic import write_clip


def _recording(clinic, tmp_path: Path, view: str) -> int:  # type: ignore[no-untyped-def]
    clip = write_clip(tmp_path / f"{view}.mp4", n_frames=30, width=160, height=120, fps=30)
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name=f"Runner {view}")).id
        vid = create_visit(s, pid, VisitData(visit_date="2026-11-01")).id
    rid = import_recording(clinic.db, clinic.videos_root, vid, clip)
    if view != "side":
        from app.db.models import Recording

        with clinic.db.session() as s:
            s.get(Recording, rid).view = view
    return rid


@pytest.fixture
def panel(qtbot, clinic):  # type: ignore[no-untyped-def]
    from ui.annotation_panel import AnnotationPanel

    p = AnnotationPanel(clinic)
    qtbot.addWidget(p)
    p.resize(1200, 800)
    p.show()
    yield p
    p.shutdown()


def _shown(panel) -> set[str]:  # type: ignore[no-untyped-def]
    return {k for k, b in panel.measure.buttons.items() if b.isVisible()}


def test_rear_view_tools_replace_the_side_angles_and_draw_a_saved_measure(
    qtbot, panel, clinic, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    side = _recording(clinic, tmp_path, "side")
    rear = _recording(clinic, tmp_path, "rear")
    assert panel.open_recording(side)
    assert {"shank", "angle"} <= _shown(panel) and "pelvic_drop" not in _shown(panel)
    assert panel.open_recording(rear)
    assert {"pelvic_drop", "fppa_left", "fppa_right", "step_width_left"} <= _shown(panel)
    assert "shank" not in _shown(panel) and "angle" not in _shown(panel)
    assert {"vline", "distance", "calibration"} <= _shown(panel)  # both views
    qtbot.waitUntil(lambda: panel._shown_frame == 0, timeout=5000)
    # Click the two hips with the pelvic-drop tool on the video.
    panel.measure.buttons["pelvic_drop"].trigger()
    assert panel.view._tool == "pelvic_drop"
    view = panel.view
    vp = view.viewport()
    for x, y in ((50.0, 60.0), (110.0, 66.0)):
        qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=view._to_view(x, y).toPoint())
    qtbot.waitUntil(lambda: panel.unsaved_edits() == 0, timeout=10000)
    with clinic.db.session() as s:
        saved = [(o.kind, o.label) for o in overlays_of(s, rear)]
    assert len(saved) == 1 and saved[0][0] == "pelvic_drop"
    assert saved[0][1].startswith("pelvic drop ") and saved[0][1].endswith("R low")
    QApplication.processEvents()
    image = view.render_current(with_overlays=True)  # the drawing paints without errors
    assert image is not None and not image.isNull()
