"""Recordings of a visit and the foot events marked on them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.db.models import FootEventRecord, Overlay, Recording, Visit
from app.records.validation import ValidationError, calibration_scale
from app.video.timebase import Timebase

if TYPE_CHECKING:
    from app.db.database import Database
    from app.video.probe import FrameIndex, VideoInfo


def add_recording(
    session: Session,
    visit_id: int,
    *,
    video_path: str,
    original_name: str | None = None,
    view: str = "side",
    container_fps: float | None = None,
    capture_fps: float | None = None,
    frame_count: int | None = None,
    width: int | None = None,
    height: int | None = None,
    timestamps: dict | None = None,
) -> Recording:
    """A recording row for ``video_path`` (as stored: relative to the videos folder).

    Files that really arrive (import, camera) go through :func:`import_recording` and
    :func:`add_existing_file`, which also refuse a file another row already references.
    """
    if session.get(Visit, visit_id) is None:
        raise ValidationError("visit_id", "This visit no longer exists.")
    rec = Recording(
        visit_id=visit_id,
        video_path=video_path,
        original_name=original_name,
        view=view,
        container_fps=container_fps,
        capture_fps=capture_fps,
        frame_count=frame_count,
        width=width,
        height=height,
        timestamps=timestamps,
    )
    session.add(rec)
    session.flush()
    return rec


def _refuse_shared_file(session: Session, video_path: str) -> None:
    # Narrow by file name in SQL (cheap), then compare normalised paths ("a/./b" is "a/b").
    # Paths are stored as the import and the camera link store them: relative to the videos
    # folder when inside it, so one file has one spelling.
    name = Path(video_path).name
    if not name:
        raise ValidationError("video_path", "A recording needs a video file.")
    same_name = session.scalars(
        select(Recording.video_path).where(Recording.video_path.like(f"%{_like(name)}", "\\"))
    ).all()
    target = _norm(video_path)
    if any(_norm(other) == target for other in same_name):
        raise ValidationError(
            "video_path",
            f"The video {name} is already a recording of a visit; it was not added twice.",
        )


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _norm(stored: str) -> str:
    # Stored paths are relative to the videos folder or absolute; compare them the same way
    # whatever the videos folder is (a relative path is anchored at a fixed marker).
    p = Path(stored)
    return os.path.normcase(os.path.normpath(p if p.is_absolute() else Path("/@videos") / p))


def set_capture_fps(session: Session, recording_id: int, fps: float) -> None:
    if not (1.0 <= fps <= 2000.0):
        raise ValidationError(
            "capture_fps", f"A capture rate of {fps:g} frames/s is not plausible (1–2000)."
        )
    rec = session.get(Recording, recording_id)
    if rec is None:
        raise ValidationError("id", "This recording no longer exists.")
    rec.capture_fps = float(fps)


def set_calibration(
    session: Session, recording_id: int, cm_per_px: float | None, detail: dict | None = None
) -> None:
    rec = session.get(Recording, recording_id)
    if rec is None:
        raise ValidationError("id", "This recording no longer exists.")
    rec.cm_per_px = calibration_scale(cm_per_px)  # refuses 0, negative, NaN, inf
    rec.calibration = detail


def resolve_video(rec: Recording, videos_root: Path) -> Path:
    path = Path(rec.video_path)
    return path if path.is_absolute() else videos_root / path


def delete_recording(
    session: Session, recording_id: int, videos_root: Path, data_root: Path | None = None
) -> list[Path]:
    """Delete one recording with its events and overlays; return its files to remove.

    The files (video, capture sidecars, pose caches and, with ``data_root``, exported stills)
    exclude anything a remaining row references; remove them after the commit with
    :func:`app.records.patients.remove_media`.
    """
    from app.paths import DataFolder
    from app.records import media

    rec = session.get(Recording, recording_id)
    if rec is None:
        return []
    layout = DataFolder(Path(data_root)).media(videos_root) if data_root is not None else None
    paths = media.candidates(layout, Path(videos_root), recordings=[rec])
    session.delete(rec)
    session.flush()
    return media.unreferenced(session, layout, Path(videos_root), paths)


def recordings_of(session: Session, visit_id: int) -> list[Recording]:
    return list(
        session.scalars(
            select(Recording).where(Recording.visit_id == visit_id).order_by(Recording.id)
        )
    )


# --- foot events -------------------------------------------------------------------------------


# --- time base -----------------------------------------------------------------------------------


def timebase_of(rec: Recording, *, frames: Iterable[int] = ()) -> Timebase:
    """The recording's clock from its row (:meth:`Timebase.from_record`; never decodes video).

    ``frames`` (the marked frames) lengthen a map-less time base to cover every mark."""
    last = max(frames, default=-1)
    return Timebase.from_record(rec, n_frames=last + 1)


def ensure_timestamps(
    session: Session, recording_id: int, info: VideoInfo, index: FrameIndex
) -> bool:
    """Store the file's clock on a recording that lacks it (opened for the first time since
    revision 0005). Returns True when the map was written."""
    from app.video.timebase import timestamp_map

    rec = session.get(Recording, recording_id)
    if rec is None or rec.timestamps:
        return False
    rec.timestamps = timestamp_map(info, index)
    return True


def to_event(row: FootEventRecord, timebase: Timebase) -> FootEvent:
    """A stored event row as a :class:`FootEvent` with its real time on the recording's clock."""
    return FootEvent(
        foot=Foot(row.foot),
        type=EventType(row.type),
        frame=row.frame,
        time_s=float(timebase.times_of(row.frame)),
        source=EventSource(row.source),
        confidence=row.confidence,
    )


