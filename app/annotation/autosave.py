"""Saving marking edits off the GUI thread, journalled first and retried until they are saved.

:class:`AutoSaver` is the one way marking edits reach the database. ``submit`` (GUI thread)
writes the edit to the recording's :class:`~app.annotation.journal.Journal` (a few ms, fsync'd)
and returns; a worker thread saves the newest state of every changed part in one transaction,
retries with back-off while the database is locked, busy or full, and removes the journal only
after the commit. So a locked database never freezes the window (SQLite's 5 s busy timeout is
spent on the worker) and never loses an edit. Another workstation's save (an
:class:`~app.safety.conflicts.EditConflict`) stops the retries until the clinician decides
(:meth:`AutoSaver.overwrite` or :meth:`AutoSaver.discard`).

The GUI learns what happened by polling :meth:`AutoSaver.take_notices` (no Qt here).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.annotation.journal import Journal, JournalEntry, save_parts

if TYPE_CHECKING:
    from app.db.database import Database

log = logging.getLogger(__name__)

RETRY_DELAYS_S: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 3.0)


@dataclass(frozen=True)
class SaveNotice:
    """One thing the saver reports to the GUI: ``kind`` is "saved", "retrying", "conflict",
    "failed" (will not retry: the recording is gone) or "journal" (the journal file could not be
    written: the edit is only in memory and in the pending database save)."""

    kind: str
    pending_edits: int
    revision: int | None = None
    message: str = ""


class AutoSaver:
    """Background, journalled, retried saving of one recording's marking edits."""

    def __init__(
        self,
        db: Database,
        journal: Journal,
        recording_uid: str,
        recording_id: int,
        revision: int | None,
        *,
        retry_delays: Sequence[float] = RETRY_DELAYS_S,
    ) -> None:
        self.db = db
        self.journal = journal
        self.recording_uid = recording_uid
        self.recording_id = recording_id
        self._revision = revision
        self._delays = tuple(retry_delays) or (1.0,)
        self._lock = threading.Condition()
        self._pending: dict[str, tuple[int, Any]] = {}  # part -> (edit seq, newest value)
        self._seq = 0  # edits submitted
        self._saved_seq = 0  # every edit up to this one is in the database
        self._in_flight = False
        self._conflict = False
        self._failed = False
        self._force = False  # overwrite the other workstation's save on the next attempt
        self._attempt = 0
        self._next_try = 0.0
        self._stopped = False
        self._notices: list[SaveNotice] = []
        self.last_error: str | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"autosave-{recording_id}", daemon=True
        )
        self._thread.start()

    # ------------------------------------------------------------------ GUI side
    @property
    def revision(self) -> int | None:
        """The events revision of the last save (or of the load): the expected revision."""
        with self._lock:
            return self._revision

    @property
    def pending_edits(self) -> int:
        """Edits made but not yet committed to the database (they are in the journal)."""
        with self._lock:
            return self._seq - self._saved_seq

    @property
    def in_conflict(self) -> bool:
        with self._lock:
            return self._conflict

    def submit(self, parts: dict[str, Any], *, edits: int = 1) -> None:
        """Record an edit: the newest value of each changed part (JSON values).

        The journal is written before this returns; the database save follows in the worker.
        """
        with self._lock:
            self._seq += edits
            for part, value in parts.items():
                self._pending[part] = (self._seq, value)
            self._failed = False
            self._write_journal_locked()
            self._attempt = 0
            self._next_try = 0.0
            self._lock.notify_all()

    def adopt(self, entry: JournalEntry) -> None:
        """Take over a journal found when the recording was opened (its edits are saved next)."""
        self.submit(dict(entry.parts), edits=max(1, entry.edits))

    def overwrite(self) -> None:
        """After a conflict: save ours over the other workstation's marks."""
        with self._lock:
            self._conflict = False
            self._force = True
            self._next_try = 0.0
            self._lock.notify_all()

    def discard(self) -> None:
        """After a conflict: drop our unsaved edits (the other workstation's marks are kept)."""
        with self._lock:
            self._pending.clear()
            self._saved_seq = self._seq
            self._conflict = False
            self.journal.remove(self.recording_uid)
            self._lock.notify_all()

    def take_notices(self) -> list[SaveNotice]:
        with self._lock:
            out, self._notices = self._notices, []
            return out

    def wait_saved(self, timeout_s: float) -> bool:
        """Block until every edit is committed (for scripts and tests, not the GUI thread)."""
        end = time.monotonic() + timeout_s
        with self._lock:
            while self._seq != self._saved_seq:
                left = end - time.monotonic()
                if left <= 0 or self._conflict or self._failed:
                    return False
                self._lock.wait(min(left, 0.1))
            return True

    def stop(self, timeout_s: float = 1.0) -> None:
        """Stop retrying. Unsaved edits stay in the journal, replayed at the next start."""
        with self._lock:
            self._stopped = True
            self._lock.notify_all()
        self._thread.join(timeout_s)

    # ------------------------------------------------------------------ worker
    def _write_journal_locked(self) -> None:
        entry = JournalEntry(
            recording_uid=self.recording_uid,
            recording_id=self.recording_id,
            base_revision=self._revision,
            parts={part: value for part, (_seq, value) in self._pending.items()},
            edits=self._seq - self._saved_seq,
            in_flight=self._in_flight,
        )
        try:
            self.journal.write(entry)
        except OSError as exc:  # the database save still runs; the clinician is told
            log.error("writing the edit journal failed: %s", exc.strerror or type(exc).__name__)
            self._notices.append(
                SaveNotice(
                    "journal",
                    self._seq - self._saved_seq,
                    self._revision,
                    f"the safety copy of your edits could not be written ({exc.strerror or exc})",
                )
            )

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._stopped and (
                    not self._pending
                    or self._conflict
                    or self._failed
                    or time.monotonic() < self._next_try
                ):
                    wait = None
                    if self._pending and not (self._conflict or self._failed):
                        wait = max(0.01, self._next_try - time.monotonic())
                    self._lock.wait(wait)
                if self._stopped:
                    return
                snapshot = dict(self._pending)
                upto = self._seq
                expected = self._revision
                force, self._force = self._force, False
                self._in_flight = True
            self._save(snapshot, upto, expected, force)

    def _save(
        self, snapshot: dict[str, tuple[int, Any]], upto: int, expected: int | None, force: bool
    ) -> None:
        from app.records.validation import ValidationError
        from app.safety.conflicts import EditConflict

        parts = {part: value for part, (_seq, value) in snapshot.items()}
        try:
            if force:
                expected = self._current_revision()
            revision = save_parts(self.db, self.recording_id, parts, expected)
        except EditConflict as exc:
            with self._lock:
                self._in_flight = False
                self._conflict = True
                self._notices.append(
                    SaveNotice("conflict", self._seq - self._saved_seq, self._revision, exc.message)
                )
                self._lock.notify_all()
            return
        except ValidationError as exc:  # the recording is gone: retrying cannot help
            with self._lock:
                self._in_flight = False
                self._failed = True
                self.last_error = exc.message
                self._notices.append(
                    SaveNotice("failed", self._seq - self._saved_seq, self._revision, exc.message)
                )
                self._lock.notify_all()
            return
        except Exception as exc:  # locked, busy, disk full, server gone: try again later
            with self._lock:
                self._in_flight = False
                delay = self._delays[min(self._attempt, len(self._delays) - 1)]
                self._attempt += 1
                self._next_try = time.monotonic() + delay
                self.last_error = _describe(exc)
                self._notices.append(
                    SaveNotice(
                        "retrying", self._seq - self._saved_seq, self._revision, self.last_error
                    )
                )
                self._lock.notify_all()
            log.warning("autosave failed (%s); retrying in %.1f s", type(exc).__name__, delay)
            return
        with self._lock:
            self._in_flight = False
            self._revision = revision
            self._saved_seq = max(self._saved_seq, upto)
            for part, (seq, _value) in snapshot.items():
                if self._pending.get(part, (None,))[0] == seq:
                    del self._pending[part]
            self._attempt = 0
            self.last_error = None
            if self._pending:
                self._write_journal_locked()  # newer edits, now based on the new revision
            else:
                self.journal.remove(self.recording_uid)
            self._notices.append(SaveNotice("saved", self._seq - self._saved_seq, revision))
            self._lock.notify_all()

    def _current_revision(self) -> int:
        from app.records.recordings import events_revision

        with self.db.session() as s:
            return events_revision(s, self.recording_id)


def _describe(exc: BaseException) -> str:
    """A clinician's words for why a save did not go through (it will be retried)."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    if "locked" in text or "busy" in text:
        return "the database is in use by another program or a second copy of Stride Clinic"
    if "disk" in text and ("full" in text or "space" in text):
        return "the disk is full"
    if "readonly" in text or "read-only" in text:
        return "the database cannot be written (read-only)"
    return f"the database did not accept the save ({type(exc).__name__})"
