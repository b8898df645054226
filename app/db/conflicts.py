"""Edit conflicts between workstations, raised by storage instead of overwriting.

Two mechanisms detect that someone else saved first:

* Patients and visits carry a ``version`` column (SQLAlchemy ``version_id_col``): a stale save
  raises :class:`sqlalchemy.orm.exc.StaleDataError`, which :meth:`app.db.database.Database.session`
  turns into :class:`EditConflict`; ``expected_version`` in the records layer catches the case
  where the form was opened in an earlier transaction.
* Foot events of a recording are replaced wholesale by the annotation autosave, so the
  recording carries an ``events_revision`` counter compared-and-bumped atomically by
  :func:`app.records.recordings.replace_events`.

This module belongs to storage (``app.db``) because storage raises the error; it depends on
nothing above it. :mod:`app.safety.conflicts` re-exports it for the older import path.
"""

from __future__ import annotations

from app.errors import ValidationError

_GENERIC = (
    "Someone else saved a change to this record on another workstation while you were "
    "editing it. Your change was not saved, so nothing was overwritten. Reopen the record to see "
    "the newest version and make your change again."
)

ANNOTATION_CONFLICT = (
    "The marks on this video were changed on another workstation since you opened it. Your "
    "last mark was not saved, so nothing was overwritten. Reload the video to see the other "
    "changes, then mark again."
)


class EditConflict(ValidationError):
    """Another workstation saved the same record first. ``message`` is for the clinician.

    A :class:`~app.errors.ValidationError` with ``field == "version"``, so forms that already
    show validation errors show this one too.
    """

    def __init__(self, message: str = _GENERIC) -> None:
        super().__init__("version", message)


def is_conflict(exc: BaseException) -> bool:
    """True for any error meaning "someone else saved first" (ours or the records layer's)."""
    return isinstance(exc, EditConflict) or (
        isinstance(exc, ValidationError) and exc.field == "version"
    )
