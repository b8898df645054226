"""The change broadcast: a view reloads at once when on screen, else once when next shown."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel, QTabWidget

from app.changes import MARKS, PRESCRIPTION, SELECTION, Changes
from ui.changes import ChangeHub, RefreshWhenShown, any_of


def test_changes_know_their_kinds_and_patient() -> None:
    c = Changes(patient=3, visit=7, kinds=frozenset({MARKS}))
    assert c.touches(MARKS, PRESCRIPTION) and not c.touches(SELECTION)
    assert c.concerns(3) and not c.concerns(4) and Changes().concerns(4)
    with pytest.raises(ValueError):
        Changes(kinds=frozenset({"typo"}))


def test_hidden_view_reloads_once_when_shown(qtbot) -> None:  # type: ignore[no-untyped-def]
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    first, second = QLabel("a"), QLabel("b")
    tabs.addTab(first, "a")
    tabs.addTab(second, "b")
    tabs.show()
    hub = ChangeHub()
    loads: list[int] = []
    refresher = RefreshWhenShown(
        hub, second, lambda: loads.append(1), any_of(MARKS), needed=False,
        on_screen=lambda: tabs.currentWidget() is second,
    )  # fmt: skip
    hub.announce(PRESCRIPTION, patient=1)  # not wanted
    hub.announce(MARKS, patient=1)
    hub.announce(MARKS, patient=1)
    assert loads == [] and refresher.needed  # hidden: nothing drawn for nothing
    tabs.setCurrentWidget(second)
    qtbot.waitUntil(lambda: loads == [1], timeout=2000)
    hub.announce(MARKS)  # on screen: at once
    assert loads == [1, 1] and not refresher.needed
