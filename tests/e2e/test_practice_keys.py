"""Practice by keys, as a clinician at the treadmill drives it: Space starts and pauses the
session, M switches the metronome, End stops and saves, also right after a click on the
metronome's own button (which takes the keyboard focus).

Runs offscreen like every GUI test, and again on a real X screen (Xvfb + openbox) with real key
presses and clicks from xdotool (tests/e2e/test_practice_keys_x11.py sets STRIDE_X11_KEYS=1):
there a clicked button really holds the focus, and a focused push button takes Space for itself
unless the shortcut wins.
"""

from __future__ import annotations

import os
import subprocess

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from app.capture.errors import CameraBusyError
from app.capture.fakes import UnavailableSource
from app.practice.session import State
from app.practice.store import sessions_for_visit

X11 = os.environ.get("STRIDE_X11_KEYS") == "1"
KEYS = {"space": Qt.Key.Key_Space, "m": Qt.Key.Key_M, "End": Qt.Key.Key_End}


def _press(qtbot, name: str) -> None:  # type: ignore[no-untyped-def]
    if X11:
        subprocess.run(["xdotool", "key", "--clearmodifiers", name], check=True)
        qtbot.wait(200)
    else:
        target = QApplication.focusWidget() or QApplication.activeWindow()
        qtbot.keyClick(target, KEYS[name])


def _click(qtbot, widget) -> None:  # type: ignore[no-untyped-def]
    """A mouse click on ``widget`` (a real X click on the X11 run: it takes the focus)."""
    if X11:
        p = widget.mapToGlobal(QPoint(widget.width() // 2, widget.height() // 2))
        subprocess.run(["xdotool", "mousemove", str(p.x()), str(p.y()), "click", "1"], check=True)
        qtbot.wait(200)
    else:
        widget.setFocus(Qt.FocusReason.MouseFocusReason)  # as a click on a StrongFocus button
        qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_practice_by_keys(qtbot, practice_visit, practice_panel, main_window, clinic) -> None:  # type: ignore[no-untyped-def]
    _pid, vid = practice_visit
    w, panel = main_window, practice_panel
    # no real camera here: a busy one, the session goes on with the metronome
    panel.add_camera("test:busy", "busy", lambda: UnavailableSource(CameraBusyError()))
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    panel.setFocus()

    _press(qtbot, "space")  # start
    qtbot.waitUntil(lambda: panel.session is not None and panel.session.state is State.RUNNING)
    qtbot.waitUntil(panel.metronome.is_running, timeout=3000)

    _click(qtbot, panel.metronome._start_btn)  # the clinician silences the metronome by hand
    qtbot.waitUntil(lambda: not panel.metronome.is_running(), timeout=3000)
    assert panel.session.state is State.RUNNING
    assert QApplication.focusWidget() is panel.metronome._start_btn  # the click took the focus
    qtbot.wait(1000)  # a second without the cue
    assert not panel.metronome.is_running()  # the schedule did not switch it back on

    _press(qtbot, "m")  # M: the metronome on again, with the focus still on its button
    qtbot.waitUntil(panel.metronome.is_running, timeout=3000)
    # Space pauses the session even with the metronome's button focused (it does not toggle it)
    _press(qtbot, "space")
    qtbot.waitUntil(lambda: panel.session.state is State.PAUSED, timeout=3000)
    _press(qtbot, "space")
    qtbot.waitUntil(lambda: panel.session.state is State.RUNNING, timeout=3000)
    qtbot.wait(1200)
    _press(qtbot, "End")
    qtbot.waitUntil(lambda: panel.last_saved_id is not None, timeout=10000)
    saved = sessions_for_visit(clinic.db, vid)
    assert len(saved) == 1
    # the metronome's spans say it was switched off by hand and on again
    ons = [on for _a, _b, on in saved[0].spans]
    assert True in ons and False in ons
