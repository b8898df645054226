"""Frame number ↔ real (captured) time for one recording, from the file's own timestamps.

Two things make ``frame / fps`` wrong for clinic video, and both are handled here once:

* **Variable frame rate.** Phones drop to 30 fps in poor light and return to 60; the file's
  per-frame presentation timestamps (PTS) are the only true clock. A clip filmed at 60 fps for
  its first half and 30 fps for the second holds 1.5× the frames a 30 fps clip of the same
  run would; counting frames at a mean rate squeezes the second half and stretches the first
  (``analyze`` reported 83.4 instead of 169.1 steps/min on such a file).
* **Slow motion.** A 240 fps capture that plays at 30 fps (Android writes
  ``com.android.capture.fps``) runs 8× slow on the file's clock: real time is playback time ×
  container rate / capture rate (:func:`real_time_s`, the same rule as
  the video engine, fed by the same capture-rate detection as import,
  :func:`app.video.probe.guess_capture_fps`).

:class:`Timebase` is immutable and Qt-free; the analysis builds one per file and the UI may
share it (the marking panel's "real time" column, event times).

Stored with the recording: :func:`timestamp_map` turns a file's frame index into a small JSON
value (the PTS as zlib-packed integer steps, exact; a constant-rate file packs into a few dozen
bytes) kept in ``recording.timestamps``, and :meth:`Timebase.from_record` rebuilds the time
base from that row alone, so the visits table, Prescribe, History, the home program and
exports read marks from the database without decoding any video, on the same clock as the
marking panel. A row without a map (imported before the map existed, not yet reopened) falls
back to the recording's rates, ``frame / capture rate``; opening the video fills the map in.
"""

from __future__ import annotations

import base64
import hashlib
import math
import zlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from app.video.probe import FrameIndex, VideoInfo

#: Version of the stored timestamp map (``recording.timestamps``).
MAP_VERSION = 1

# Intervals further than this from the median count as a rate change (25 % as in the probe).
_VFR_TOLERANCE = 0.25


