"""Errors that escape a slot or a thread: logged, shown plainly, and the program keeps running.

PySide6 hands an exception raised in a slot to :data:`sys.excepthook` and goes on with the
event loop; a Python thread hands it to :data:`threading.excepthook`. Both are installed here
(by :func:`ui.application.run_gui`):

- a database error (locked, read-only, full disk) gets its plain message (``ui.db_errors``);
- one of the program's own errors (:class:`app.errors.ClinicError`) gets its ``message``;
- anything else is a programming error: its traceback goes to the log file and the clinician
  sees "Something went wrong; your saved work is safe" with the log's path and a copyable
  detail. Saved work *is* safe: every save is its own committed transaction.

The detail (log and dialog) names the exception type and the code path, not the exception's
text: that text may quote a patient's name or a note, and the log file holds ids only.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app import APP_NAME
from app.errors import ClinicError
from app.logs import current_log_path

log = logging.getLogger(__name__)

TITLE = "Something went wrong"
HEADLINE = "Something went wrong; your saved work is safe."


def describe(kind: type[BaseException], tb: TracebackType | None) -> str:
    """Type and code path of an error, without its text (which may hold patient data)."""
    frames = "".join(traceback.format_tb(tb)) if tb is not None else "  (no traceback)\n"
    return f"{kind.__module__}.{kind.__qualname__} (text withheld)\nTraceback:\n{frames}"


def show_crash_dialog(parent: QWidget | None, detail: str, log_file: Path | None) -> None:
    """The plain dialog for an unexpected error; the detail can be selected and copied."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(f"{APP_NAME}: {TITLE.lower()}")
    box.setText(HEADLINE)
    where = (
        f"The details were written to the log file:\n{log_file}"
        if log_file is not None
        else "The details are shown below."
    )
    box.setInformativeText(
        "What you were doing may not have finished; you can carry on working. "
        f"{where}\nIf it happens again, send that file to support."
    )
    box.setDetailedText(detail)
    copy = box.addButton("Copy details", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Ok)
    copy.clicked.connect(lambda: QApplication.clipboard().setText(detail))
    box.exec()


class _Relay(QObject):
    """Moves an error raised on another thread to the GUI thread (queued signal)."""

    raised = Signal(object, object, object)


class ErrorHook:
    """The installed hooks; :meth:`handle` is what :data:`sys.excepthook` calls."""

    def __init__(self) -> None:
        self._showing = False
        self._relay = _Relay()
        self._relay.raised.connect(self.handle)
        self.previous_sys = sys.excepthook
        self.previous_thread = threading.excepthook

    def handle(
        self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        """Log and show one error (GUI thread). Never raises: a hook that fails loses the error."""
        try:
            self._handle(kind, exc, tb)
        except Exception:  # no QApplication any more, or the dialog itself failed
            log.exception("the error dialog could not be shown")
            self.previous_sys(kind, exc, tb)

    def _handle(
        self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self.previous_sys(kind, exc, tb)
            return
        from ui.db_errors import database_message, show_database_error

        if database_message(exc) is not None:
            show_database_error(None, exc)
            return
        if isinstance(exc, ClinicError):
            log.warning("%s reached the window: %s", type(exc).__name__, exc.detail or "-")
            QMessageBox.warning(None, APP_NAME, exc.message)
            return
        detail = describe(kind, tb)
        log.error("unexpected error: %s", detail)
        if self._showing:  # an error while the dialog is open (e.g. in a paint): log only
            return
        self._showing = True
        try:
            show_crash_dialog(QApplication.activeWindow(), detail, current_log_path())
        finally:
            self._showing = False

    def handle_thread(self, args: threading.ExceptHookArgs) -> None:
        """:data:`threading.excepthook`: hand the error to the GUI thread."""
        if args.exc_type is SystemExit:
            return
        if args.exc_value is None:
            return
        self._relay.raised.emit(args.exc_type, args.exc_value, args.exc_traceback)


def install_excepthook() -> ErrorHook:
    """Install the hooks for :data:`sys.excepthook` and :data:`threading.excepthook`.

    Call on the GUI thread after the QApplication exists.
    """
    hook = ErrorHook()
    sys.excepthook = hook.handle
    threading.excepthook = hook.handle_thread
    return hook


__all__: list[str] = ["ErrorHook", "describe", "install_excepthook", "show_crash_dialog"]
