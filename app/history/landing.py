"""Landing measures for the History from the pose-model cache (never runs the pose model).

Opening a history must stay instant, so the provider reads only keypoints the automatic
detection already cached, computes means and SDs without the frame-rate uncertainties the
History never shows, and remembers its result for a recording whose video, pose cache, clock and
marks have not changed (reopening a patient, or the refresh after an outcome entry, then costs
nothing per visit).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.video.timebase import Timebase

if TYPE_CHECKING:
    from app.analysis.events import FootEvent
    from app.analysis.metrics import LandingMetrics
    from app.history.trends import LandingProvider, RecordingInfo

_MEMO: dict[tuple[Any, ...], LandingMetrics | None] = {}
_MEMO_MAX = 2000


def _memo_key(
    rec: RecordingInfo, evs: list[FootEvent], full: Path, cache_dir: Path
) -> tuple[Any, ...] | None:
    """What the result depends on: the cache file found by the video's key (its name, size and
    modification time) and that file's own size and modification time (detection run again
    rewrites it), the recording's clock and calibration, and the marks. None when the video
    cannot be keyed (the cache is then found by name: not remembered)."""
    from app.analysis.pose import default_cache_file

    try:
        path, _key = default_cache_file(full, cache_dir)
        st = os.stat(path)
    except OSError:
        return None
    clock = rec.timebase.key if rec.timebase is not None else rec.fps
    marks = tuple((e.frame, e.foot, e.type) for e in evs)
    return (str(path), st.st_size, st.st_mtime_ns, clock, rec.cm_per_px, marks)


def pose_cache_landing(cache_dir: Path, videos_root: Path | None = None) -> LandingProvider:
    """A provider that reads keypoints the automatic detection already cached (never runs the
    pose model: opening a history must stay instant). Recordings without a cache give None.

    The cache is found as everywhere else (:func:`app.analysis.pose.load_cached_pose`), and its
    frames are timed on the recording's own clock, the clock of its marks."""

    def _cached_track(rec: RecordingInfo):  # type: ignore[no-untyped-def]
        from app.analysis.pose import load_cached_pose

        stored = Path(rec.video_path)
        return load_cached_pose(full_path(rec), cache_dir, stored=stored, videos_root=videos_root)

    listing: list[frozenset[str]] = []

    def may_have_cache(rec: RecordingInfo) -> bool:
        """False when no cache file can belong to the recording: every cache is named
        ``<video stem>.<key>.pose.npz``. The folder is listed once per provider (one History
        load), not once per visit."""
        if not listing:
            try:
                names = os.listdir(cache_dir)
            except OSError:
                names = []
            listing.append(frozenset(n.split(".", 1)[0] for n in names if n.endswith(".pose.npz")))
        return Path(rec.video_path).stem.split(".", 1)[0] in listing[0]

    def full_path(rec: RecordingInfo) -> Path:
        stored = Path(rec.video_path)
        return (
            stored if stored.is_absolute()
            else Path(videos_root) / stored if videos_root is not None
            else Path("")  # no file to key: found by name only
        )  # fmt: skip

    def provider(rec: RecordingInfo, evs: list[FootEvent]) -> LandingMetrics | None:
        if not may_have_cache(rec):
            return None
        key = _memo_key(rec, evs, full_path(rec), Path(cache_dir))
        if key is not None and key in _MEMO:
            return _MEMO[key]
        result = compute(rec, evs)
        if key is not None:
            if len(_MEMO) >= _MEMO_MAX:
                _MEMO.clear()
            _MEMO[key] = result
        return result

    def compute(rec: RecordingInfo, evs: list[FootEvent]) -> LandingMetrics | None:
        from app.analysis.landing import landing_metrics
        from app.analysis.metrics import HEEL, TOE
        from app.history.trends import _Row

        track = _cached_track(rec)
        if track is None or track.n_frames < 2:
            return None
        clock = rec.timebase or Timebase.from_record(
            _Row(None, rec.container_fps, rec.fps, None), n_frames=track.n_frames
        )
        track = clock.retime(track)
        # The runner faces where the toes point.
        with np.errstate(all="ignore"):
            ahead = np.nanmean(track.xy[:, :, TOE, 0] - track.xy[:, :, HEEL, 0])
        if not np.isfinite(ahead):
            return None
        try:
            return landing_metrics(
                evs, track, "right" if ahead > 0 else "left", cm_per_px=rec.cm_per_px,
                uncertainty=False,  # the History shows means and SDs only
            )  # fmt: skip
        except (ValueError, IndexError, ZeroDivisionError):
            return None

    return provider
