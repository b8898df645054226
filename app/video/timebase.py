"""Frame number ↔ real (captured) time for one recording, from the file's own timestamps.

Two things make ``frame / fps`` wrong for clinic video, and both are handled here once:

* **Variable frame rate.** Phones drop to 30 fps in poor light and return to 60; the file's
  per-frame presentation timestamps (PTS) are the only true clock. A clip filmed at 60 fps for
  its first half and 30 fps for the second holds 1.5× the frames a 30 fps clip of the same
  run would; counting frames at a mean rate squeezes the second half and stretches the first
  (``analyze`` reported 83.4 instead of 169.1 steps/min on such a file).
* **Slow motion.** A 240 fps capture that plays at 30 fps (Android writes
  ``com.android.capture.fps``) runs 8× slow on the file's clock: real time is playback time ×
  container rate / capture rate (:func:`app.video.frame_server.real_time_s`, the same rule as
  the video engine, fed by the same capture-rate detection as import,
  :func:`app.video.probe.guess_capture_fps`).

:class:`Timebase` is immutable and Qt-free; the analysis builds one per file and the UI may
share it later (the marking panel's "real time" column, event times).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Intervals further than this from the median count as a rate change (25 % as in the probe).
_VFR_TOLERANCE = 0.25


@dataclass(frozen=True, eq=False)
class Timebase:
    """Real time of every frame of one recording (seconds since the first frame)."""

    playback_s: np.ndarray
    """Presentation time of each frame on the file's clock, seconds since the first frame."""
    container_fps: float | None
    """Nominal playback rate written in the file (None when unknown)."""
    capture_fps: float | None
    """Frames captured per real second for slow-motion files; None = same as playback."""
    capture_source: str = ""
    """Where the capture rate came from (a file tag, the clinician, ...), for messages."""

    def __post_init__(self) -> None:
        t = np.asarray(self.playback_s, dtype=float)
        if t.ndim != 1 or len(t) == 0:
            raise ValueError("a time base needs at least one frame time")
        if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
            raise ValueError("frame times must be finite and increasing")
        for rate in (self.container_fps, self.capture_fps):
            if rate is not None and not (math.isfinite(rate) and rate > 0):
                raise ValueError(f"a frame rate must be positive and finite (got {rate})")
        object.__setattr__(self, "playback_s", t - t[0])
        scale = (
            self.container_fps / self.capture_fps
            if self.container_fps and self.capture_fps
            else 1.0
        )
        object.__setattr__(self, "_scale", scale)
        object.__setattr__(self, "_times", self.playback_s * scale)

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def uniform(cls, n_frames: int, fps: float, *, capture_fps: float | None = None) -> Timebase:
        """Frames at a constant ``fps`` (files without usable timestamps, keypoint tables)."""
        if n_frames < 1:
            raise ValueError("a time base needs at least one frame")
        return cls(np.arange(n_frames) / float(fps), float(fps), capture_fps)

    @classmethod
    def from_file(cls, path: str | Path, *, capture_fps: float | None = None) -> Timebase:
        """The time base of a video file: its PTS table, its rate and its capture rate.

        ``capture_fps`` (the clinician's value) wins over the file's tag; otherwise the tag that
        import reads is used. Raises :class:`app.video.VideoError` for an unreadable file.
        """
        from app.video.probe import scan_index

        info, index = scan_index(path)
        source = "given" if capture_fps else info.capture_fps_source
        capture = capture_fps or info.capture_fps_guess
        rate = info.container_fps
        if index.synthetic or len(index.pts) < 2:
            fallback = rate or capture or 30.0
            return cls(np.arange(len(index.pts)) / fallback, fallback, capture, source)
        return cls(np.asarray(index.pts_s, dtype=float), rate, capture, source)

    # -- queries -----------------------------------------------------------------------------
    @property
    def n_frames(self) -> int:
        return int(len(self.playback_s))

    @property
    def times_s(self) -> np.ndarray:
        """Real time of every frame (seconds since the first frame)."""
        return self._times.copy()  # type: ignore[attr-defined]

    @property
    def real_fps(self) -> float:
        """Frames per real second: the capture rate, else the mean rate of the timestamps."""
        if self.capture_fps:
            return float(self.capture_fps)
        if self.n_frames > 1 and self._times[-1] > 0:  # type: ignore[attr-defined]
            return float((self.n_frames - 1) / self._times[-1])  # type: ignore[attr-defined]
        return float(self.container_fps or 0.0)

    @property
    def is_variable(self) -> bool:
        """True when the frame intervals change (a variable-frame-rate file)."""
        d = np.diff(self.playback_s)
        if len(d) < 3:
            return False
        med = float(np.median(d))
        return bool(np.max(np.abs(d - med)) > _VFR_TOLERANCE * med)

    @property
    def peak_fps(self) -> float:
        """The highest steady real rate in the file (the 5th percentile of the intervals), the
        rate at which nothing is lost when the frames are put on a uniform grid."""
        d = np.diff(self._times)  # type: ignore[attr-defined]
        if len(d) == 0:
            return self.real_fps
        return float(1.0 / np.percentile(d, 5))

    def time_of(self, frame: float) -> float:
        """Real time of ``frame`` (fractional frames are interpolated between neighbours)."""
        f = float(frame)
        if not (0 <= f <= self.n_frames - 1):
            raise IndexError(f"frame {frame} is outside 0..{self.n_frames - 1}")
        return float(np.interp(f, np.arange(self.n_frames), self._times))  # type: ignore[attr-defined]

    def frame_at(self, t: float) -> int:
        """The frame shown at real time ``t``: the nearest frame (clamped to the clip)."""
        return int(self.frames_at(np.asarray([t], dtype=float))[0])

    def frames_at(self, times: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`frame_at`."""
        ts = self._times  # type: ignore[attr-defined]
        t = np.asarray(times, dtype=float)
        i = np.clip(np.searchsorted(ts, t), 1, max(1, self.n_frames - 1))
        if self.n_frames == 1:
            return np.zeros(t.shape, dtype=int)
        left = ts[i - 1]
        right = ts[i]
        return np.where(np.abs(t - left) <= np.abs(right - t), i - 1, i).astype(int)