def events_of(
    session: Session, recording_id: int, timebase: Timebase | None = None
) -> list[FootEvent]:
    """The stored events of a recording, timed by ``timebase`` (default: the row's own)."""
    rows = list(
        session.scalars(
            select(FootEventRecord)
            .where(FootEventRecord.recording_id == recording_id)
            .order_by(FootEventRecord.frame)
        )
    )
    if timebase is None:
        rec = session.get(Recording, recording_id)
        if rec is None:
            return []
        timebase = timebase_of(rec, frames=(r.frame for r in rows))
    return [to_event(r, timebase) for r in rows]


def events_revision(session: Session, recording_id: int) -> int:
    """The recording's event revision: pass it back to :func:`replace_events` when saving."""
    rev = session.execute(
        select(Recording.events_revision).where(Recording.id == recording_id)
    ).scalar()
    if rev is None:
        raise ValidationError("id", "This recording no longer exists.")
    return int(rev)


def replace_events(
    session: Session,
    recording_id: int,
    events: Iterable[FootEvent],
    *,
    expected_revision: int | None = None,
) -> int:
    """Make the stored events of a recording exactly ``events`` (used by autosave and undo).

    Every save bumps the recording's ``events_revision`` and returns the new value. With
    ``expected_revision`` (the revision the caller loaded or last saved), a save made after
    another workstation saved raises :class:`app.safety.conflicts.EditConflict` and changes
    nothing. The compare-and-bump is one UPDATE, the first write of the transaction, so two
    concurrent saves serialise on the row and the second one sees the first's revision.
    """
    bump = update(Recording).where(Recording.id == recording_id)
    if expected_revision is not None:
        bump = bump.where(Recording.events_revision == expected_revision)
    bump = bump.values(events_revision=Recording.events_revision + 1)
    if session.execute(bump.execution_options(synchronize_session=False)).rowcount != 1:
        if session.get(Recording, recording_id) is None:
            raise ValidationError("id", "This recording no longer exists.")
        from app.safety.conflicts import ANNOTATION_CONFLICT, EditConflict

        raise EditConflict(ANNOTATION_CONFLICT)
    session.execute(delete(FootEventRecord).where(FootEventRecord.recording_id == recording_id))
    seen: set[tuple[int, str, str]] = set()
    for ev in events:
        key = (ev.frame, ev.foot.value, ev.type.value)
        if key in seen:
            continue
        seen.add(key)
        session.add(
            FootEventRecord(
                recording_id=recording_id,
                frame=int(ev.frame),
                foot=ev.foot.value,
                type=ev.type.value,
                source=ev.source.value,
                confidence=float(ev.confidence),
            )
        )
    session.flush()
    new_revision = events_revision(session, recording_id)
    from app.safety import audit

    visit_id = session.execute(
        select(Recording.visit_id).where(Recording.id == recording_id)
    ).scalar()
    patient_id = session.execute(select(Visit.patient_id).where(Visit.id == visit_id)).scalar()
    audit.record(session, "change", patient_id, detail=f"foot events of recording {recording_id}")
    return new_revision


