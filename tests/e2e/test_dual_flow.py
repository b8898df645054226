"""Issue 20 end to end: compare two visits in the History tab, play both videos in step, step
linked with the keys, re-align by hand, export the side-by-side video and open (decode) it."""

from __future__ import annotations

import av
import numpy as np
from PySide6.QtCore import Qt

from app.analysis.events import EventType, Foot, FootEvent
from app.records.patients import PatientData, create_patient
from app.records.recordings import import_recording, replace_events
from app.records.visits import VisitData, create_visit
from app.video.synthetic import read_stamp, write_clip


def test_compare_step_realign_export_and_open(qtbot, main_window, clinic, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ui.compare_dialog import CompareDialog

    a = write_clip(tmp_path / "before.mp4", n_frames=120, width=320, height=240, fps=60, gop=30)
    b = write_clip(tmp_path / "after.mp4", n_frames=50, width=320, height=240, fps=25, gop=10)
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Eve Long")).id
        v1 = create_visit(s, pid, VisitData(visit_date="2026-09-01")).id
        v2 = create_visit(s, pid, VisitData(visit_date="2026-11-01")).id
    r1 = import_recording(clinic.db, clinic.videos_root, v1, a, capture_fps=60.0)
    r2 = import_recording(clinic.db, clinic.videos_root, v2, b, capture_fps=25.0)
    ic = EventType.INITIAL_CONTACT
    with clinic.db.session() as s:  # right contacts at 0.4 s (A) and 0.6 s (B), three each
        replace_events(s, r1, [FootEvent(Foot.RIGHT, ic, f, f / 60) for f in (24, 64, 104)])
        replace_events(s, r2, [FootEvent(Foot.RIGHT, ic, f, f / 25) for f in (15, 32, 49)])

    history = main_window.history
    history.set_patient(pid)
    opened = {}

    def run_compare(dialog) -> int:  # type: ignore[no-untyped-def]
        # The clinician clicks “Play both videos in step…” in the comparison.
        dialog.play_button.click()
        opened["window"] = dialog.dual_window
        return 0

    monkeypatch.setattr(CompareDialog, "exec", run_compare)
    history.compare()
    window = opened["window"]
    assert window is not None
    qtbot.addWidget(window)
    player = window.player
    sync = player.sync
    assert sync.link.how == "event" and abs(sync.offset_s - 0.2) < 1e-6

    def shown() -> tuple[int, int]:
        want = sync.pair()
        qtbot.waitUntil(lambda: player.pair_shown() == want, timeout=10000)
        return tuple(read_stamp(p.frame_rgb) for p in player.panes)  # type: ignore[return-value]

    assert shown() == (24, 15)
    player.setFocus()
    for _ in range(10):
        qtbot.keyClick(player, Qt.Key.Key_Right)
    fa, fb = shown()
    assert fa == 34 and abs((fb / 25 - 0.2) - fa / 60) <= 0.5 / 25
    # Re-align: unlink, move B two frames, Align here.
    player.link_box.setChecked(False)
    player.set_active(1)
    qtbot.keyClick(player, Qt.Key.Key_Right)
    qtbot.keyClick(player, Qt.Key.Key_Right)
    player.align_btn.click()
    assert sync.linked and sync.link.how == "by hand"
    new_offset = sync.offset_s
    assert abs(new_offset - (0.2 + 2 / 25 + (fb / 25 - 0.2 - fa / 60))) < 1e-6
    player.set_active(0)
    qtbot.keyClick(player, Qt.Key.Key_Left)
    shown()

    # Export the side-by-side at 1/4 speed and open the file.
    player.export(0, 0.25)
    qtbot.waitUntil(lambda: player._export_task is None, timeout=60000)
    result = player.last_export
    assert result is not None, player.last_error
    with av.open(str(result.path)) as c:
        stream = c.streams.video[0]
        assert stream.codec_context.name == "h264" and c.format.name.startswith("mov")
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(stream)]
    assert len(frames) == result.frames
    half = result.size[0] // 2
    band = half * 240 // 320
    for k, (fa, fb) in enumerate(result.source_frames):
        img = frames[result.title_frames + k]
        assert read_stamp(img[:band, :half]) == fa and read_stamp(img[:band, half:]) == fb
        assert abs((fb / 25 - new_offset) - fa / 60) <= 0.5 / 25 + 1e-6  # the re-aligned link
    assert float(np.mean(frames[0])) > 10  # the title card is not a black frame
    window.close()
