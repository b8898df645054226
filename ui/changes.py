"""The window's one change broadcast: operations emit :class:`app.changes.Changes`, views listen.

``ChangeHub.changed`` is emitted once per operation. A view that is costly to redraw uses
:class:`RefreshWhenShown`: it reloads at once when it is on screen, otherwise the next time it
is shown, so hidden tabs never redraw for nothing and never show old figures.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from app.changes import Changes


class ChangeHub(QObject):
    """One per window: ``changed(Changes)`` after every operation."""

    changed = Signal(object)  # app.changes.Changes

    def announce(
        self, *kinds: str, patient: int | None = None, visit: int | None = None
    ) -> Changes:
        """Emit (and return) one :class:`Changes`."""
        changes = Changes(patient=patient, visit=visit, kinds=frozenset(kinds))
        self.changed.emit(changes)
        return changes


class RefreshWhenShown(QObject):
    """Reload ``refresh`` for the changes ``wants`` accepts: now if ``watched`` is visible, else
    when it is next shown. ``needed``: whether the first show must load (nothing drawn yet)."""

    def __init__(
        self,
        hub: ChangeHub,
        watched: QWidget,
        refresh: Callable[[], None],
        wants: Callable[[Changes], bool],
        *,
        deferred: bool = False,
        needed: bool = True,
        on_screen: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__(watched)
        self._watched, self._refresh, self._wants = watched, refresh, wants
        self._deferred = deferred  # refresh on the next event-loop turn (after the tab is built)
        self.needed = needed
        # "On screen" may be a tab being current (a hidden test window still switches tabs).
        self._on_screen = on_screen or watched.isVisible
        watched.installEventFilter(self)
        hub.changed.connect(self._on_changed)

    def _on_changed(self, changes: Changes) -> None:
        if not self._wants(changes):
            return
        self.needed = True
        if self._on_screen():
            self._run()

    def check(self) -> None:
        """Reload now if a change is waiting and the view is on screen (e.g. its tab was chosen)."""
        if self.needed and self._on_screen():
            self._run()

    def _run(self) -> None:
        if self._deferred:
            QTimer.singleShot(0, self._refresh_now)
        else:
            self._refresh_now()

    def _refresh_now(self) -> None:
        if not self.needed:
            return
        self.needed = False
        self._refresh()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if obj is self._watched and event.type() == QEvent.Type.Show and self.needed:
            self._run()
        return False


def any_of(*kinds: str) -> Callable[[Changes], bool]:
    """A ``wants`` predicate: the change touched one of ``kinds``."""
    return lambda changes: changes.touches(*kinds)