def merge_automatic(
    existing: list[FootEvent], proposals: list[FootEvent], *, min_gap_frames: int = 2
) -> list[FootEvent]:
    """Combine a detector's proposals with the current events without touching manual ones.

    Old automatic events are replaced; a proposal within ``min_gap_frames`` of a manual event of
    the same foot and type is dropped (the clinician's mark wins).
    """
    manual = [e for e in existing if e.source is EventSource.MANUAL]
    kept = list(manual)
    for p in proposals:
        clash = any(
            m.foot is p.foot and m.type is p.type and abs(m.frame - p.frame) <= min_gap_frames
            for m in manual
        )
        if not clash:
            kept.append(p)
    return sorted(kept, key=lambda e: (e.frame, e.foot.value, e.type.value))


# --- overlays ----------------------------------------------------------------------------------


def overlays_of(session: Session, recording_id: int) -> list[Overlay]:
    return list(
        session.scalars(
            select(Overlay).where(Overlay.recording_id == recording_id).order_by(Overlay.id)
        )
    )


def replace_overlays(session: Session, recording_id: int, overlays: Iterable[dict]) -> None:
    session.execute(delete(Overlay).where(Overlay.recording_id == recording_id))
    for o in overlays:
        session.add(
            Overlay(
                recording_id=recording_id,
                frame=int(o["frame"]),
                last_frame=None if o.get("last_frame") is None else int(o["last_frame"]),
                kind=str(o["kind"]),
                points=[[float(x), float(y)] for x, y in o["points"]],
                value=o.get("value"),
                label=o.get("label"),
            )
        )
    session.flush()


# --- importing ---------------------------------------------------------------------------------


def import_recording(
    db: Database,
    videos_root: Path,
    visit_id: int,
    source: Path,
    *,
    view: str = "side",
    capture_fps: float | None = None,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    """Copy ``source`` into the visit's media folder and record it on the visit.

    The folder is named by the patient's and visit's uids (:class:`app.paths.MediaLayout`), and
    the file takes a free name there exclusively, so concurrent imports never share or
    overwrite a file. The original file is never modified. If the database write fails, the copy is removed, so
    no orphan files remain. Returns the new recording's id. Raises ``app.video.VideoError`` for
    unusable files and :class:`ValidationError` when the visit is gone.
    """
    from app.records.media import visit_folder
    from app.video import import_video

    with db.session() as s:
        folder = visit_folder(s, videos_root, visit_id)  # uid-named: never an old record's
    folder.mkdir(parents=True, exist_ok=True)
    imported = import_video(source, folder, progress=progress, cancelled=cancelled)
    try:
        from app.video.probe import scan_index

        info, index = scan_index(imported.path)  # the copy's own clock (packets only, no decode)
        return _record_file(
            db, videos_root, visit_id, imported.path, info, source.name, view, capture_fps, index
        )
    except BaseException:
        imported.path.unlink(missing_ok=True)
        raise


def _record_file(
    db: Database,
    videos_root: Path,
    visit_id: int,
    path: Path,
    info: VideoInfo,
    original_name: str,
    view: str,
    capture_fps: float | None,
    index: FrameIndex | None = None,
) -> int:
    """One recording row for a video file; the capture rate falls back to the file's tags.
    With the file's ``index`` the row stores its clock (:func:`app.video.timebase.timestamp_map`).
    """
    from app.video.timebase import timestamp_map

    rel = path.relative_to(videos_root) if path.is_relative_to(videos_root) else path
    with db.session() as s:
        # Two rows naming one file would let deleting one remove the other's video: a file
        # linked twice (a camera file, or on another workstation) is refused.
        _refuse_shared_file(s, str(rel))
        return add_recording(
            s,
            visit_id,
            video_path=str(rel),
            original_name=original_name,
            view=view,
            container_fps=info.container_fps,
            capture_fps=capture_fps or info.capture_fps_guess or info.container_fps,
            frame_count=info.frame_count,
            width=info.width,
            height=info.height,
            timestamps=timestamp_map(info, index) if index is not None else None,
        ).id


def add_existing_file(
    db: Database,
    videos_root: Path,
    visit_id: int,
    path: Path,
    *,
    capture_fps: float | None,
    view: str = "side",
) -> int:
    """Record a file already inside the data folder (e.g. a fresh camera recording)."""
    from app.video.probe import scan_index

    info, index = scan_index(path)
    return _record_file(db, videos_root, visit_id, path, info, path.name, view, capture_fps, index)
