"""Automatic contact proposals for one video, as a plain background job (no Qt).

The marking panel runs :func:`detection_job` through ``ui.tasks.BackgroundTask`` and merges the
result with :meth:`app.annotation.session.MarkingSession.merge_proposals`, which never touches
the clinician's reviewed marks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from app.analysis.events import EventSource, FootEvent
from app.video.timebase import Timebase


@dataclass
class DetectionResult:
    """Keypoints (capture-time seconds) and the proposals found in them."""

    track: Any  # app.analysis.keypoints.KeypointTrack
    proposals: list[FootEvent]
    direction: str
    warnings: list[str] = field(default_factory=list)


def retime_track(
    track: Any,
    container_fps: float | None,
    capture_fps: float | None,
    timebase: Timebase | None = None,
) -> Any:
    """The track on the recording's clock, once (``meta["retimed"]``): ``timebase`` (the file's
    own) when given, else the decoder's playback times scaled to capture time (slow motion)."""
    if track.meta.get("retimed") or track.n_frames < 1:
        return track
    if timebase is None:
        t = np.asarray(track.times, float)
        if track.n_frames < 2 or np.any(np.diff(t) <= 0):
            return track
        timebase = Timebase(t, container_fps, capture_fps)
    return timebase.retime(track)


#: Share of the progress bar for the pose pass; the pixel step takes most of the rest (it
#: decodes the clip again only for a cached pose result, or the first frames otherwise).
POSE_SHARE = 0.8


def detect(
    path: Path,
    *,
    container_fps: float | None,
    capture_fps: float | None,
    frame_count: int,
    cache_dir: Path | None,
    progress: Callable[[float], None] = lambda _f: None,
    cancelled: Callable[[], bool] = lambda: False,
    timebase: Timebase | None = None,
) -> DetectionResult:
    """Run the pose model on ``path`` (cached per file) and propose contacts and toe-offs.

    Proposals outside ``0..frame_count-1`` are dropped; every proposal is marked automatic.
    """
    from app.analysis.analyze import detect_on_own_clock
    from app.analysis.footcrops import FootCrops
    from app.analysis.pose import run_pose

    crops = FootCrops()  # the pixel step's crops, kept while the pose pass decodes
    track = run_pose(
        path, progress=lambda f: progress(POSE_SHARE * f), cancelled=cancelled,
        cache_dir=cache_dir, crops=crops,
    )  # fmt: skip
    track = retime_track(track, container_fps, capture_fps, timebase)
    notes: list[str] = []
    result, _grid = detect_on_own_clock(track, notes)  # as ``analyze``: VFR on a uniform grid
    # Each proposal checked on the pixels around the foot, as ``analyze`` does.
    from app.analysis.footflow import refine_from_video

    refine_from_video(
        result, track, path, cancelled, lambda f: progress(POSE_SHARE + (0.99 - POSE_SHARE) * f),
        crops,
    )  # fmt: skip
    track.meta["direction"] = result.direction
    proposals = [
        replace(e, source=EventSource.AUTOMATIC)
        for e in result.events
        if 0 <= e.frame < frame_count
    ]
    progress(1.0)
    return DetectionResult(track, proposals, result.direction, notes + list(result.warnings))


def detection_job(
    path: Path,
    *,
    container_fps: float | None,
    capture_fps: float | None,
    frame_count: int,
    cache_dir: Path | None,
    timebase: Timebase | None = None,
) -> Callable[[Callable[[float], None], Callable[[], bool]], DetectionResult]:
    """:func:`detect` as a ``fn(progress, cancelled)`` job for ``ui.tasks.BackgroundTask``."""

    def job(progress: Callable[[float], None], cancelled: Callable[[], bool]) -> DetectionResult:
        return detect(
            path,
            container_fps=container_fps,
            capture_fps=capture_fps,
            frame_count=frame_count,
            cache_dir=cache_dir,
            progress=progress,
            cancelled=cancelled,
            timebase=timebase,
        )

    return job
