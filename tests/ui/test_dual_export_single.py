"""Export video… of one recording from the marking panel (ui/dual_export.SingleExport): the
dual player's export code, task and copy, for the recording the panel shows."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from PySide6.QtWidgets import QApplication

from app.records.patients import PatientData, create_patient
from app.records.recordings import import_recording, replace_overlays
from app.records.visits import VisitData, create_visit
from app.video.synthetic import read_stamp, write_clip
from tests.ui import marking_fixtures

panel = marking_fixtures.panel  # the shared marking panel, on this module's `recording`
N, FPS = 60, 30


@pytest.fixture
def recording(clinic, tmp_path: Path) -> int:
    clip = write_clip(tmp_path / "run.mp4", n_frames=N, width=320, height=240, fps=FPS, gop=20)
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Ona Single Export")).id
        vid = create_visit(s, pid, VisitData(visit_date="2026-11-20")).id
    rid = import_recording(clinic.db, clinic.videos_root, vid, clip, capture_fps=float(FPS))
    with clinic.db.session() as s:
        replace_overlays(s, rid, [{"kind": "vline", "points": [[200, 50]], "frame": -1}])
    return rid


def test_export_one_recording_from_the_marking_panel(qtbot, panel, clinic, tmp_path) -> None:  # type: ignore[no-untyped-def]
    panel.export_video_action.trigger()
    window = panel._single_export
    assert window is not None and window.isVisible()
    qtbot.addWidget(window)
    dialog = window.choose()  # the dual player's dialog, for this recording only
    assert [dialog.what.itemText(i) for i in range(dialog.what.count())] == ["This recording"]
    dialog.reject()
    task = window.export(1.0, title=False)
    assert task is not None
    qtbot.waitUntil(lambda: window._export_task is None, timeout=60000)
    result = window.last_export
    assert result is not None, window.last_error
    assert result.path.parent.name == "exports" and "OSE" in result.path.name
    assert clinic.videos_root in result.path.parents  # stored with the visit
    stamps = []
    with av.open(str(result.path)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        for frame in c.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24")
            stamps.append(read_stamp(rgb))
    assert len(stamps) == result.frames
    # Real time: every source frame once, in order (the caption band does not hide the stamp).
    assert stamps == list(range(N))[: len(stamps)] and len(stamps) >= N - 1
    assert window.copy_btn.isEnabled()
    from ui.dual_export import copy_for_patient

    copied = copy_for_patient(window, tmp_path / "for_patient.mp4")
    assert copied is not None and copied.read_bytes() == result.path.read_bytes()
    window.close()


def test_export_video_without_a_video_says_so(qtbot, clinic) -> None:  # type: ignore[no-untyped-def]
    from ui.annotation_panel import AnnotationPanel
    from ui.dual_export import open_single_export

    p = AnnotationPanel(clinic)
    qtbot.addWidget(p)
    shown: list[str] = []
    p._show_banner = shown.append  # type: ignore[method-assign]
    assert open_single_export(p) is None
    assert shown and "Open a recording" in shown[0]
    QApplication.processEvents()
    p.shutdown()
