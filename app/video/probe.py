"""Read what a video file holds without decoding all of it: size, rotation, rates, timestamps.

:func:`probe` opens the file with PyAV, reads every packet header once (demuxing only, about
50 ms for 150 MB) to build the per-frame presentation-timestamp table, and decodes the first
frame to prove the file is usable and to read its rotation. It never decodes the whole clip.

Frame rates
-----------
``container_fps`` is the playback rate written in the file. ``capture_fps_guess`` is how many
frames were *captured* per real second, when the file says so:

* Android slow motion writes ``com.android.capture.fps`` (e.g. 240) in a file that plays at
  30 fps: every time must then be divided by 8.
* Apple slow-motion originals are stored at the capture rate (a 240 fps stream) and mark it
  with ``com.apple.quicktime.full-frame-rate-playback-intent``; any stream at >= 100 fps is
  likewise taken to be stored at its capture rate.
* Otherwise the guess is ``None`` and the app should assume capture = playback, but let the
  clinician edit it (an exported slow-motion clip often loses its tag).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from app.video.errors import (
    CorruptVideo,
    NotAVideo,
    UnsupportedCodec,
    VideoError,
    VideoNotFound,
)

# Frame rates outside this range are treated as missing metadata, not believed.
MIN_SANE_FPS = 1.0
MAX_SANE_FPS = 2000.0
# A phone at >= this rate stores frames at their capture rate (no playback retiming).
HIGH_SPEED_FPS = 100.0
# Bound on packets read while indexing: ~2.3 h at 240 fps. Keeps a hostile file from hanging us.
MAX_PACKETS = 2_000_000

_CAPTURE_KEYS = ("com.android.capture.fps", "com.apple.quicktime.capture.fps")
_APPLE_SLOMO_KEY = "com.apple.quicktime.full-frame-rate-playback-intent"


@dataclass(frozen=True)
class VideoInfo:
    """What the video holds. Sizes are as displayed (rotation already applied)."""

    path: Path
    container_format: str
    codec: str
    width: int
    height: int
    coded_width: int
    coded_height: int
    rotation: int
    """Degrees counter-clockwise the stored picture is turned for display (0, 90, 180, 270)."""
    frame_count: int
    duration_s: float
    container_fps: float | None
    """Playback rate from the file, or from the timestamps when the header is absurd."""
    capture_fps_guess: float | None
    capture_fps_source: str
    is_vfr: bool
    has_audio: bool
    is_truncated: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class FrameIndex:
    """Presentation timestamps of every frame in display order (stream time-base units)."""

    pts: np.ndarray
    time_base: Fraction
    keyframe_pts: np.ndarray = field(repr=False)
    synthetic: bool = False
    """True when the file had no usable timestamps and they were made from index / fps."""

    @property
    def pts_s(self) -> np.ndarray:
        return (self.pts - self.pts[0]) * float(self.time_base) if len(self.pts) else self.pts


def open_container(path: str | Path) -> av.container.InputContainer:
    """Open ``path`` with PyAV, translating every failure into a :class:`VideoError`."""
    p = Path(path)
    if not p.exists():
        raise VideoNotFound(path=p)
    if p.is_dir():
        raise NotAVideo("This is a folder, not a video file.", path=p)
    size = p.stat().st_size
    if size == 0:
        raise NotAVideo("This video file is empty (0 bytes): the recording or copy failed.", path=p)
    try:
        return av.open(str(p), mode="r", timeout=10.0)
    except FileNotFoundError as exc:
        raise VideoNotFound(path=p, detail=str(exc)) from exc
    except PermissionError as exc:
        raise VideoError(
            "The program is not allowed to read this file. Check its permissions.",
            path=p,
            detail=str(exc),
        ) from exc
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        if _looks_like_quicktime(p):
            # ISO/QuickTime files keep their index at the end: a cut-off recording has none.
            raise CorruptVideo(
                "This recording is incomplete (the end of the file, which holds its index, is "
                "missing). It was probably interrupted or not fully copied from the phone.",
                path=p,
                detail=str(exc),
            ) from exc
        raise NotAVideo(path=p, detail=str(exc)) from exc


def _looks_like_quicktime(p: Path) -> bool:
    try:
        with p.open("rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return len(head) >= 8 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free")


def video_stream(container: av.container.InputContainer, path: Path) -> av.video.VideoStream:
    """The first video stream, or :class:`NotAVideo` / :class:`UnsupportedCodec`."""
    if not container.streams.video:
        if container.streams.audio:
            raise NotAVideo("This file holds only sound, no picture.", path=path)
        raise NotAVideo(path=path)
    stream = container.streams.video[0]
    if stream.codec_context is None:
        raise UnsupportedCodec(path=path, detail="no decoder for stream")
    return stream


def _sane(fps: float | None) -> bool:
    return fps is not None and math.isfinite(fps) and MIN_SANE_FPS <= fps <= MAX_SANE_FPS


def _parse_fps(value: str) -> float | None:
    try:
        fps = float(str(value).strip().split()[0])
    except (ValueError, IndexError):
        return None
    return fps if _sane(fps) else None


def guess_capture_fps(
    metadata: dict[str, str], container_fps: float | None
) -> tuple[float | None, str]:
    """Return ``(capture fps or None, human-readable source)`` from container/stream tags."""
    lowered = {k.lower(): v for k, v in metadata.items()}
    for key in _CAPTURE_KEYS:
        if key in lowered and (fps := _parse_fps(lowered[key])) is not None:
            return fps, f"file tag {key}"
    for key, value in lowered.items():
        # Vendors spell it differently; any "capture ... fps/frame rate" tag is a capture rate.
        if "capture" in key and ("fps" in key or "frame" in key and "rate" in key):
            fps = _parse_fps(value)
            if fps is not None:
                return fps, f"file tag {key}"
    if _APPLE_SLOMO_KEY in lowered and _sane(container_fps):
        return container_fps, "Apple slow-motion original (stored at capture rate)"
    if container_fps is not None and _sane(container_fps) and container_fps >= HIGH_SPEED_FPS:
        return container_fps, "high-speed file (stored at capture rate)"
    return None, "no capture-rate tag: assume the playback rate unless you know otherwise"


def scan_index(path: str | Path) -> tuple[VideoInfo, FrameIndex]:
    """Probe ``path`` and return its :class:`VideoInfo` and :class:`FrameIndex`."""
    p = Path(path)
    container = open_container(p)
    try:
        return _scan(container, p)
    except VideoError:
        raise
    except (av.error.FFmpegError, OSError, ValueError, RuntimeError) as exc:
        raise CorruptVideo(path=p, detail=str(exc)) from exc
    finally:
        container.close()


def probe(path: str | Path) -> VideoInfo:
    """Describe the video at ``path`` (see module docstring); raises :class:`VideoError`."""
    return scan_index(path)[0]


def _scan(container: av.container.InputContainer, p: Path) -> tuple[VideoInfo, FrameIndex]:
    stream = video_stream(container, p)
    warnings: list[str] = []
    tb = stream.time_base or Fraction(1, 90000)
    header_frames = int(stream.frames or 0)
    header_fps = float(stream.average_rate) if stream.average_rate else None
    if not _sane(header_fps):
        header_fps = float(stream.guessed_rate) if stream.guessed_rate else None

    # Pass 1: demux only (no decoding) to list each frame's timestamp.
    pts_list: list[int] = []
    key_list: list[int] = []
    missing_ts = 0
    read_error = ""
    try:
        for n, packet in enumerate(container.demux(stream)):
            if n >= MAX_PACKETS:
                warnings.append("Video is extremely long; only the first part is used.")
                break
            if packet.size == 0 or packet.is_discard:
                continue
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is None:
                missing_ts += 1
                ts = -1
            pts_list.append(int(ts))
            if packet.is_keyframe:
                key_list.append(int(ts))
    except (av.error.FFmpegError, OSError) as exc:
        # Damaged tail: keep what was read before it.
        read_error = str(exc)

    if not pts_list:
        raise CorruptVideo(
            "No picture could be read from this video: it is damaged or empty.",
            path=p,
            detail=read_error,
        )

    synthetic = missing_ts > 0 or len(set(pts_list)) != len(pts_list)
    if synthetic:
        if not _sane(header_fps):
            header_fps = None
        step = 1.0 / (header_fps or 30.0) / float(tb)
        pts = np.round(np.arange(len(pts_list)) * step).astype(np.int64)
        keys = pts[:1]
        warnings.append("The file's frame timestamps are unusable; times are computed from fps.")
    else:
        pts = np.sort(np.asarray(pts_list, dtype=np.int64))
        keys = np.sort(np.asarray(key_list or pts_list[:1], dtype=np.int64))

    # Frame rate: the header, or the timestamps when the header is missing or absurd.
    diffs = np.diff(pts) * float(tb) if len(pts) > 1 else np.array([])
    ts_fps = 1.0 / float(np.median(diffs)) if len(diffs) and np.median(diffs) > 0 else None
    container_fps = header_fps if _sane(header_fps) else (ts_fps if _sane(ts_fps) else None)
    if container_fps is not None and not _sane(header_fps):
        warnings.append("Frame rate missing from the file; computed from frame timestamps.")
    if container_fps is None:
        warnings.append("Frame rate unknown: enter the recording frame rate.")
    is_vfr = bool(
        len(diffs) > 2 and not synthetic and (diffs.max() - diffs.min()) > 0.25 * np.median(diffs)
    )

    # Truncation: fewer frames than the header promises (AVI/MKV/MP4 with a complete header),
    # or the timestamps stop well before the duration the header announces (Matroska).
    is_truncated = bool(read_error) or (header_frames > 0 and len(pts) < header_frames - 1)
    announced = _announced_duration(container, stream)
    if announced and len(pts) > 1 and not synthetic and container_fps:
        covered = float((pts[-1] - pts[0]) * tb) + 1.0 / container_fps
        is_truncated = is_truncated or announced - covered > max(3.0 / container_fps, 0.1)
    if is_truncated:
        warnings.append(
            f"The video is incomplete: {len(pts)} frames could be read"
            + (f" of {header_frames}." if header_frames else ".")
        )

    rotation, coded_w, coded_h = _first_frame_facts(container, stream, p, int(pts[0]))
    metadata = {**dict(container.metadata), **dict(stream.metadata)}
    capture, source = guess_capture_fps(metadata, container_fps)
    if len(pts) > 1 and not synthetic:
        duration = float((pts[-1] - pts[0]) * tb) + (1.0 / container_fps if container_fps else 0)
    else:
        duration = len(pts) / container_fps if container_fps else 0.0
    swap = rotation in (90, 270)
    info = VideoInfo(
        path=p,
        container_format=container.format.name,
        codec=stream.codec_context.name,
        width=coded_h if swap else coded_w,
        height=coded_w if swap else coded_h,
        coded_width=coded_w,
        coded_height=coded_h,
        rotation=rotation,
        frame_count=len(pts),
        duration_s=duration,
        container_fps=container_fps,
        capture_fps_guess=capture,
        capture_fps_source=source,
        is_vfr=is_vfr,
        has_audio=bool(container.streams.audio),
        is_truncated=is_truncated,
        warnings=tuple(warnings),
    )
    return info, FrameIndex(pts=pts, time_base=tb, keyframe_pts=keys, synthetic=synthetic)


def _announced_duration(
    container: av.container.InputContainer, stream: av.video.VideoStream
) -> float | None:
    """Duration the header announces for the video, in seconds, if it is trustworthy."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration and not container.streams.audio:
        # The container's duration covers all streams: only use it for silent files.
        return container.duration / 1_000_000
    return None


def _first_frame_facts(
    container: av.container.InputContainer, stream: av.video.VideoStream, p: Path, first_pts: int
) -> tuple[int, int, int]:
    """Decode the first frame: proves the codec works and gives rotation and coded size."""
    with contextlib.suppress(av.error.FFmpegError):
        container.seek(first_pts, stream=stream, backward=True)
    try:
        # Bounded by the file: decode() ends at end of file even if no frame ever comes out.
        for frame in container.decode(stream):
            rotation = int(round((frame.rotation or 0) / 90.0)) * 90 % 360
            return rotation, frame.width, frame.height
    except av.error.DecoderNotFoundError as exc:
        raise UnsupportedCodec(path=p, detail=str(exc)) from exc
    except (av.error.FFmpegError, OSError) as exc:
        raise CorruptVideo(
            "The first picture of this video cannot be decoded: the file is damaged or uses "
            "an unsupported format.",
            path=p,
            detail=str(exc),
        ) from exc
    raise CorruptVideo(
        "No picture could be decoded from this video: it is damaged.", path=p, frames_readable=0
    )