def real_time_s(
    pts_s: np.ndarray | float, container_fps: float | None, capture_fps: float | None
) -> np.ndarray | float:
    """Map playback seconds since the first frame to real (captured) seconds.

    ``real = pts_s * container_fps / capture_fps``. Using timestamps rather than
    ``index / capture_fps`` keeps variable-frame-rate phone video right (dropped or irregular
    frames keep their true time); for a constant-rate file the two are identical. Without a
    capture rate (or container rate) the playback time is returned unchanged.
    """
    if capture_fps and container_fps:
        return pts_s * (container_fps / capture_fps)
    return pts_s


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
        return cls.from_index(info, index, capture, source=source, default_fps=30.0)

    @classmethod
    def from_index(
        cls,
        info: VideoInfo,
        index: FrameIndex,
        capture_fps: float | None,
        *,
        source: str = "",
        default_fps: float | None = None,
    ) -> Timebase:
        """The time base of a probed file (the video engine's rule, :mod:`app.video.frame_server`).

        The timestamps are used unless the file has none (made up from index / rate) or no
        plausible container rate (timestamps implying an absurd rate are not trusted): then the
        frames are taken as evenly spaced at the capture rate, else the container rate, else
        ``default_fps``; with none of these a :class:`ValueError` is raised.
        """
        rate = info.container_fps
        n = max(1, len(index.pts))
        if index.synthetic or rate is None or len(index.pts) < 2:
            uniform = (capture_fps or rate) if rate is None else rate
            uniform = uniform or default_fps
            if not uniform:
                raise ValueError("the file has no usable timestamps and no frame rate")
            return cls(np.arange(n) / uniform, uniform if rate is None else rate, capture_fps,
                       source)  # fmt: skip
        return cls(np.asarray(index.pts_s, dtype=float), rate, capture_fps, source)

    @classmethod
    def from_record(cls, rec: Any, *, n_frames: int | None = None) -> Timebase:
        """The time base of a stored recording, from its row alone (no video decode).

        ``rec`` is anything with ``timestamps`` (the map of :func:`timestamp_map`, or None),
        ``container_fps``, ``capture_fps`` and ``frame_count``: a :class:`app.db.models.Recording`
        or a row read for it. Without a map the frames are evenly spaced at the capture rate
        (else the container rate, else 30), the rule rows had before maps were stored.
        ``n_frames`` (e.g. one past the last marked frame) lengthens a map-less time base.
        """
        container = _rate(getattr(rec, "container_fps", None))
        capture = _rate(getattr(rec, "capture_fps", None))
        stored = getattr(rec, "timestamps", None)
        playback = _unpack(stored) if stored else None
        if playback is not None and container is not None:
            return cls(playback, container, capture, "recording")
        n = (stored or {}).get("n") if isinstance(stored, dict) else None
        n = max(int(n or 0), int(getattr(rec, "frame_count", None) or 0), int(n_frames or 0), 1)
        if container is None:
            rate = capture or 30.0
            return cls(np.arange(n) / rate, rate, None, "recording")
        return cls(np.arange(n) / container, container, capture, "recording")

    def with_capture_fps(self, capture_fps: float | None) -> Timebase:
        """The same file clock with another capture rate (the clinician edited it)."""
        return Timebase(self.playback_s, self.container_fps, capture_fps, "given")

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

    @property
    def key(self) -> tuple[int, float, str]:
        """A value equal for equal time bases (for memoising figures computed on one)."""
        digest = hashlib.blake2b(self._times.tobytes(), digest_size=12).hexdigest()  # type: ignore[attr-defined]
        return (self.n_frames, float(self._scale), digest)  # type: ignore[attr-defined]

    def times_of(self, frames: Any) -> np.ndarray:
        """Real times of (possibly fractional) ``frames``; beyond the clip the frame spacing at
        that end continues (marks kept past the readable end of a damaged file keep a time)."""
        f = np.asarray(frames, dtype=float)
        ts = self._times  # type: ignore[attr-defined]
        n = self.n_frames
        if n == 1:
            step = 1.0 / self.real_fps if self.real_fps else 1.0 / 30.0
            return ts[0] + f * step
        out = np.interp(f, np.arange(n), ts)
        first, last = ts[1] - ts[0], ts[-1] - ts[-2]
        out = np.where(f < 0, ts[0] + f * first, out)
        return np.where(f > n - 1, ts[-1] + (f - (n - 1)) * last, out)

    def retime(self, track: Any) -> Any:
        """``track`` (a :class:`app.analysis.keypoints.KeypointTrack` decoded from this file, one
        row per frame) with this clock's real times. A track longer than the index (a damaged
        index) keeps its decoder times, scaled from playback to real time."""
        n = int(track.n_frames)
        if n <= self.n_frames:
            out = track.with_times(self._times[:n].copy())  # type: ignore[attr-defined]
        else:
            out = track.with_times((track.times - track.times[0]) * self._scale)  # type: ignore[attr-defined]
        out.meta["retimed"] = True
        return out

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


def _rate(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def timestamp_map(info: VideoInfo, index: FrameIndex) -> dict[str, Any]:
    """What :meth:`Timebase.from_record` needs of a file's clock, as a small JSON value.

    ``{"v": 1, "n": frames, "time_base": "1/90000", "steps": base64(zlib(int64 PTS steps))}``:
    exact (the integer timestamps themselves). A file without usable timestamps or container
    rate stores only its frame count (``"uniform": true``): its frames are evenly spaced.
    """
    n = int(len(index.pts))
    if index.synthetic or info.container_fps is None or n < 2:
        return {"v": MAP_VERSION, "n": max(n, 1), "uniform": True}
    pts = np.asarray(index.pts, dtype=np.int64)
    steps = np.diff(pts - pts[0]).astype("<i8")
    packed = base64.b64encode(zlib.compress(steps.tobytes(), 9)).decode("ascii")
    tb = Fraction(index.time_base)
    return {"v": MAP_VERSION, "n": n, "time_base": f"{tb.numerator}/{tb.denominator}",
            "steps": packed}  # fmt: skip


def _unpack(stored: Any) -> np.ndarray | None:
    """Playback seconds of every frame from a stored map, or None (uniform / unreadable)."""
    if not isinstance(stored, dict) or stored.get("v") != MAP_VERSION or stored.get("uniform"):
        return None
    try:
        tb = Fraction(str(stored["time_base"]))
        raw = zlib.decompress(base64.b64decode(str(stored["steps"]), validate=True))
        steps = np.frombuffer(raw, dtype="<i8")
    except (KeyError, ValueError, ZeroDivisionError, zlib.error):
        return None
    if len(steps) + 1 != int(stored.get("n", -1)) or tb <= 0 or np.any(steps <= 0):
        return None
    return np.concatenate([[0], np.cumsum(steps)]).astype(float) * float(tb)
