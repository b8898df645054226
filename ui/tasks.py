"""Running long work off the GUI thread with a progress bar and a cancel button.

``app`` code stays plain: a long job is a function ``fn(progress, cancelled)`` where
``progress(fraction)`` may be called from any thread and ``cancelled()`` is polled to stop early
(the Orange/Anki pattern). This module runs it on a QThread, forwards progress to the GUI at a
bounded rate, and delivers the result or the error on the GUI thread.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from app.errors import message_of

log = logging.getLogger(__name__)

Job = Callable[[Callable[[float], None], Callable[[], bool]], Any]


class _Worker(QThread):
    succeeded = Signal(object)
    failed = Signal(object, str)  # exception, formatted traceback

    def __init__(self, job: Job, cancel: threading.Event) -> None:
        super().__init__()
        self._job = job
        self._cancel = cancel
        self.fraction = 0.0

    def _progress(self, fraction: float) -> None:
        self.fraction = max(0.0, min(1.0, float(fraction)))

    def run(self) -> None:
        try:
            result = self._job(self._progress, self._cancel.is_set)
        except BaseException as exc:  # delivered to the GUI, never lost in a thread
            self.failed.emit(exc, traceback.format_exc())
        else:
            self.succeeded.emit(result)


class BackgroundTask(QObject):
    """One background job with an optional progress dialog; keep a reference while it runs."""

    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    progress = Signal(float)  # 0..1, at most 20 times a second and only when it moved

    def __init__(
        self,
        job: Job,
        *,
        parent: QWidget | None = None,
        title: str = "Working…",
        label: str = "",
        show_dialog: bool = True,
    ) -> None:
        super().__init__(parent)
        self._cancel = threading.Event()
        self._worker = _Worker(job, self._cancel)
        self._worker.succeeded.connect(self._on_success, Qt.ConnectionType.QueuedConnection)
        self._worker.failed.connect(self._on_failure, Qt.ConnectionType.QueuedConnection)
        self._dialog: QProgressDialog | None = None
        self.started_at = 0.0
        if show_dialog:
            d = QProgressDialog(label or title, "Cancel", 0, 1000, parent)
            d.setWindowTitle(title)
            d.setWindowModality(Qt.WindowModality.WindowModal)
            d.setMinimumDuration(300)
            d.setAutoClose(False)
            d.setAutoReset(False)
            d.canceled.connect(self.cancel)
            self._dialog = d
        self._last_fraction = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(50)  # progress reaches the GUI at 20 Hz, never per item
        self._timer.timeout.connect(self._poll)

    def start(self) -> BackgroundTask:
        self.started_at = time.monotonic()
        self._worker.start()
        self._timer.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()
        if self._dialog is not None:
            self._dialog.setLabelText("Cancelling…")

    def is_running(self) -> bool:
        return self._worker.isRunning()

    def wait(self, ms: int = 30000) -> bool:
        return self._worker.wait(ms)

    def _poll(self) -> None:
        fraction = self._worker.fraction
        if self._dialog is not None:
            self._dialog.setValue(int(fraction * 1000))
        if fraction != self._last_fraction:
            self._last_fraction = fraction
            self.progress.emit(fraction)

    def _close(self) -> None:
        self._timer.stop()
        self._worker.wait()
        if self._dialog is not None:
            # QProgressDialog emits canceled() when closed: disconnect first, or every
            # finished job would look cancelled.
            self._dialog.canceled.disconnect(self.cancel)
            self._dialog.close()
            self._dialog.deleteLater()
            self._dialog = None

    def _on_success(self, result: object) -> None:
        was_cancelled = self._cancel.is_set()
        if not was_cancelled:
            self._poll()  # the last progress (1.0) arrives before the result
        self._close()
        if was_cancelled:
            self.cancelled.emit()
        else:
            self.finished.emit(result)

    def _on_failure(self, exc: BaseException, tb: str) -> None:
        was_cancelled = self._cancel.is_set()
        self._close()
        if was_cancelled:
            self.cancelled.emit()
            return
        exc.__traceback_text__ = tb  # type: ignore[attr-defined]
        self.failed.emit(exc)


def user_message(exc: BaseException) -> str:
    """The clinician-facing text of ``exc``: a :class:`~app.errors.ClinicError`'s ``message``.

    Anything else is a programming error: it is written to the log (with the traceback the
    worker kept) and the clinician gets a plain sentence, not the exception's text.
    """
    text = message_of(exc)
    if text is not None:
        return text
    log.error(
        "unexpected error in a background task: %s\n%s",
        type(exc).__name__,
        getattr(exc, "__traceback_text__", ""),
    )
    return (
        f"Something went wrong ({type(exc).__name__}); your saved work is safe. "
        "The details are in the log file."
    )
