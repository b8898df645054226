"""The marking panel: keys, marking, undo/redo, autosave, capture rate, bad files, overlays."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.records.recordings import events_of, overlays_of
from app.video.synthetic import read_stamp
from tests.ui import marking_fixtures

recording = marking_fixtures.recording  # the shared fixtures (tests/ui/marking_fixtures.py)
panel = marking_fixtures.panel


def _wait_frame(qtbot, panel, frame: int) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: panel._shown_frame == frame, timeout=5000)


def _settle(qtbot, *panels) -> None:  # type: ignore[no-untyped-def]
    """Wait until the panels' background autosaves have committed every edit."""
    qtbot.waitUntil(lambda: all(p.unsaved_edits() == 0 for p in panels), timeout=10000)


def _stored(clinic, recording, panel=None, qtbot=None) -> list[FootEvent]:  # type: ignore[no-untyped-def]
    if panel is not None:
        _settle(qtbot, panel)
    with clinic.db.session() as s:
        return events_of(s, recording)


def test_keys_step_and_show_the_exact_frame(qtbot, panel) -> None:
    _wait_frame(qtbot, panel, 0)
    qtbot.keyClick(panel, Qt.Key.Key_Right)
    _wait_frame(qtbot, panel, 1)
    qtbot.keyClick(panel, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    _wait_frame(qtbot, panel, 11)
    qtbot.keyClick(panel, Qt.Key.Key_Left)
    _wait_frame(qtbot, panel, 10)
    rgb = panel.server.get(10)
    assert read_stamp(rgb) == 10
    qtbot.keyClick(panel, Qt.Key.Key_End)
    _wait_frame(qtbot, panel, 89)
    assert panel.transport.frame_box.value() == 89


def test_capture_rate_gives_real_time(qtbot, panel, clinic, recording) -> None:
    panel.go_to(60)
    assert panel._time(60) == pytest.approx(60 / 120.0, abs=1e-6)  # 30 fps file captured at 120 fps
    assert "0.500 s" in panel.transport.time_label.text()
    panel.capture_fps.setValue(240.0)
    assert panel._time(60) == pytest.approx(0.25, abs=1e-6)
    _settle(qtbot, panel)
    from app.db.models import Recording

    with clinic.db.session() as s:
        assert s.get(Recording, recording).capture_fps == 240.0


def test_marking_undo_redo_and_autosave(qtbot, panel, clinic, recording) -> None:
    frames = {Foot.LEFT: [2, 30, 58], Foot.RIGHT: [16, 44, 72]}
    for foot, key in ((Foot.LEFT, Qt.Key.Key_1), (Foot.RIGHT, Qt.Key.Key_2)):
        for f in frames[foot]:
            panel.go_to(f)
            qtbot.keyClick(panel, key)
    panel.go_to(10)
    qtbot.keyClick(panel, Qt.Key.Key_3)  # left toe-off
    stored = _stored(clinic, recording, panel, qtbot)
    assert len(stored) == 7  # saved at once, no explicit save
    assert {(e.foot, e.type, e.frame) for e in stored} >= {(Foot.LEFT, EventType.TOE_OFF, 10)}
    # 6 contacts 14 frames apart at 120 fps -> 120 * 60 / 14 = 514 spm (absurd: warns) — the maths is live:
    assert panel.sidebar.cadence.text().startswith("514.3")
    assert not panel.sidebar.warnings.isHidden()

    qtbot.keyClick(panel, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(_stored(clinic, recording, panel, qtbot)) == 6
    qtbot.keyClick(
        panel, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert len(_stored(clinic, recording, panel, qtbot)) == 7

    panel.go_to(30)
    qtbot.keyClick(panel, Qt.Key.Key_Delete)
    assert all(e.frame != 30 for e in _stored(clinic, recording, panel, qtbot))
    panel.undo()
    assert any(e.frame == 30 for e in _stored(clinic, recording, panel, qtbot))


def test_marks_survive_reopening(qtbot, panel, clinic, recording) -> None:
    panel.go_to(5)
    panel.mark(Foot.RIGHT, EventType.INITIAL_CONTACT)
    panel.close_recording()
    assert panel.open_recording(recording)
    assert [(e.foot, e.frame) for e in panel.events] == [(Foot.RIGHT, 5)]


def test_moving_an_event_on_the_timeline(qtbot, panel, clinic, recording) -> None:
    panel.go_to(20)
    panel.mark(Foot.LEFT, EventType.INITIAL_CONTACT)
    ev = panel.events[0]
    panel.timeline.event_moved.emit(ev, 23)
    assert [e.frame for e in _stored(clinic, recording, panel, qtbot)] == [23]
    assert panel.current == 23
    panel.undo()
    assert [e.frame for e in _stored(clinic, recording, panel, qtbot)] == [20]


def test_automatic_proposals_never_overwrite_manual_marks(qtbot, panel, clinic, recording) -> None:
    panel.go_to(40)
    panel.mark(Foot.LEFT, EventType.INITIAL_CONTACT)
    proposals = [
        FootEvent(Foot.LEFT, EventType.INITIAL_CONTACT, 41, 0.0, EventSource.AUTOMATIC, 0.9),
        FootEvent(Foot.RIGHT, EventType.INITIAL_CONTACT, 55, 0.0, EventSource.AUTOMATIC, 0.3),
    ]
    panel.session.merge_proposals(proposals)
    panel._after_edit()
    stored = _stored(clinic, recording, panel, qtbot)
    assert [(e.frame, e.source) for e in stored] == [
        (40, EventSource.MANUAL),
        (55, EventSource.AUTOMATIC),
    ]
    assert "low confidence" in panel.sidebar.auto_label.text()
    panel.go_to(55)
    qtbot.keyClick(panel, Qt.Key.Key_A)  # accept this one
    assert all(e.source is EventSource.MANUAL for e in _stored(clinic, recording, panel, qtbot))


def test_vanished_video_keeps_marks_and_explains(qtbot, clinic, recording) -> None:
    from app.db.models import Recording
    from app.records.recordings import resolve_video
    from ui.annotation_panel import AnnotationPanel

    p = AnnotationPanel(clinic)
    qtbot.addWidget(p)
    assert p.open_recording(recording)
    p.go_to(12)
    p.mark(Foot.LEFT, EventType.INITIAL_CONTACT)
    p.close_recording()
    with clinic.db.session() as s:
        resolve_video(s.get(Recording, recording), clinic.videos_root).unlink()
    assert p.open_recording(recording)
    assert not p.banner.isHidden()
    assert "safe" in p.banner.text()
    assert [e.frame for e in p.events] == [12]
    p.shutdown()


def test_overlays_are_saved_and_exported(qtbot, panel, clinic, recording, tmp_path: Path) -> None:
    panel.go_to(3)
    _wait_frame(qtbot, panel, 3)
    panel._overlay_created({"kind": "vline", "points": [[80.0, 60.0]], "label": "hip"})
    _settle(qtbot, panel)
    with clinic.db.session() as s:
        saved = overlays_of(s, recording)
    assert [(o.kind, o.frame) for o in saved] == [("vline", 3)]
    out = tmp_path / "frame.png"
    assert panel.export_frame(out)
    assert out.stat().st_size > 0


def test_keypoints_set_direction_and_landing_measures(qtbot, panel, clinic, recording) -> None:
    import numpy as np

    from app.analysis.keypoints import KeypointTrack

    n = panel.frame_count
    xy = np.zeros((n, 2, 5, 2))
    xy[:, :, 0] = (80.0, 30.0)  # hip
    xy[:, :, 1] = (75.0, 60.0)  # knee
    xy[:, :, 2] = (72.0, 90.0)  # ankle
    xy[:, :, 3] = (70.0, 95.0)  # heel
    xy[:, :, 4] = (60.0, 96.0)  # toe
    track = KeypointTrack(np.arange(n) / 30.0, xy, np.ones((n, 2, 5)), {"direction": "left"})
    panel.set_keypoints(track)
    assert panel.direction == -1
    assert "←" in panel.direction_action.text()
    # on the recording's clock: capture time (120 fps)
    assert panel.keypoints.times[-1] == pytest.approx((n - 1) / 120.0)
    for f, foot in ((10, Foot.LEFT), (24, Foot.RIGHT), (38, Foot.LEFT)):
        panel.go_to(f)
        panel.mark(foot, EventType.INITIAL_CONTACT)
    assert not panel.sidebar.landing.table.isHidden()
    assert panel.sidebar.landing.table.item(2, 1).text() != "—"  # knee flexion measured
    from ui.landing_view import LandingView

    big = panel.enlarge_landing()  # the same measures in a window large enough to read
    assert big is not None and big.width() >= 1000
    assert big.findChild(LandingView).table.item(2, 1).text() != "—"
    big.close()
    panel.skeleton_box.setChecked(True)
    assert panel.skeleton_box.isEnabled()


def test_two_workstations_marking_the_same_recording(qtbot, panel, clinic, recording) -> None:
    from ui.annotation_panel import AnnotationPanel

    other = AnnotationPanel(clinic)  # a second workstation with the same recording open
    qtbot.addWidget(other)
    assert other.open_recording(recording)
    panel.go_to(10)
    panel.mark(Foot.LEFT, EventType.INITIAL_CONTACT)
    _settle(qtbot, panel)
    asked: list[str] = []
    other.ask_conflict = lambda message: asked.append(message) or "reload"  # type: ignore[method-assign]
    other.go_to(20)
    other.mark(Foot.RIGHT, EventType.INITIAL_CONTACT)
    qtbot.waitUntil(lambda: bool(asked), timeout=10000)  # the second save detects the first's
    assert [e.frame for e in _stored(clinic, recording, panel, qtbot)] == [10]  # not overwritten
    assert [e.frame for e in other.events] == [10]  # reloaded the other workstation's marks

    other.ask_conflict = lambda message: asked.append(message) or "overwrite"  # type: ignore[method-assign]
    panel.go_to(30)
    panel.mark(Foot.LEFT, EventType.INITIAL_CONTACT)  # first workstation saves again
    _settle(qtbot, panel)
    other.go_to(40)
    other.mark(Foot.RIGHT, EventType.INITIAL_CONTACT)  # the clinician chose to keep theirs
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=10000)
    _settle(qtbot, other)
    assert [e.frame for e in _stored(clinic, recording)] == [10, 40]
    other.shutdown()


def test_nudging_a_mark_by_one_frame(qtbot, panel, clinic, recording) -> None:
    panel.go_to(30)
    panel.mark(Foot.LEFT, EventType.INITIAL_CONTACT)
    qtbot.keyClick(panel, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(panel, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(panel, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    assert [e.frame for e in _stored(clinic, recording, panel, qtbot)] == [31]
    assert panel.current == 31
    panel.undo()
    assert [e.frame for e in _stored(clinic, recording, panel, qtbot)] == [32]


def _track(n: int):  # type: ignore[no-untyped-def]
    import numpy as np

    from app.analysis.keypoints import KeypointTrack

    xy = np.full((n, 2, 5, 2), 50.0)
    return KeypointTrack(np.arange(n) / 30.0, xy, np.ones((n, 2, 5)), {"direction": "right"})


def test_the_skeleton_choice_is_remembered(qtbot, panel, clinic, recording) -> None:
    panel.set_keypoints(_track(panel.frame_count))
    assert not panel.skeleton_box.isChecked()  # off until the clinician turns it on
    panel.skeleton_box.setChecked(True)
    panel.close_recording()
    assert panel.open_recording(recording)
    panel.set_keypoints(_track(panel.frame_count))
    assert panel.skeleton_box.isChecked()
    panel.skeleton_box.setChecked(False)
    panel.set_keypoints(_track(panel.frame_count))
    assert not panel.skeleton_box.isChecked()


def test_a_drawing_kept_on_all_frames_survives_reopening(qtbot, panel, clinic, recording) -> None:
    panel.go_to(3)
    panel.span_box.setChecked(True)
    panel._overlay_created({"kind": "vline", "points": [[80.0, 60.0]], "label": "hip"})
    panel.span_box.setChecked(False)
    panel._overlay_created({"kind": "distance", "points": [[1.0, 1.0], [4.0, 5.0]], "label": ""})
    _settle(qtbot, panel)
    panel.close_recording()
    assert panel.open_recording(recording)
    assert [d.kind for d in panel.session.drawings_on(50)] == ["vline"]
    assert sorted(d.kind for d in panel.session.drawings_on(3)) == ["distance", "vline"]
    panel.undo()  # nothing to undo after reopening: history is per opening
    assert len(panel.session.drawings) == 2


def test_right_click_on_a_drawing_deletes_it_or_changes_its_frames(qtbot, panel) -> None:
    panel.go_to(7)
    panel._overlay_created({"kind": "vline", "points": [[80.0, 60.0]], "label": "hip"})
    choices = dict(panel.drawing_choices(0))
    assert list(choices) == ["Delete", "Show on all frames", "Show on frames…"]
    choices["Show on all frames"]()
    panel._after_edit()
    assert panel.session.drawings_on(60) and "on all frames" in panel.undo_action.text()
    panel.go_to(60)
    dict(panel.drawing_choices(0))["Show on this frame only"]()
    assert panel.session.drawings[0].frame == 60
    dict(panel.drawing_choices(0))["Delete"]()
    assert panel.session.drawings == []
    panel.undo()
    assert panel.session.drawings_on(60)
