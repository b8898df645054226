"""One root for every error the program raises on purpose.

Every domain error in ``app/`` derives from :class:`ClinicError`, so the window and the command
line catch them *by type* (never by guessing from attribute or module names):

- ``message`` is a plain sentence for the clinician (what happened, what to do);
- ``detail`` is for the log file: ids, error codes, file names chosen by the program. It never
  holds patient names or health data (the log is sent to support).

Anything that is *not* a :class:`ClinicError` reaching the top is a programming error: the GUI's
exception hook logs it and shows "Something went wrong; your saved work is safe", the CLI
prints one line and exits non-zero.
"""

from __future__ import annotations


class ClinicError(Exception):
    """Base of every error ``app/`` raises on purpose: ``message`` for the clinician, ``detail`` for the log."""

    def __init__(self, message: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.message: str = message
        self.detail: str = detail


class ValidationError(ClinicError, ValueError):
    """Input that cannot be saved. ``field`` names the form field, ``message`` says why.

    Re-exported by :mod:`app.records.validation`, where the checks live.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def message_of(exc: BaseException) -> str | None:
    """The clinician's text of ``exc`` when it is one of ours, else None (an unexpected error)."""
    if isinstance(exc, ClinicError):
        return exc.message or str(exc) or "This could not be done."
    return None
