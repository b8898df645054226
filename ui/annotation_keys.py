"""The marking panel's keys: one table, one binding per key.

Two shortcuts on one key make Qt fire neither (that is how Redo died on X11, where Qt's standard
Redo key Ctrl+Shift+Z was bound a second time). So every key is listed once here, undo and redo
are single actions carrying all their keys, and tests/ui/test_annotation_keys.py checks the
whole main window for a key bound twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

# (key, handler name, what it does): the handler names are the keys of ``install``'s dict.
KEYMAP: tuple[tuple[str, str, str], ...] = (
    ("Right", "next_frame", "next frame"),
    ("Left", "previous_frame", "previous frame"),
    ("Shift+Right", "forward_10", "10 frames forward"),
    ("Shift+Left", "back_10", "10 frames back"),
    ("Home", "first_frame", "first frame"),
    ("End", "last_frame", "last frame"),
    ("Space", "play", "play / pause"),
    ("J", "slower", "slower"),
    ("K", "pause", "pause"),
    ("L", "faster", "faster"),
    ("G", "go_to_frame", "go to frame (Enter: go, Esc: leave the field)"),
    ("1", "left_contact", "mark left contact"),
    ("2", "right_contact", "mark right contact"),
    ("3", "left_toe_off", "mark left toe-off"),
    ("4", "right_toe_off", "mark right toe-off"),
    ("Delete", "delete", "delete the marks on this frame"),
    ("Backspace", "delete", "delete the marks on this frame"),
    ("Ctrl+Left", "nudge_back", "move this frame's marks one frame back"),
    ("Ctrl+Right", "nudge_forward", "move this frame's marks one frame forward"),
    ("A", "accept", "accept the selected proposal"),
    ("R", "reject", "reject the selected proposal"),
    ("M", "next_mark", "next mark"),
    ("Shift+M", "previous_mark", "previous mark"),
    ("N", "next_proposal", "next proposal"),
    ("Shift+N", "previous_proposal", "previous proposal"),
    ("U", "next_low_confidence", "next low-confidence proposal"),
    ("+", "zoom_in", "zoom the timeline in"),
    ("=", "zoom_in", "zoom the timeline in"),
    ("-", "zoom_out", "zoom the timeline out"),
)


def install(widget: QWidget, handlers: dict[str, Callable[[], object]]) -> list[QShortcut]:
    """Bind every key of :data:`KEYMAP` within ``widget`` (and its children) to its handler."""
    shortcuts = []
    for key, name, _what in KEYMAP:
        s = QShortcut(QKeySequence(key), widget)
        s.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        s.activated.connect(handlers[name])
        shortcuts.append(s)
    return shortcuts


def bindings(standard: QKeySequence.StandardKey, *extra: str) -> list[QKeySequence]:
    """The platform's keys for a standard action plus ``extra``, each key once."""
    keys: list[QKeySequence] = []
    for k in [*QKeySequence.keyBindings(standard), *(QKeySequence(e) for e in extra)]:
        if not k.isEmpty() and all(k != seen for seen in keys):
            keys.append(k)
    return keys


def undo_redo_actions(
    widget: QWidget, undo: Callable[[], object], redo: Callable[[], object]
) -> tuple[QAction, QAction]:
    """Undo and Redo as two actions (also shown in Edit ▸), each with all of its keys: the
    platform's plus Ctrl+Y / Ctrl+Shift+Z, so both work on Windows, macOS and X11."""
    undo_action = QAction("&Undo", widget)
    undo_action.setShortcuts(bindings(QKeySequence.StandardKey.Undo))
    redo_action = QAction("&Redo", widget)
    redo_action.setShortcuts(bindings(QKeySequence.StandardKey.Redo, "Ctrl+Y", "Ctrl+Shift+Z"))
    for action, fn in ((undo_action, undo), (redo_action, redo)):
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(fn)
        widget.addAction(action)
    return undo_action, redo_action


def panel_handlers(p: Any) -> dict[str, Callable[[], object]]:
    """What each :data:`KEYMAP` handler name does in the marking panel ``p``."""
    from app.analysis.events import EventType, Foot

    return {
        "next_frame": lambda: p.step(1),
        "previous_frame": lambda: p.step(-1),
        "forward_10": lambda: p.step(10),
        "back_10": lambda: p.step(-10),
        "first_frame": lambda: p.go_to(0),
        "last_frame": lambda: p.go_to(p.frame_count - 1),
        "play": p.transport.toggle,
        "slower": p.transport.slower,
        "pause": p.transport.stop,
        "faster": p.transport.faster,
        "go_to_frame": p._focus_frame_box,
        "left_contact": lambda: p.mark(Foot.LEFT, EventType.INITIAL_CONTACT),
        "right_contact": lambda: p.mark(Foot.RIGHT, EventType.INITIAL_CONTACT),
        "left_toe_off": lambda: p.mark(Foot.LEFT, EventType.TOE_OFF),
        "right_toe_off": lambda: p.mark(Foot.RIGHT, EventType.TOE_OFF),
        "delete": p.delete_at_current,
        "nudge_back": lambda: p.nudge_at_current(-1),
        "nudge_forward": lambda: p.nudge_at_current(1),
        # Review: the video seeks to the event and selects it; A / R act on it.
        "accept": p.accept_selected,
        "reject": p.reject_selected,
        "next_mark": lambda: p._seek(p.session.next_mark(p.current, 1)),
        "previous_mark": lambda: p._seek(p.session.next_mark(p.current, -1)),
        "next_proposal": lambda: p._seek(p.session.next_proposal(p.current)),
        "previous_proposal": lambda: p._seek(p.session.next_proposal(p.current, -1)),
        "next_low_confidence": lambda: p._seek(p.session.next_low_confidence(p.current)),
        "zoom_in": lambda: p.timeline.zoom_by(1.5),
        "zoom_out": lambda: p.timeline.zoom_by(1 / 1.5),
    }
