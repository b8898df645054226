"""Test footage for live practice: a clip followed by the same clip re-timed by a known factor.

Played by :class:`app.capture.fakes.RealRateFileSource` at its stored times, it is a runner who
changes cadence by exactly ``factor`` at a known instant (the sample treadmill clip at 1.07×:
168.9 → 180.7 spm). Frames are stored as MJPEG in Matroska, as an MJPEG camera delivers them,
with each frame's own presentation time (millisecond time base).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from app.errors import ClinicError


class FootageError(ClinicError):
    """The clip cannot be read or the spliced file cannot be written."""


@dataclass(frozen=True)
class SplicedClip:
    path: Path
    frames_per_part: int
    fps: float
    factor: float
    change_s: float
    """Time (s, from the first frame) of the first frame of the re-timed part."""
    duration_s: float


def _read(src: Path) -> tuple[list, float]:  # type: ignore[type-arg]
    import av

    try:
        with av.open(str(src)) as c:
            s = c.streams.video[0]
            fps = float(s.average_rate or 30)
            frames = [f.to_ndarray(format="rgb24") for f in c.decode(s)]
    except (OSError, av.FFmpegError, IndexError) as exc:
        raise FootageError(f"The clip {src.name} cannot be read: {exc}") from exc
    if len(frames) < 2:
        raise FootageError(f"The clip {src.name} holds fewer than two frames.")
    return frames, fps


def _write(dst: Path, frames: list, times: list[float], rate: int, quality: int) -> None:  # type: ignore[type-arg]
    import av

    h, w = frames[0].shape[:2]
    try:
        with av.open(str(dst), "w", format="matroska") as out:
            st = out.add_stream("mjpeg", rate=rate)
            st.width, st.height = w, h
            st.pix_fmt = "yuvj420p"
            st.codec_context.qmin = st.codec_context.qmax = quality
            st.time_base = Fraction(1, 1000)
            st.codec_context.time_base = Fraction(1, 1000)
            for t, rgb in zip(times, frames, strict=True):
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts = int(round(t * 1000))
                frame.time_base = st.time_base
                for packet in st.encode(frame):
                    out.mux(packet)
            for packet in st.encode():
                out.mux(packet)
    except (OSError, av.FFmpegError) as exc:
        raise FootageError(f"The clip {dst} cannot be written: {exc}") from exc


def _check_factor(factor: float) -> None:
    if not math.isfinite(factor) or not 0.5 <= factor <= 2.0:
        raise FootageError(f"A re-timing factor of {factor} is not usable (0.5–2).")


def splice_retimed(source: str | Path, target: str | Path, factor: float = 1.07, *,
                   quality: int = 4) -> SplicedClip:  # fmt: skip
    """Write ``source`` then ``source`` again ``factor`` times faster into ``target`` (.mkv).

    ``quality`` is the MJPEG quantiser (2 best … 31 worst). Raises :class:`FootageError`.
    """
    _check_factor(factor)
    frames, fps = _read(Path(source))
    n = len(frames)
    change_s = n / fps
    times = [k / fps for k in range(n)] + [change_s + k / (fps * factor) for k in range(n)]
    _write(Path(target), frames + frames, times, int(round(fps * factor)) + 1, quality)
    return SplicedClip(Path(target), n, fps, factor, change_s, times[-1] + 1 / (fps * factor))


def retimed(source: str | Path, target: str | Path, factor: float = 1.0, *,
            quality: int = 4) -> Path:  # fmt: skip
    """One part of :func:`splice_retimed` alone: ``source`` played ``factor`` times faster,
    encoded the same way (the same frames as that part of the spliced file, from time 0)."""
    _check_factor(factor)
    frames, fps = _read(Path(source))
    times = [k / (fps * factor) for k in range(len(frames))]
    _write(Path(target), frames, times, int(round(fps * factor)) + 1, quality)
    return Path(target)
