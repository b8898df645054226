"""Reviewing automatic proposals through the main window: detection, keys, undo/redo, drawings.

Runs offscreen like every GUI test, and again on a real X screen (Xvfb + openbox) with real key
presses from xdotool (tests/e2e/test_review_x11.py sets STRIDE_X11_KEYS=1), where Qt's platform
key bindings differ (X11: Redo is Ctrl+Shift+Z only).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.annotation.session import REVIEW_RULE
from app.records.patients import PatientData, create_patient
from app.records.recordings import events_of, import_recording, overlays_of
from app.records.visits import VisitData, create_visit
from app.video.synthetic import write_clip

X11 = os.environ.get("STRIDE_X11_KEYS") == "1"
C, S = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
# name -> (Qt key, modifiers) for offscreen; the same name is an xdotool key name on X11.
KEYS = {
    "1": (Qt.Key.Key_1, Qt.KeyboardModifier.NoModifier),
    "n": (Qt.Key.Key_N, Qt.KeyboardModifier.NoModifier),
    "a": (Qt.Key.Key_A, Qt.KeyboardModifier.NoModifier),
    "r": (Qt.Key.Key_R, Qt.KeyboardModifier.NoModifier),
    "u": (Qt.Key.Key_U, Qt.KeyboardModifier.NoModifier),
    "g": (Qt.Key.Key_G, Qt.KeyboardModifier.NoModifier),
    "Right": (Qt.Key.Key_Right, Qt.KeyboardModifier.NoModifier),
    "Return": (Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier),
    "Escape": (Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier),
    "ctrl+z": (Qt.Key.Key_Z, C),
    "ctrl+shift+z": (Qt.Key.Key_Z, C | S),
    "ctrl+y": (Qt.Key.Key_Y, C),
}


def _press(qtbot, name: str) -> None:  # type: ignore[no-untyped-def]
    """One key press as the clinician makes it (a real X key event on the X11 run)."""
    if X11:
        subprocess.run(["xdotool", "key", "--clearmodifiers", name], check=True)
        qtbot.wait(150)
    else:
        key, mods = KEYS[name]
        qtbot.keyClick(QApplication.focusWidget() or QApplication.activeWindow(), key, mods)


def _type(qtbot, text: str) -> None:  # type: ignore[no-untyped-def]
    if X11:
        subprocess.run(["xdotool", "type", text], check=True)
        qtbot.wait(150)
    else:
        qtbot.keyClicks(QApplication.focusWidget(), text)


@pytest.fixture
def window(qtbot, clinic, tmp_path: Path):  # type: ignore[no-untyped-def]
    from ui.main_window import MainWindow

    clip = write_clip(tmp_path / "treadmill.mp4", n_frames=120, width=160, height=120, fps=30)
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Review Runner")).id
        vid = create_visit(s, pid, VisitData(visit_date="2026-11-03")).id
    rid = import_recording(clinic.db, clinic.videos_root, vid, clip, capture_fps=120.0)
    w = MainWindow(clinic)
    qtbot.addWidget(w)
    w.show()
    w.patient_list.select(pid)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=10000)
    yield w, rid
    w.close()


def _proposals() -> list[FootEvent]:
    def p(foot: Foot, frame: int, conf: float) -> FootEvent:
        return FootEvent(foot, EventType.INITIAL_CONTACT, frame, 0.0, EventSource.AUTOMATIC, conf)

    return [
        p(Foot.LEFT, 11, 0.95),  # next to the clinician's own mark at 10: must never replace it
        p(Foot.RIGHT, 25, 0.9),
        p(Foot.LEFT, 40, 0.3),
        p(Foot.RIGHT, 55, 0.8),
        p(Foot.LEFT, 70, 0.2),
        p(Foot.RIGHT, 85, 0.9),
    ]


def _stored(clinic, rid: int, panel, qtbot) -> list[FootEvent]:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: panel.unsaved_edits() == 0, timeout=10000)
    with clinic.db.session() as s:
        return events_of(s, rid)


def test_review_by_keys_with_undo_redo_of_marks_and_drawings(
    qtbot, window, clinic, monkeypatch
) -> None:
    from app.analysis import detect_job

    w, rid = window
    # The opened visit's recording opens itself when Mark video is chosen.
    w.tabs.setCurrentWidget(w._annotation_tab)
    panel = w.annotation
    assert panel.recording_id == rid
    assert panel.sidebar.rule_label.text() == REVIEW_RULE  # the rule is stated in the UI
    qtbot.waitUntil(panel.hasFocus)  # the tab gives the panel the keys
    panel.go_to(10)
    _press(qtbot, "1")  # the clinician's own left contact at frame 10
    qtbot.waitUntil(lambda: len(panel.events) == 1)

    def fake_detect(path, **kw):  # type: ignore[no-untyped-def]
        return detect_job.DetectionResult(None, _proposals(), "right", [])

    monkeypatch.setattr(detect_job, "detect", fake_detect)
    panel.sidebar.detect_btn.click()  # the real path: BackgroundTask, job, merge, one step
    qtbot.waitUntil(lambda: panel.session.review_state().proposals == 5, timeout=10000)
    mine = [e for e in _stored(clinic, rid, panel, qtbot) if e.frame == 10]
    assert [(e.foot, e.source) for e in mine] == [(Foot.LEFT, EventSource.MANUAL)]
    assert all(e.frame != 11 for e in panel.events)
    assert panel.sidebar.review_label.text().startswith("1 of 6 reviewed")
    assert panel.sidebar.cadence.text() == "—"  # figures exclude unreviewed proposals

    panel.setFocus()
    _press(qtbot, "n")  # next proposal: the video goes there and it is selected
    qtbot.waitUntil(lambda: panel.current == 25)
    _press(qtbot, "a")
    qtbot.waitUntil(lambda: panel.session.review_state().reviewed == 2)
    _press(qtbot, "u")  # next low-confidence proposal
    qtbot.waitUntil(lambda: panel.current == 40)
    _press(qtbot, "r")
    qtbot.waitUntil(lambda: all(e.frame != 40 for e in panel.events))
    assert panel.sidebar.review_label.text().startswith("2 of 5 reviewed")

    asked: list[int] = []
    monkeypatch.setattr(
        type(panel), "ask_accept_all", lambda self, n, low: asked.append(low) or "high"
    )
    panel.sidebar.accept_btn.click()  # asks once: one low-confidence proposal is left
    assert asked == [1]
    assert panel.sidebar.review_label.text().startswith("4 of 5 reviewed")
    assert panel.sidebar.cadence.text() != "—"

    panel.setFocus()
    _press(qtbot, "ctrl+z")
    qtbot.waitUntil(lambda: panel.session.review_state().reviewed == 2)
    assert w.statusBar().currentMessage() == "Undone: accept 2 high-confidence proposals."
    assert "accept 2 high-confidence proposals" in panel.redo_action.text()
    assert panel.redo_action in w.edit_menu.actions()
    _press(qtbot, "ctrl+shift+z")
    qtbot.waitUntil(lambda: panel.session.review_state().reviewed == 4)
    _press(qtbot, "ctrl+z")
    qtbot.waitUntil(lambda: panel.session.review_state().reviewed == 2)
    _press(qtbot, "ctrl+y")
    qtbot.waitUntil(lambda: panel.session.review_state().reviewed == 4)

    # Drawings share the one history.
    panel._overlay_created({"kind": "vline", "points": [[80.0, 60.0]], "label": "hip"})
    assert "draw vertical line" in panel.undo_action.text()

    def overlays() -> int:
        qtbot.waitUntil(lambda: panel.unsaved_edits() == 0, timeout=10000)
        with clinic.db.session() as s:
            return len(overlays_of(s, rid))

    assert overlays() == 1
    panel.setFocus()
    _press(qtbot, "ctrl+z")
    qtbot.waitUntil(lambda: not panel.session.drawings)
    assert overlays() == 0
    _press(qtbot, "ctrl+shift+z")
    qtbot.waitUntil(lambda: bool(panel.session.drawings))
    assert overlays() == 1

    # Go to frame: Enter goes there and returns to stepping; Esc leaves the field.
    _press(qtbot, "g")
    qtbot.waitUntil(lambda: panel.transport.frame_box.hasFocus())
    _type(qtbot, "42")
    _press(qtbot, "Return")
    qtbot.waitUntil(lambda: panel.current == 42)
    qtbot.waitUntil(lambda: not panel.transport.frame_box.hasFocus())
    _press(qtbot, "Right")
    qtbot.waitUntil(lambda: panel.current == 43)
    _press(qtbot, "g")
    qtbot.waitUntil(lambda: panel.transport.frame_box.hasFocus())
    _type(qtbot, "5")
    _press(qtbot, "Escape")
    qtbot.waitUntil(lambda: not panel.transport.frame_box.hasFocus())
    assert panel.current == 43 and panel.transport.frame_box.value() == 43

    final = _stored(clinic, rid, panel, qtbot)
    assert (10, Foot.LEFT, EventSource.MANUAL) in {(e.frame, e.foot, e.source) for e in final}
    assert len(final) == 5
    # The visits table (Patient & visits) shows that this visit still needs review.
    from ui.patient_view import REVIEW_COLUMN

    w.tabs.setCurrentWidget(w.patient_view)
    qtbot.waitUntil(
        lambda: w.patient_view.visits.item(0, REVIEW_COLUMN).text() == "4 of 5 reviewed",
        timeout=10000,
    )
    assert "1 unreviewed" in w.patient_view.visits.item(0, REVIEW_COLUMN).toolTip()


def test_an_empty_panel_says_what_to_do(qtbot, clinic) -> None:
    from ui.main_window import MainWindow

    w = MainWindow(clinic)
    qtbot.addWidget(w)
    w.show()
    w.tabs.setCurrentWidget(w._annotation_tab)
    assert w.annotation.recording_id is None
    assert "double-click its recording" in w.annotation.view.message_text()
    w.close()
