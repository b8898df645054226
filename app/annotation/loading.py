"""Opening a recording for marking: its stored state, any unsaved journal, a ready session."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.analysis.events import FootEvent
from app.annotation.autosave import AutoSaver
from app.annotation.journal import Journal, JournalEntry, classify
from app.annotation.session import Drawing, MarkingSession
from app.video.timebase import Timebase

if TYPE_CHECKING:
    from app.db.database import Database


@dataclass
class LoadedRecording:
    """What the database (and the journal, if any) holds for one recording."""

    recording_id: int
    uid: str
    patient_id: int | None
    title: str
    path: Path
    capture_fps: float | None
    container_fps: float | None
    frame_count: int
    cm_per_px: float | None
    revision: int
    events: list[FootEvent]
    drawings: list[Drawing]
    journal: JournalEntry | None = None
    verdict: str | None = None  # classify(): "replay", "events saved", "conflict"
    session: MarkingSession = field(default_factory=MarkingSession)
    recovered_edits: int = 0
    #: The recording's clock from its row (no decode): used until the video itself is open,
    #: and whenever it cannot be (the file is missing), so marks keep the times figures use.
    timebase: Timebase | None = None
    #: "side" or "rear": which measuring tools the panel offers.
    view: str = "side"

    def stored_timebase(self) -> Timebase:
        """The row's clock with the current capture rate (the clinician may have edited it)."""
        last = max((e.frame for e in self.events), default=-1)
        base = self.timebase or Timebase.uniform(max(self.frame_count, last + 1, 1), 30.0)
        capture = self.capture_fps if base.container_fps else None
        return base.with_capture_fps(capture) if capture != base.capture_fps else base


def recording_rows(s, recording_id: int):  # type: ignore[no-untyped-def]
    """``(recording, visit, patient)`` rows of ``recording_id`` in session ``s`` (visit and
    patient None when missing), or None when the recording no longer exists. The one
    reading of a recording row, shared with the dual player (app.video.dual_sources)."""
    from app.db.models import Patient, Recording, Visit

    rec = s.get(Recording, recording_id)
    if rec is None:
        return None
    visit = s.get(Visit, rec.visit_id)
    patient = s.get(Patient, visit.patient_id) if visit else None
    return rec, visit, patient


def overlay_dicts(s, recording_id: int) -> list[dict]:  # type: ignore[no-untyped-def]
    """The recording's measurement drawings as overlay dictionaries (Drawing.from_overlay)."""
    from app.records import recordings as rec_store

    return [
        {"kind": o.kind, "points": o.points, "value": o.value, "label": o.label,
         "frame": o.frame, "last_frame": o.last_frame}
        for o in rec_store.overlays_of(s, recording_id)
    ]  # fmt: skip


def load_recording(
    db: Database, data_root: Path, videos_root: Path, recording_id: int
) -> LoadedRecording | None:
    """Read one recording and its journal (None when the recording no longer exists)."""
    from app.records import recordings as rec_store

    with db.session() as s:
        rows = recording_rows(s, recording_id)
        if rows is None:
            return None
        rec, visit, patient = rows
        path = rec_store.resolve_video(rec, videos_root)
        events = rec_store.events_of(s, recording_id)
        loaded = LoadedRecording(
            recording_id=recording_id,
            uid=rec.uid,
            patient_id=patient.id if patient else None,
            title=" · ".join(
                [
                    patient.full_name if patient else "",
                    str(visit.visit_date) if visit else "",
                    rec.original_name or path.name,
                ]
            ),
            path=path,
            capture_fps=rec.capture_fps,
            container_fps=rec.container_fps,
            frame_count=rec.frame_count or 0,
            view=rec.view or "side",
            cm_per_px=rec.cm_per_px,
            # Another workstation saving marks on this recording bumps this revision.
            revision=rec_store.events_revision(s, recording_id),
            events=events,
            drawings=[Drawing.from_overlay(o) for o in overlay_dicts(s, recording_id)],
            timebase=rec_store.timebase_of(rec, frames=(e.frame for e in events)),
        )
    entry = Journal(data_root).read(loaded.uid)
    if entry is not None:
        loaded.journal = entry
        loaded.verdict = classify(entry, loaded.revision, loaded.events)
    return loaded


def start_session(
    db: Database, data_root: Path, loaded: LoadedRecording, *, take_journal: bool
) -> MarkingSession:
    """The marking session of ``loaded``, saving through a new :class:`AutoSaver`.

    With ``take_journal`` (the default choice unless another workstation saved in between and
    the clinician chose theirs), the journal's unsaved edits are shown and saved again;
    otherwise the journal is dropped.
    """
    journal = Journal(data_root)
    saver = AutoSaver(db, journal, loaded.uid, loaded.recording_id, loaded.revision)
    entry, events, drawings = loaded.journal, loaded.events, loaded.drawings
    if entry is not None and not take_journal:
        journal.remove(entry.recording_uid)
    elif entry is not None:
        parts = dict(entry.parts)
        if loaded.verdict == "events saved":
            parts.pop("events", None)
        if loaded.verdict == "conflict":
            saver.overwrite()  # the clinician chose these marks over the other workstation's
        if parts:
            saver.submit(parts, edits=max(1, entry.edits))
            loaded.recovered_edits = max(1, entry.edits)
            if "events" in parts and entry.events is not None:
                events = entry.events
            if "overlays" in parts:
                drawings = [Drawing.from_overlay(o) for o in parts["overlays"]]
            if "capture_fps" in parts:
                loaded.capture_fps = float(parts["capture_fps"])
            if "calibration" in parts:
                loaded.cm_per_px = (parts["calibration"] or {}).get("cm_per_px")
        else:
            journal.remove(entry.recording_uid)
    session = MarkingSession(events, drawings, frame_count=loaded.frame_count, saver=saver)
    loaded.session = session
    return session


def store_clock(db: Database, recording_id: int, server: object) -> bool:
    """Backfill the recording's stored clock from an open video (first open since 0005).

    ``server`` is the :class:`app.video.FrameServer` showing the file. Returns True when the
    map was written; a failure to write (locked, read-only) is not the clinician's problem:
    the figures keep the rate-based clock and the next open tries again."""
    from app.records import recordings as rec_store

    info, index = server.info, server.index  # type: ignore[attr-defined]
    try:
        with db.session() as s:
            return rec_store.ensure_timestamps(s, recording_id, info, index)
    except Exception:  # noqa: BLE001 - best effort; never in the way of marking
        import logging

        logging.getLogger(__name__).warning("could not store the clock of recording %s",
                                            recording_id)  # fmt: skip
        return False
