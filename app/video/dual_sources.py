"""What the dual player and the video export need to know about a recording (no Qt).

One :class:`SideSource` per recording: its file, capture rate, marks (for linking at a contact
and for the caption's cadence), measurement drawings, and the caption's patient initials and
date (never the full name: an exported video goes home with the patient).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.analysis.events import FootEvent

if TYPE_CHECKING:
    from app.db.database import Database

log = logging.getLogger(__name__)

ALL_FRAMES = -1  # a drawing shown on every frame (app.annotation.session.ALL_FRAMES)


@dataclass
class SideSource:
    recording_id: int
    uid: str
    visit_id: int
    visit_uid: str
    patient_uid: str
    path: Path
    view: str
    capture_fps: float | None
    container_fps: float | None
    initials: str
    date: dt.date | None
    events: list[FootEvent] = field(default_factory=list)
    drawings: list[dict] = field(default_factory=list)
    name: str = ""

    @property
    def label(self) -> str:
        date = f"{self.date:%d %b %Y}" if self.date else "undated"
        return f"{date} · {self.view} view · {self.name or self.path.name}"

    def drawings_on(self, frame: int) -> list[dict]:
        from app.annotation.session import Drawing

        return [d for d in self.drawings if Drawing.from_overlay(d).shown_on(frame)]

    def cadence_spm(self) -> float | None:
        """Cadence of the reviewed marks (None when too few are marked)."""
        from app.analysis.metrics import temporal_metrics
        from app.annotation.session import reviewed

        marks = reviewed(self.events)
        if len(marks) < 3:
            return None
        try:
            return temporal_metrics(marks).cadence_spm
        except Exception:  # a caption without cadence, never a failed export
            log.exception("cadence for the caption failed")
            return None


def initials(full_name: str) -> str:
    """ "Ana María López-Vega" -> "AMLV": the first letter of each part of the name."""
    parts = [p for p in re.split(r"[\s\-]+", full_name or "") if p]
    return "".join(p[0].upper() for p in parts if p[0].isalpha())


def load_side(db: Database, videos_root: Path, recording_id: int) -> SideSource | None:
    """The recording ``recording_id`` (None when it no longer exists).

    Reads the rows as the marking panel does (:func:`app.annotation.loading.recording_rows`,
    :func:`~app.annotation.loading.overlay_dicts`)."""
    from app.annotation.loading import overlay_dicts, recording_rows
    from app.records import recordings as rec_store

    with db.session() as s:
        rows = recording_rows(s, recording_id)
        if rows is None:
            return None
        rec, visit, patient = rows
        return SideSource(
            recording_id=rec.id,
            uid=rec.uid,
            visit_id=rec.visit_id,
            visit_uid=visit.uid if visit else "",
            patient_uid=patient.uid if patient else "",
            path=rec_store.resolve_video(rec, videos_root),
            view=rec.view or "side",
            capture_fps=rec.capture_fps,
            container_fps=rec.container_fps,
            initials=initials(patient.full_name if patient else ""),
            date=visit.visit_date if visit else None,
            events=rec_store.events_of(s, rec.id),  # on the recording's own clock
            drawings=overlay_dicts(s, rec.id),
            name=rec.original_name or Path(rec.video_path).name,
        )


def best_recording(db: Database, visit_id: int, measured_id: int | None = None) -> int | None:
    """The recording to play for a visit: the measured one, else its first side view."""
    from app.records.recordings import recordings_of

    if measured_id is not None:
        return measured_id
    with db.session() as s:
        recs = recordings_of(s, visit_id)
        side = [r for r in recs if (r.view or "side") == "side"] or recs
        return side[0].id if side else None


def other_view(db: Database, recording_id: int) -> int | None:
    """The recording of the other camera (rear for a side view, side for a rear view) filmed
    in the same session of the same visit, or None.

    A capture names its files ``<stem>_cam1``/``<stem>_rear`` (same stem); when the visit has
    several of each, the one whose file name shares the stem is taken, else the nearest in
    creation time.
    """
    from app.db.models import Recording
    from app.records.recordings import recordings_of

    with db.session() as s:
        rec = s.get(Recording, recording_id)
        if rec is None:
            return None
        want = "side" if (rec.view or "side") == "rear" else "rear"
        others = [r for r in recordings_of(s, rec.visit_id) if (r.view or "side") == want]
        if not others:
            return None
        stem = _capture_stem(rec.video_path)
        same = [r for r in others if _capture_stem(r.video_path) == stem]
        if same:
            return same[0].id
        if rec.created_at is None:
            return others[0].id
        return min(
            others, key=lambda r: abs((r.created_at or rec.created_at) - rec.created_at)
        ).id


def _capture_stem(video_path: str) -> str:
    stem = Path(video_path).stem
    return re.sub(r"(_cam\d+|_rear|_side)$", "", stem)
