"""Database errors in the window: a plain message, and the program keeps running.

A locked, read-only or full database raises :class:`app.db.database.DatabaseUnavailable`
(whose ``message`` says what to do) from any unit of work. Forms show it next to their buttons
and stay open with what was typed (``ui.dialogs``); other actions use
:func:`show_database_error`; and :func:`install_excepthook` catches whatever a slot did not, so
no database error ever ends in a traceback and an empty panel.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType

from PySide6.QtWidgets import QMessageBox, QWidget

from app.db import errors
from app.db.database import DatabaseError

log = logging.getLogger(__name__)


def database_message(exc: BaseException) -> str | None:
    """The clinician's text for a database error, None when ``exc`` is not one."""
    if isinstance(exc, DatabaseError):
        return exc.message
    kind = errors.kind_of(exc)
    if kind is not None and errors.is_database_error(exc):
        return errors.plain_message(kind)
    return None


def show_database_error(
    parent: QWidget | None, exc: BaseException, title: str = "The database could not be used"
) -> None:
    """Tell the clinician why a read or save failed (no traceback; the program goes on)."""
    message = database_message(exc) or f"The clinic database reported a problem ({exc})."
    log.warning(
        "database error shown to the clinician: %s", getattr(exc, "kind", type(exc).__name__)
    )
    QMessageBox.warning(parent, title, message)


@contextmanager
def database_errors_shown(
    parent: QWidget | None, title: str = "The database could not be used"
) -> Iterator[None]:
    """``with database_errors_shown(self): ...``: a database error becomes a message box."""
    try:
        yield
    except Exception as exc:
        if database_message(exc) is None:
            raise
        show_database_error(parent, exc, title)


def install_excepthook() -> Callable[..., None]:
    """Show a database error that escaped a slot as a message instead of only a traceback."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if database_message(exc) is not None:
            try:
                show_database_error(None, exc)
                return
            except Exception:  # no QApplication (any more): fall back to the old hook
                pass
        previous(kind, exc, tb)

    sys.excepthook = hook
    return hook
