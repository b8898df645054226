"""A small crash-safe journal of marking edits that are not yet in the database.

Every edit of a recording's marks, drawings, capture rate or calibration is written here *before*
the database save is attempted, and removed only after the database commit. So an edit survives
a locked or full database, a crash and a "close anyway": it is replayed by :func:`replay_pending`
at the next start, or when the recording is opened again.

One file per recording, named by the recording's ``uid`` (never reused, unlike its ``id``: a
journal can never be replayed onto another recording after a restore). The files live in the
data folder (``<data folder>/unsaved_edits``, owner-only, 0600), are written to a temporary file,
fsync'd and atomically renamed over the previous version, so a crash mid-write leaves the older
complete journal, never a torn one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.paths import fsync_dir

if TYPE_CHECKING:
    from app.db.database import Database

log = logging.getLogger(__name__)

FOLDER_NAME = "unsaved_edits"
FORMAT = 1
_UID_RE = re.compile(r"^[0-9a-f]{32}$")

# The parts of a recording an edit can change; each is saved wholesale (small lists).
PARTS = ("events", "overlays", "capture_fps", "calibration")


def journal_folder(data_root: Path) -> Path:
    """The journal folder of a data folder (created owner-only on first write)."""
    return Path(data_root) / FOLDER_NAME


def events_to_json(events: Iterable[FootEvent]) -> list[dict[str, Any]]:
    """Foot events as plain JSON values (with their source, unlike ``FootEvent.to_json``)."""
    return [
        {
            "foot": e.foot.value,
            "type": e.type.value,
            "frame": int(e.frame),
            "time_s": float(e.time_s),
            "source": e.source.value,
            "confidence": float(e.confidence),
        }
        for e in events
    ]


def events_from_json(rows: Iterable[dict[str, Any]]) -> list[FootEvent]:
    return [
        FootEvent(
            Foot(r["foot"]),
            EventType(r["type"]),
            int(r["frame"]),
            float(r.get("time_s", 0.0)),
            EventSource(r.get("source", "manual")),
            float(r.get("confidence", 1.0)),
        )
        for r in rows
    ]


@dataclass
class JournalEntry:
    """What a journal file holds: the unsaved parts of one recording.

    ``base_revision`` is the recording's ``events_revision`` the unsaved events were made on;
    ``in_flight`` says a save from that revision may have committed just before a crash (so the
    database one revision higher may be our own save, not another workstation's).
    """

    recording_uid: str
    recording_id: int
    base_revision: int | None
    parts: dict[str, Any] = field(default_factory=dict)
    edits: int = 0  # how many edits are not yet saved (for "N marks not yet saved")
    in_flight: bool = False
    written_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "recording_uid": self.recording_uid,
            "recording_id": self.recording_id,
            "base_revision": self.base_revision,
            "parts": self.parts,
            "edits": self.edits,
            "in_flight": self.in_flight,
            "written_at": self.written_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JournalEntry:
        if data.get("format") != FORMAT or not _UID_RE.match(str(data.get("recording_uid"))):
            raise ValueError("not a Stride Clinic edit journal")
        parts = {k: v for k, v in dict(data.get("parts") or {}).items() if k in PARTS}
        base = data.get("base_revision")
        return cls(
            recording_uid=str(data["recording_uid"]),
            recording_id=int(data["recording_id"]),
            base_revision=None if base is None else int(base),
            parts=parts,
            edits=int(data.get("edits", 0)),
            in_flight=bool(data.get("in_flight", False)),
            written_at=str(data.get("written_at", "")),
        )

    @property
    def events(self) -> list[FootEvent] | None:
        rows = self.parts.get("events")
        return None if rows is None else events_from_json(rows)


class Journal:
    """The journal files of one data folder. Not thread-safe on its own: callers serialise."""

    def __init__(self, data_root: Path) -> None:
        self.folder = journal_folder(data_root)

    def path(self, recording_uid: str) -> Path:
        if not _UID_RE.match(recording_uid):
            raise ValueError(f"bad recording uid {recording_uid!r}")
        return self.folder / f"recording_{recording_uid}.json"

    def _ensure_folder(self) -> None:
        self.folder.mkdir(mode=stat.S_IRWXU, parents=True, exist_ok=True)
        os.chmod(self.folder, stat.S_IRWXU)

    def write(self, entry: JournalEntry) -> None:
        """Durably replace the journal of ``entry``'s recording (temp file, fsync, rename).

        Raises ``OSError`` when the disk refuses (the caller tells the clinician).
        """
        self._ensure_folder()
        entry.written_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        target = self.path(entry.recording_uid)
        tmp = target.with_name(target.name + ".tmp")
        data = json.dumps(entry.to_json(), separators=(",", ":")).encode("utf-8")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        fsync_dir(self.folder, strict=True)

    def read(self, recording_uid: str) -> JournalEntry | None:
        """The journal of a recording, or None. A damaged file is set aside, never deleted."""
        path = self.path(recording_uid)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return JournalEntry.from_json(data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("unreadable edit journal %s: %s", path.name, type(exc).__name__)
            with contextlib.suppress(OSError):
                path.rename(path.with_suffix(".damaged"))
            return None

    def remove(self, recording_uid: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(recording_uid).unlink()
            fsync_dir(self.folder, strict=True)

    def pending(self) -> list[str]:
        """The recording uids that have a journal."""
        if not self.folder.is_dir():
            return []
        uids = []
        for p in sorted(self.folder.glob("recording_*.json")):
            uid = p.stem.removeprefix("recording_")
            if _UID_RE.match(uid):
                uids.append(uid)
        return uids




# --- writing a journal's parts to the database ---------------------------------------------------


def save_parts(
    db: Database, recording_id: int, parts: dict[str, Any], expected_revision: int | None
) -> int | None:
    """Write the journalled ``parts`` of one recording in one transaction.

    Returns the new events revision (or ``expected_revision`` when no events were saved). Raises
    :class:`app.safety.conflicts.EditConflict` when another workstation saved marks since
    ``expected_revision``, ``ValidationError`` when the recording is gone, and the database's
    own errors (locked, disk full) for the caller to retry.
    """
    from app.records import recordings as rec_store

    revision = expected_revision
    with db.session() as s:
        # The events first: their compare-and-bump is the transaction's first write, so two
        # workstations saving at once serialise on it (see replace_events).
        if "events" in parts:
            revision = rec_store.replace_events(
                s,
                recording_id,
                events_from_json(parts["events"]),
                expected_revision=expected_revision,
            )
        if "overlays" in parts:
            rec_store.replace_overlays(s, recording_id, parts["overlays"])
        if "capture_fps" in parts:
            rec_store.set_capture_fps(s, recording_id, float(parts["capture_fps"]))
        if "calibration" in parts:
            cal = parts["calibration"] or {}
            rec_store.set_calibration(s, recording_id, cal.get("cm_per_px"), cal.get("detail"))
    return revision


@dataclass
class ReplayOutcome:
    """What :func:`replay_pending` did with one journal."""

    recording_uid: str
    recording_id: int | None
    status: str  # "saved", "already saved", "conflict", "recording gone", "failed"
    edits: int = 0
    message: str = ""


def replay_one(db: Database, journal: Journal, recording_uid: str) -> ReplayOutcome:
    """Save one recording's journal if the database has not moved on without it.

    The journal is replayed when the recording's events revision is still the one the edits were
    made on (or one higher when a save was in flight at the crash: that save was ours). When the
    stored marks already equal the journal's, it is removed. When another workstation saved in
    between, nothing is written and the journal is kept: the marking panel offers the choice when
    the recording is opened.
    """
    from sqlalchemy import select

    from app.db.models import Recording
    from app.records import recordings as rec_store
    from app.safety.conflicts import EditConflict

    entry = journal.read(recording_uid)
    if entry is None:
        return ReplayOutcome(recording_uid, None, "already saved")
    with db.session() as s:
        row = s.execute(
            select(Recording.id, Recording.events_revision).where(
                Recording.uid == recording_uid
            )
        ).first()
        if row is None:
            journal.remove(recording_uid)
            return ReplayOutcome(
                recording_uid,
                None,
                "recording gone",
                entry.edits,
                "The recording these unsaved edits belonged to has been deleted.",
            )
        rid, revision = row
        stored = rec_store.events_of(s, rid)  # on the recording's own clock
    verdict = classify(entry, revision, stored)
    if verdict == "conflict":
        return ReplayOutcome(
            recording_uid,
            rid,
            "conflict",
            entry.edits,
            "The marks were changed on another workstation after these edits were made.",
        )
    parts = dict(entry.parts)
    expected: int | None = revision
    if verdict == "events saved":
        parts.pop("events", None)
    try:
        if parts:
            save_parts(db, rid, parts, expected)
    except EditConflict:
        # A save of these very edits may have landed meanwhile (a saver still waiting on the
        # lock when its recording was closed): the same marks are no conflict.
        with db.session() as s:
            now = rec_store.events_of(s, rid)
        if entry.events is not None and _same_events(now, entry.events) and "events" in parts:
            journal.remove(recording_uid)
            return ReplayOutcome(recording_uid, rid, "already saved", entry.edits)
        return ReplayOutcome(recording_uid, rid, "conflict", entry.edits)
    except Exception as exc:  # locked, disk full...: kept for the next try
        log.warning("replaying edit journal failed: %s", type(exc).__name__)
        return ReplayOutcome(recording_uid, rid, "failed", entry.edits, str(exc))
    journal.remove(recording_uid)
    return ReplayOutcome(recording_uid, rid, "saved" if parts else "already saved", entry.edits)


def classify(entry: JournalEntry, revision: int, stored: list[FootEvent]) -> str:
    """How a journal relates to the stored marks of its recording (revision ``revision``).

    "events saved" when the stored marks already equal the journal's (or it holds none),
    "replay" when its marks were made on the stored revision (or on the one before, with a save
    in flight at the crash: that commit was ours), "conflict" when another workstation saved in
    between.
    """
    ours = entry.events
    if ours is None or _same_events(stored, ours):
        return "events saved"
    if entry.base_revision is None or revision == entry.base_revision:
        return "replay"
    if entry.in_flight and revision == entry.base_revision + 1:
        return "replay"
    return "conflict"


def replay_pending(db: Database, data_root: Path) -> list[ReplayOutcome]:
    """Replay every journal of the data folder (at start-up, off the GUI thread)."""
    journal = Journal(data_root)
    return [replay_one(db, journal, uid) for uid in journal.pending()]


def _same_events(a: Iterable[FootEvent], b: Iterable[FootEvent]) -> bool:
    def key(events: Iterable[FootEvent]) -> set[tuple[int, str, str, str, float]]:
        return {
            (e.frame, e.foot.value, e.type.value, e.source.value, round(e.confidence, 4))
            for e in events
        }

    return key(a) == key(b)
