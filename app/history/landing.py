"""Landing measures for the History from the pose-model cache (never runs the pose model).

Opening a history must stay instant, so the provider reads only keypoints the automatic
detection already cached, computes means and SDs without the frame-rate uncertainties the
History never shows, and remembers its result for a recording whose video, pose cache, clock and
marks have not changed (reopening a patient, or the refresh after an outcome entry, then costs
nothing per visit).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.video.timebase import Timebase

if TYPE_CHECKING:
    from app.analysis.events import FootEvent
    from app.analysis.metrics import LandingMetrics
    from app.history.trends import RecordingInfo

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


class PoseCacheLanding:
    """A landing provider that reads keypoints the automatic detection already cached (never
    runs the pose model: opening a history must stay instant). Recordings without a cache give
    None. Call it as ``provider(rec, events)``.

    The cache is found as everywhere else (:func:`app.analysis.pose.load_cached_pose`), and its
    frames are timed on the recording's own clock, the clock of its marks. :meth:`cached` answers
    from what is already remembered without reading or computing anything, so the History can
    draw at once and compute the rest in the background (:class:`DeferredLanding`)."""

    def __init__(self, cache_dir: Path, videos_root: Path | None = None) -> None:
        self.cache_dir = Path(cache_dir)
        self.videos_root = videos_root
        self._listing: frozenset[str] | None = None

    def may_have_cache(self, rec: RecordingInfo) -> bool:
        """False when no cache file can belong to the recording: every cache is named
        ``<video stem>.<key>.pose.npz``. The folder is listed once per provider (one History
        load), not once per visit."""
        if self._listing is None:
            try:
                names = os.listdir(self.cache_dir)
            except OSError:
                names = []
            self._listing = frozenset(
                n.split(".", 1)[0] for n in names if n.endswith(".pose.npz")
            )
        return Path(rec.video_path).stem.split(".", 1)[0] in self._listing

    def full_path(self, rec: RecordingInfo) -> Path:
        stored = Path(rec.video_path)
        return (
            stored if stored.is_absolute()
            else Path(self.videos_root) / stored if self.videos_root is not None
            else Path("")  # no file to key: found by name only
        )  # fmt: skip

    def cached(
        self, rec: RecordingInfo, evs: list[FootEvent]
    ) -> tuple[bool, LandingMetrics | None]:
        """(known, result): ``known`` when the answer needs no reading or computing (no cache
        can exist, or the result is remembered); else (False, None)."""
        if not self.may_have_cache(rec):
            return True, None
        key = _memo_key(rec, evs, self.full_path(rec), self.cache_dir)
        if key is not None and key in _MEMO:
            return True, _MEMO[key]
        return False, None

    def __call__(self, rec: RecordingInfo, evs: list[FootEvent]) -> LandingMetrics | None:
        if not self.may_have_cache(rec):
            return None
        key = _memo_key(rec, evs, self.full_path(rec), self.cache_dir)
        if key is not None and key in _MEMO:
            return _MEMO[key]
        result = self.compute(rec, evs)
        if key is not None:
            if len(_MEMO) >= _MEMO_MAX:
                _MEMO.clear()
            _MEMO[key] = result
        return result

    def compute(self, rec: RecordingInfo, evs: list[FootEvent]) -> LandingMetrics | None:
        from app.analysis.landing import landing_metrics
        from app.analysis.metrics import HEEL, TOE
        from app.analysis.pose import load_cached_pose
        from app.history.trends import _Row

        track = load_cached_pose(
            self.full_path(rec), self.cache_dir, stored=Path(rec.video_path),
            videos_root=self.videos_root,
        )  # fmt: skip
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


def pose_cache_landing(cache_dir: Path, videos_root: Path | None = None) -> PoseCacheLanding:
    """The History's landing provider (:class:`PoseCacheLanding`)."""
    return PoseCacheLanding(cache_dir, videos_root)


class DeferredLanding:
    """For drawing a history at once: answers what :meth:`PoseCacheLanding.cached` knows and
    collects the rest in :attr:`pending` (recording, events) for :meth:`compute_pending`, which
    may run on a worker thread (it touches neither the database nor Qt)."""

    def __init__(self, provider: PoseCacheLanding) -> None:
        self.provider = provider
        self.pending: list[tuple[RecordingInfo, list[FootEvent]]] = []
        self.results: dict[int, LandingMetrics | None] = {}

    def __call__(self, rec: RecordingInfo, evs: list[FootEvent]) -> LandingMetrics | None:
        if rec.id in self.results:
            return self.results[rec.id]
        known, value = self.provider.cached(rec, evs)
        if not known:
            self.pending.append((rec, evs))
        return value

    def compute_pending(
        self,
        progress: Callable[[float], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> bool:
        """Compute every pending recording (remembered for next time); False when cancelled."""
        for k, (rec, evs) in enumerate(self.pending):
            if cancelled is not None and cancelled():
                return False
            self.results[rec.id] = self.provider(rec, evs)
            if progress is not None:
                progress((k + 1) / len(self.pending))
        self.pending = []
        return True
