"""Drawings that last (issue 15): drag-move a drawing's points with the mouse, and keep a
drawing on a range of frames ("Show on frames…"). Both are steps of the one undo history,
saved like every edit (journal first, then the database) and there again after reopening."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from app.records.recordings import overlays_of
from tests.ui import marking_fixtures

L = Qt.MouseButton.LeftButton


recording = marking_fixtures.recording  # the shared fixtures (tests/ui/marking_fixtures.py)
panel = marking_fixtures.panel


def _stored(qtbot, clinic, recording, panel):  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: panel.unsaved_edits() == 0, timeout=10000)
    with clinic.db.session() as s:
        return [(o.kind, o.points, o.frame, o.last_frame, o.label) for o in overlays_of(s, recording)]


def _at(view, x: float, y: float) -> QPoint:  # type: ignore[no-untyped-def]
    return view._to_view(x, y).toPoint()


def _drag(qtbot, view, start: QPoint, end: QPoint, steps: int = 5) -> None:  # type: ignore[no-untyped-def]
    vp = view.viewport()
    qtbot.mousePress(vp, L, pos=start)
    for i in range(1, steps + 1):  # many mouse moves, one edit
        qtbot.mouseMove(vp, start + (end - start) * i / steps)
    qtbot.mouseRelease(vp, L, pos=end)


def test_dragging_a_point_moves_it_in_one_undoable_saved_step(qtbot, panel, clinic, recording) -> None:  # type: ignore[no-untyped-def]
    panel.go_to(5)
    qtbot.waitUntil(lambda: panel._shown_frame == 5, timeout=5000)
    # a knee angle: hip, knee, ankle; the knee straight between them (0° flexion)
    panel._overlay_created(
        {"kind": "angle", "points": [[80.0, 20.0], [80.0, 60.0], [80.0, 100.0]], "value": 0.0,
         "label": "knee 0.0°"}
    )
    view = panel.view
    qtbot.waitUntil(lambda: len(view._overlays) == 1)
    steps_before = len(panel.session.history.steps)
    _drag(qtbot, view, _at(view, 80.0, 60.0), _at(view, 100.0, 60.0))  # the knee, forward
    (moved,) = panel.session.drawings
    assert moved.points[0] == (80.0, 20.0) and moved.points[2] == (80.0, 100.0)
    assert moved.points[1][0] == pytest.approx(100.0, abs=1.5)
    assert moved.value is not None and moved.value > 20.0  # the knee angle follows the points
    assert moved.label.startswith("knee ") and moved.label != "knee 0.0°"
    assert len(panel.session.history.steps) == steps_before + 1  # one drag = one step
    assert "move knee angle" in panel.undo_action.text()
    assert [o[1][1][0] for o in _stored(qtbot, clinic, recording, panel)] == [
        pytest.approx(100.0, abs=1.5)
    ]

    panel.undo()  # one undo undoes the whole move
    assert panel.session.drawings[0].points[1] == (80.0, 60.0)
    assert panel.session.drawings[0].value == 0.0
    assert _stored(qtbot, clinic, recording, panel)[0][1][1] == [80.0, 60.0]
    panel.redo()
    assert panel.session.drawings[0].points[1][0] == pytest.approx(100.0, abs=1.5)

    # dragging the line (not a point) moves the whole drawing; Ctrl+Z undoes just that
    before = panel.session.drawings[0].points
    hip, knee = before[0], before[1]
    mid = ((hip[0] + knee[0]) / 2, (hip[1] + knee[1]) / 2)  # on the thigh line, not a point
    _drag(qtbot, view, _at(view, *mid), _at(view, mid[0] - 10, mid[1] + 10))
    after = panel.session.drawings[0].points
    assert all(a[0] == pytest.approx(b[0] - 10, abs=1.5) for a, b in zip(after, before, strict=True))
    assert all(a[1] == pytest.approx(b[1] + 10, abs=1.5) for a, b in zip(after, before, strict=True))
    assert panel.session.drawings[0].value == pytest.approx(moved.value)  # same shape
    panel.setFocus()
    qtbot.keyClick(panel, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert panel.session.drawings[0].points == before
    stored = _stored(qtbot, clinic, recording, panel)

    panel.close_recording()  # reopening shows the moved drawing where it was left
    assert panel.open_recording(recording)
    (again,) = panel.session.drawings
    assert again.points == before and [list(p) for p in before] == stored[0][1]


def test_a_drag_off_any_drawing_still_pans_and_a_custom_label_is_kept(qtbot, panel) -> None:  # type: ignore[no-untyped-def]
    panel.go_to(2)
    qtbot.waitUntil(lambda: panel._shown_frame == 2, timeout=5000)
    panel._overlay_created({"kind": "vline", "points": [[80.0, 60.0]], "label": "hip"})
    view = panel.view
    qtbot.waitUntil(lambda: len(view._overlays) == 1)
    n = len(panel.session.history.steps)
    _drag(qtbot, view, _at(view, 20.0, 20.0), _at(view, 30.0, 30.0))  # empty frame: no edit
    assert len(panel.session.history.steps) == n
    _drag(qtbot, view, _at(view, 80.0, 90.0), _at(view, 95.0, 90.0))  # anywhere on the line
    (d,) = panel.session.drawings
    assert d.points[0][0] == pytest.approx(95.0, abs=1.5) and d.label == "hip"


def test_show_on_frames_keeps_a_drawing_on_a_range(qtbot, panel, clinic, recording, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ui import annotation_dialogs

    asked: list[tuple[int, int, int]] = []

    def answer(_parent, first, last, max_frame):  # type: ignore[no-untyped-def]
        asked.append((first, last, max_frame))
        return (10, 40)

    monkeypatch.setattr(annotation_dialogs, "ask_frame_range", answer)
    panel.go_to(12)
    qtbot.waitUntil(lambda: panel._shown_frame == 12, timeout=5000)
    panel._overlay_created({"kind": "distance", "points": [[10.0, 10.0], [50.0, 10.0]], "label": ""})
    choices = dict(panel.drawing_choices(0))
    assert "Show on frames…" in choices
    panel._after_edit(choices["Show on frames…"]())
    assert asked == [(12, 42, 89)]  # from this frame, a second's worth suggested, last frame 89
    (d,) = panel.session.drawings
    assert (d.frame, d.last_frame) == (10, 40)
    assert "on frames 10–40" in panel.undo_action.text()
    assert [f for f in (9, 10, 25, 40, 41) if panel.session.drawings_on(f)] == [10, 25, 40]
    panel.go_to(30)
    qtbot.waitUntil(lambda: panel._shown_frame == 30 and len(panel.view._overlays) == 1)
    assert panel.export_frame(tmp_path / "in_range.png")  # the still carries the drawing
    panel.go_to(50)
    qtbot.waitUntil(lambda: panel._shown_frame == 50 and not panel.view._overlays)
    assert _stored(qtbot, clinic, recording, panel)[0][2:4] == (10, 40)

    # the menu on a ranged drawing offers this frame only, all frames, or another range
    panel.go_to(20)
    qtbot.waitUntil(lambda: panel._shown_frame == 20, timeout=5000)
    assert list(dict(panel.drawing_choices(0))) == [
        "Delete", "Show on this frame only", "Show on all frames", "Show on frames…"
    ]
    panel.undo()  # one undo: back on frame 12 only
    assert (panel.session.drawings[0].frame, panel.session.drawings[0].last_frame) == (12, None)
    panel.redo()
    assert panel.session.drawings[0].last_frame == 40
    monkeypatch.setattr(annotation_dialogs, "ask_frame_range", lambda *a: None)  # Cancel
    assert dict(panel.drawing_choices(0))["Show on frames…"]() is False
    assert panel.session.drawings[0].last_frame == 40

    _stored(qtbot, clinic, recording, panel)
    panel.close_recording()
    assert panel.open_recording(recording)
    (again,) = panel.session.drawings
    assert (again.frame, again.last_frame) == (10, 40)
    assert not panel.session.drawings_on(41)


def test_frame_range_dialog_answers(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The dialog itself: the values typed come back ordered; Cancel gives None."""
    from PySide6.QtWidgets import QDialog, QSpinBox

    from ui.annotation_dialogs import ask_frame_range

    def accept(self):  # type: ignore[no-untyped-def]
        a, b = self.findChildren(QSpinBox)
        a.setValue(50)
        b.setValue(20)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(QDialog, "exec", accept)
    assert ask_frame_range(None, 5, 10, 89) == (20, 50)
    monkeypatch.setattr(QDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    assert ask_frame_range(None, 5, 10, 89) is None
