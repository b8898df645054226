"""Where to crop a before/after still so the printed picture shows the runner's legs.

A still is a whole video frame (``stills/recording-<uid>_frame<N>.png``), so printed at the
width of half a page the landing foot is a few millimetres tall. :func:`still_crop` finds the
legs in the keypoints the automatic detection cached for that frame
(:func:`app.analysis.pose.load_cached_pose`, never runs the model) and returns a box around hip,
knee, ankle, heel and toe of both legs with a margin; without keypoints it returns a centred
crop of the lower half of the frame (the legs of a runner centred in the picture, as the filming
set-up asks). Boxes are fractions of the frame (x0, y0, x1, y1), so they fit the still at any
resolution. Qt-free: the renderer (:mod:`ui.home_program`) applies the box.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Recording
from app.paths import parse_still_name

#: Centred lower-half crop used when a frame has no keypoints: (x0, y0, x1, y1) of the frame.
LOWER_HALF = (0.2, 0.45, 0.8, 1.0)
#: Margin around the keypoints' box, as a fraction of the legs' height (hip to lowest point).
MARGIN = 0.18
#: The crop is never narrower than this fraction of its height (a stride needs room ahead).
MIN_ASPECT = 0.75


def legs_box(
    points: np.ndarray, width: float, height: float
) -> tuple[float, float, float, float] | None:
    """Crop box (fractions of the frame) around the finite leg keypoints ``points`` (…, 2) in
    pixels of a ``width`` × ``height`` frame; None with fewer than three usable points."""
    pts = np.asarray(points, float).reshape(-1, 2)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) < 3 or not (width > 0 and height > 0):
        return None
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    legs_h = max(y1 - y0, 1.0)
    pad = MARGIN * legs_h
    x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
    w = x1 - x0
    if w < MIN_ASPECT * (y1 - y0):  # widen around the centre
        cx, w = (x0 + x1) / 2, MIN_ASPECT * (y1 - y0)
        x0, x1 = cx - w / 2, cx + w / 2
    box = (
        float(np.clip(x0 / width, 0, 1)), float(np.clip(y0 / height, 0, 1)),
        float(np.clip(x1 / width, 0, 1)), float(np.clip(y1 / height, 0, 1)),
    )  # fmt: skip
    if box[2] - box[0] < 0.05 or box[3] - box[1] < 0.05:
        return None  # keypoints off the frame: not a picture of the legs
    return box


def still_crop(
    session: Session, still: str | Path, cache_dir: Path, videos_root: Path
) -> tuple[float, ...]:
    """The legs' box for an exported still, else :data:`LOWER_HALF`; ``()`` (print it whole)
    for a picture that is not an exported frame (the clinician's own, maybe already cropped).
    Never raises for a missing recording, video or cache."""
    parsed = parse_still_name(Path(still).name)
    if parsed is None:
        return ()
    uid, frame = parsed
    rec = session.scalars(select(Recording).where(Recording.uid == uid)).first()
    if rec is None:
        return LOWER_HALF
    try:
        from app.analysis.pose import load_cached_pose
        from app.records.recordings import resolve_video

        track = load_cached_pose(resolve_video(rec, videos_root), cache_dir)
    except Exception:  # an unreadable cache or video only means "no keypoints"
        return LOWER_HALF
    if track is None or track.n_frames == 0:
        return LOWER_HALF
    meta = track.meta
    width, height = float(meta.get("width") or 0), float(meta.get("height") or 0)  # type: ignore[arg-type]
    # The cache holds one row per frame of the file (frame i is row i, whatever the file's
    # clock: no frame / rate, which is wrong on a variable-frame-rate file).
    if not 0 <= frame < track.n_frames:
        return LOWER_HALF  # the track does not cover this frame
    i = int(frame)
    return legs_box(track.xy[i], width, height) or LOWER_HALF


def crop_stills(session: Session, content: object, cache_dir: Path, videos_root: Path) -> None:
    """Set ``content.before_crop`` / ``after_crop`` (a :class:`HomeProgramContent`) for its
    stills; a still without a path gets no crop."""
    for attr in ("before", "after"):
        path = getattr(content, f"{attr}_still")
        box = still_crop(session, path, cache_dir, videos_root) if path else ()
        setattr(content, f"{attr}_crop", list(box))
