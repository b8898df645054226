"""The test set-up never hangs on a modal dialog that nobody answers (it hung CI for 90 min)."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QMessageBox

from tests.qt_fixtures import ModalWatchdog


def test_an_unanswered_message_box_is_closed_and_reported(qtbot, _modal_watchdog: ModalWatchdog) -> None:  # type: ignore[no-untyped-def]
    before = _modal_watchdog.patience_s
    _modal_watchdog.patience_s = 0.6
    try:
        started = time.monotonic()
        answer = QMessageBox.question(None, "Delete?", "Delete the recording for good?")
        waited = time.monotonic() - started
    finally:
        _modal_watchdog.patience_s = before
    assert answer != QMessageBox.StandardButton.Yes
    assert 0.5 <= waited < 5.0
    assert _modal_watchdog.unanswered == ["QMessageBox 'Delete?': 'Delete the recording for good?'"]
    _modal_watchdog.unanswered.clear()  # reported as expected: this test must not fail for it


def test_a_quick_answer_is_not_reported(qtbot, _modal_watchdog: ModalWatchdog) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    box = QMessageBox(QMessageBox.Icon.Question, "Keep?", "Keep it?")
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    QTimer.singleShot(200, lambda: QApplication.activeModalWidget().done(QMessageBox.StandardButton.Yes))
    assert box.exec() == QMessageBox.StandardButton.Yes
    assert _modal_watchdog.unanswered == []
