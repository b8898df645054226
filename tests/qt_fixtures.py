"""Qt fixtures shared by tests/ui and tests/e2e: isolated settings, clinics, a main window."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QSettings, QTimer


@pytest.fixture(autouse=True)
def _isolated_qsettings(tmp_path: Path, qapp) -> None:  # type: ignore[no-untyped-def]
    from ui.application import make_application

    make_application()
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings")
    )
    QSettings().clear()


def _answer_discard(_parent, what: str, _can_stay: bool):  # type: ignore[no-untyped-def]
    from ui import unsaved

    return unsaved.Leave.DISCARD


@pytest.fixture(autouse=True, scope="session")
def _unsaved_question_answers_discard():  # type: ignore[no-untyped-def]
    """A form left with changes must not open a modal box that nobody answers: pytest-qt closes
    leftover widgets after the test's own fixtures are undone, and the question hung the suite.
    For the whole session the "unsaved changes" question answers Discard; a test that checks
    the question sets its own asker with monkeypatch (tests/e2e/test_nothing_typed_is_lost.py)."""
    from ui import unsaved

    unsaved.asker = _answer_discard
    yield


class ModalWatchdog(QObject):
    """Closes a modal dialog that nobody answers and records it, so the test fails, not hangs.

    A modal ``exec()`` (our own boxes, ``QMessageBox.warning``, a print dialog) that a test
    neither expects nor patches runs a nested event loop that nothing ends: pytest-timeout's
    signal cannot interrupt it, and the suite hangs until CI gives up. Every half second this
    looks at the active modal widget; one that stays open for ``patience_s`` is closed (done(0),
    the "cancel" answer) and its title and text are recorded; ``_no_unanswered_modal`` fails the
    test that left it. Progress dialogs are modal but never block, so they are left alone.
    """

    def __init__(self, patience_s: float = 15.0) -> None:
        super().__init__()
        self.patience_s = patience_s
        self.unanswered: list[str] = []
        self._seen: object = None
        self._since = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> None:
        from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QProgressDialog

        widget = QApplication.activeModalWidget()
        if widget is None or isinstance(widget, QProgressDialog):
            self._seen = None
            return
        if widget is not self._seen:
            self._seen, self._since = widget, time.monotonic()
            return
        if time.monotonic() - self._since < self.patience_s:
            return
        text = widget.text() if isinstance(widget, QMessageBox) else ""
        self.unanswered.append(f"{type(widget).__name__} {widget.windowTitle()!r}: {text!r}")
        self._seen = None
        if isinstance(widget, QDialog):
            widget.done(0)
        else:
            widget.close()


_WATCHDOG: list[ModalWatchdog] = []


@pytest.fixture(autouse=True, scope="session")
def _modal_watchdog(qapp) -> ModalWatchdog:  # type: ignore[no-untyped-def]
    if not _WATCHDOG:
        _WATCHDOG.append(ModalWatchdog())
    return _WATCHDOG[0]


@pytest.fixture(autouse=True)
def _no_unanswered_modal(_modal_watchdog: ModalWatchdog):  # type: ignore[no-untyped-def]
    yield
    left, _modal_watchdog.unanswered[:] = list(_modal_watchdog.unanswered), []
    if left:
        pytest.fail("a modal dialog waited for an answer nobody gave: " + "; ".join(left))


@pytest.fixture
def clinic():  # type: ignore[no-untyped-def]
    from app.clinic import open_clinic

    c = open_clinic()
    yield c
    c.close()


@pytest.fixture
def demo_clinic():  # type: ignore[no-untyped-def]
    from app.clinic import open_clinic
    from app.demo import ensure_demo_data

    c = open_clinic(demo=True)
    ensure_demo_data(c)
    yield c
    c.close()


@pytest.fixture
def main_window(qtbot, clinic):  # type: ignore[no-untyped-def]
    from ui.main_window import MainWindow

    w = MainWindow(clinic)
    qtbot.addWidget(w)
    w.show()
    return w
