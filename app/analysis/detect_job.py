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

from app.analysis.events import EventSource, FootEvent


@dataclass
class DetectionResult:
    """Keypoints (capture-time seconds) and the proposals found in them."""

    track: Any  # app.analysis.keypoints.KeypointTrack
    proposals: list[FootEvent]
    direction: str
    warnings: list[str] = field(default_factory=list)


def retime_track(track: Any, container_fps: float | None, capture_fps: float | None) -> Any:
    """Rescale a track's times from file time to capture time once (slow-motion files)."""
    if (
        container_fps
        and capture_fps
        and abs(container_fps - capture_fps) > 1e-6
        and not track.meta.get("retimed")
    ):
        track.times = track.times * (container_fps / capture_fps)
        track.meta["retimed"] = True
    return track


def detect(
    path: Path,
    *,
    container_fps: float | None,
    capture_fps: float | None,
    frame_count: int,
    cache_dir: Path | None,
    progress: Callable[[float], None] = lambda _f: None,
    cancelled: Callable[[], bool] = lambda: False,
) -> DetectionResult:
    """Run the pose model on ``path`` (cached per file) and propose contacts and toe-offs.

    Proposals outside ``0..frame_count-1`` are dropped; every proposal is marked automatic.
    """
    from app.analysis.contacts import detect_contacts
    from app.analysis.pose import run_pose

    track = run_pose(
        path, progress=lambda f: progress(0.97 * f), cancelled=cancelled, cache_dir=cache_dir
    )
    retime_track(track, container_fps, capture_fps)
    result = detect_contacts(track)
    track.meta["direction"] = result.direction
    proposals = [
        replace(e, source=EventSource.AUTOMATIC)
        for e in result.events
        if 0 <= e.frame < frame_count
    ]
    progress(1.0)
    return DetectionResult(track, proposals, result.direction, list(result.warnings))


def detection_job(
    path: Path,
    *,
    container_fps: float | None,
    capture_fps: float | None,
    frame_count: int,
    cache_dir: Path | None,
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
        )

    return job
