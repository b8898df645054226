"""No key is bound twice in the main window (Qt then fires neither: Redo on X11 died that way)."""

from __future__ import annotations

from collections import Counter

from PySide6.QtGui import QAction, QKeySequence, QShortcut

from ui.annotation_keys import KEYMAP


def _keys_in(window) -> Counter:  # type: ignore[no-untyped-def]
    found: Counter = Counter()
    for s in window.findChildren(QShortcut):
        found[s.key().toString(QKeySequence.SequenceFormat.PortableText)] += 1
    seen: set[int] = set()
    for a in window.findChildren(QAction):
        if id(a) in seen:
            continue
        seen.add(id(a))
        for k in a.shortcuts():
            found[k.toString(QKeySequence.SequenceFormat.PortableText)] += 1
    return found


def test_every_key_of_the_main_window_is_bound_once(qtbot, main_window) -> None:
    main_window.tabs.setCurrentWidget(main_window._annotation_tab)
    main_window.tabs.setCurrentWidget(main_window._prescription_tab)
    main_window.tabs.setCurrentWidget(main_window._history_tab)
    keys = _keys_in(main_window)
    twice = {k: n for k, n in keys.items() if n > 1 and k}
    assert not twice, f"bound more than once: {twice}"
    assert len(KEYMAP) >= 25 and keys["Ctrl+Z"] == 1


def test_redo_answers_ctrl_y_and_ctrl_shift_z_on_every_platform(qtbot, clinic) -> None:
    from ui.annotation_panel import AnnotationPanel

    panel = AnnotationPanel(clinic)
    qtbot.addWidget(panel)
    redo = {k.toString() for k in panel.redo_action.shortcuts()}
    assert {"Ctrl+Y", "Ctrl+Shift+Z"} <= redo
    assert "Ctrl+Z" in {k.toString() for k in panel.undo_action.shortcuts()}
