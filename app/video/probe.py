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

Camcorder files
---------------
MPEG transport streams (``.ts``, ``.mts``, AVCHD ``.m2ts``) and MPEG program streams
(``.mpg``, ``.vob``) carry no seek index, and their 33-bit timestamps often start hours from
zero or wrap at 2^33. Seeking them by timestamp bisects the file and lands on the keyframe
*after* the target, so :class:`FrameIndex` records each keyframe's byte position and the
decoder seeks those formats by byte (``byte_seek``). The first picture is decoded during the
indexing pass itself, never after a seek back.

Still pictures and unfinished files
-----------------------------------
A photo renamed ``.mp4`` opens in FFmpeg as a one-frame "video": it is refused as a still
picture. A recording still being written (or cut off) keeps its readable part, and
:attr:`VideoInfo.incomplete_note` says how much could be read and why it is short.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field, replace
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
# A file modified this recently that looks cut off is watched this long to see if it grows.
RECENT_WRITE_S = 5.0
GROWTH_WAIT_S = 0.3

_CAPTURE_KEYS = ("com.android.capture.fps", "com.apple.quicktime.capture.fps")
_APPLE_SLOMO_KEY = "com.apple.quicktime.full-frame-rate-playback-intent"

# Demuxers without a seek index whose timestamp seeks bisect the file (MPEG-TS/M2TS, MPEG-PS):
# they are seeked by the byte position of a keyframe packet instead.
BYTE_SEEK_FORMATS = frozenset({"mpegts", "mpegtsraw", "mpeg", "mpegvideo"})
# Packets decoded while indexing to find the first picture that decodes on its own.
FIRST_PICTURE_PACKETS = 300

STILL_PICTURE_MESSAGE = (
    "This is a still picture, not a video (for example a photo whose name ends in .mp4). "
    "Choose the video file of the recording."
)
# Picture demuxers that may hold an animation (judged by their frame count instead).
_ANIMATED_DEMUXERS = frozenset({"apng", "gif", "webp", "jpegxl_anim"})
# Codecs that hold still images; one frame of one of these is a picture, not a recording.
_IMAGE_CODECS = frozenset({"png", "apng", "mjpeg", "jpeg2000", "bmp", "tiff", "webp", "gif", "qoi"})
# Major brands of ISO-BMFF files that are pictures (HEIC/HEIF/AVIF photos from phones).
_IMAGE_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")


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
    announced_frames: int | None = None
    """Frames the file announces when fewer could be read (``None`` when all could)."""
    incomplete_note: str | None = None
    """Plain sentence when only part of the file could be read (cut off or still being
    written): how many frames and seconds were read and why the rest is missing."""


@dataclass(frozen=True)
class FrameIndex:
    """Presentation timestamps of every frame in display order (stream time-base units)."""

    pts: np.ndarray
    time_base: Fraction
    keyframe_pts: np.ndarray = field(repr=False)
    synthetic: bool = False
    """True when the file had no usable timestamps and they were made from index / fps."""
    keyframe_pos: np.ndarray | None = field(default=None, repr=False)
    """Byte offset to seek to for each keyframe (same order as ``keyframe_pts``)."""
    byte_seek: bool = False
    """Seek by byte position (``keyframe_pos``): the container has no usable seek index."""

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
    if _picture_signature(p):
        raise NotAVideo(STILL_PICTURE_MESSAGE, path=p, detail="picture file signature")
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


def _picture_signature(p: Path) -> bool:
    """True when the first bytes are those of a picture file (PNG, BMP, TIFF, WebP, HEIC...).

    JPEG is not judged here: a raw Motion-JPEG stream starts with the same bytes. FFmpeg's
    answer (an image demuxer, one frame) settles JPEG in :func:`_refuse_still_picture`.
    """
    try:
        with p.open("rb") as fh:
            head = fh.read(16)
    except OSError:
        return False
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*")):
        return True
    if head[:2] == b"BM" and head[6:10] == b"\x00\x00\x00\x00":  # BMP: size, then 4 zeros
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return True
    return head[4:8] == b"ftyp" and head[8:12] in _IMAGE_BRANDS


def _refuse_still_picture(
    container: av.container.InputContainer, stream: av.video.VideoStream, p: Path, frames: int
) -> None:
    """Raise :class:`NotAVideo` when FFmpeg opened a picture as a one-frame "video".

    A picture reader (``png_pipe``, ``jpeg_pipe``, ``image2``...) is refused outright; a single
    frame of a still-image codec in any container too (a one-frame recording is no recording).
    """
    fmt = container.format.name
    names = set(fmt.split(","))
    picture_reader = fmt.endswith("_pipe") or "image2" in names
    codec = stream.codec_context.name if stream.codec_context is not None else ""
    if (picture_reader and not names & _ANIMATED_DEMUXERS) or (
        frames <= 1 and codec in _IMAGE_CODECS
    ):
        raise NotAVideo(STILL_PICTURE_MESSAGE, path=p, detail=f"{fmt}/{codec}, {frames} frame(s)")


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
    info, index, _first = scan_with_first_picture(path)
    return info, index


def scan_with_first_picture(
    path: str | Path,
) -> tuple[VideoInfo, FrameIndex, av.VideoFrame | None]:
    """:func:`scan_index`, plus frame 0 as the scan decoded it (to prove the codec works):
    a keyframe picture with frame 0's timestamp, or None. An intra picture decodes the same
    whatever came before it, so a frame server can show it at once instead of seeking."""
    p = Path(path)
    before = _file_state(p)
    container = open_container(p)
    try:
        info, index, first = _scan(container, p)
    except VideoError:
        raise
    except (av.error.FFmpegError, OSError, ValueError, RuntimeError) as exc:
        raise CorruptVideo(path=p, detail=str(exc)) from exc
    finally:
        container.close()
    if info.is_truncated:
        # A recording still being written grows between two looks; a cut-off copy does not.
        growing = _file_state(p) != before or _grows_within(p, GROWTH_WAIT_S)
        note = _incomplete_note(info, growing=growing)
        info = replace(info, incomplete_note=note, warnings=(*info.warnings, note))
    return info, index, first


def probe(path: str | Path) -> VideoInfo:
    """Describe the video at ``path`` (see module docstring); raises :class:`VideoError`."""
    return scan_index(path)[0]


def _file_state(p: Path) -> tuple[int, int] | None:
    try:
        st = p.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _grows_within(p: Path, seconds: float) -> bool:
    """True when a file modified moments ago changes again within ``seconds``."""
    first = _file_state(p)
    if first is None or time.time() - first[1] / 1e9 > RECENT_WRITE_S:
        return False  # untouched for a while: cut off, not being written
    time.sleep(seconds)
    return _file_state(p) != first


def _incomplete_note(info: VideoInfo, *, growing: bool) -> str:
    """The clinician's sentence for a partly readable file: what was read, why it is short."""
    n, secs = info.frame_count, info.duration_s
    announced = info.announced_frames
    if announced and announced > n and info.container_fps:
        read = f"{n} of {announced} frames ({secs:.1f} of {announced / info.container_fps:.1f} s)"
    else:
        read = f"{n} frames ({secs:.1f} s)"
    why = (
        "The file is still being written (it grew while it was read): import it again when "
        "the recording has finished."
        if growing
        else "The file seems to be still being written or was cut off (an interrupted "
        "recording or an unfinished copy)."
    )
    return f"Only the first part of this video could be read: {read}. {why}"


def _scan(
    container: av.container.InputContainer, p: Path
) -> tuple[VideoInfo, FrameIndex, av.VideoFrame | None]:
    stream = video_stream(container, p)
    warnings: list[str] = []
    tb = stream.time_base or Fraction(1, 90000)
    header_frames = int(stream.frames or 0)
    header_fps = float(stream.average_rate) if stream.average_rate else None
    if not _sane(header_fps):
        header_fps = float(stream.guessed_rate) if stream.guessed_rate else None
    byte_seek = bool(set(container.format.name.split(",")) & BYTE_SEEK_FORMATS)
    first = _FirstPicture(stream, p)

    # One pass: demux every packet (no decoding) to list each frame's timestamp and keyframe
    # byte position, and decode only the first few packets for the first picture, so the
    # first frame is proven without seeking back (seeks are unreliable in MPEG-TS/PS).
    pts_list: list[int] = []
    key_list: list[int] = []
    key_pos: list[int] = []
    last_pos = 0
    prev_ts: int | None = None
    missing_ts = backwards_jumps = corrupt_tail = 0
    read_error = ""
    try:
        for n, packet in enumerate(container.demux(stream)):
            if n >= MAX_PACKETS:
                warnings.append("Video is extremely long; only the first part is used.")
                break
            if packet.size == 0:
                continue
            first.feed(packet)
            if packet.pos is not None and packet.pos >= 0:
                # MPEG-PS leaves some packets without a position: seek from the one before.
                last_pos = int(packet.pos)
            if packet.is_discard:
                continue
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is None:
                missing_ts += 1
                ts = -1
            elif packet.dts is not None:
                # 33-bit MPEG clocks wrap after 26.5 h; FFmpeg unwraps once. A jump back by
                # more than half the clock range means the unwrapping failed.
                if prev_ts is not None and prev_ts - packet.dts > 2**32:
                    backwards_jumps += 1
                prev_ts = int(packet.dts)
            pts_list.append(int(ts))
            corrupt_tail = corrupt_tail + 1 if packet.is_corrupt else 0
            if packet.is_keyframe:
                key_list.append(int(ts))
                key_pos.append(last_pos)
    except (av.error.FFmpegError, OSError) as exc:
        # Damaged tail: keep what was read before it.
        read_error = str(exc)
    if corrupt_tail and corrupt_tail < len(pts_list):
        # The last pictures run past the end of a cut-off file: they cannot be decoded.
        cut = set(pts_list[-corrupt_tail:])
        del pts_list[-corrupt_tail:]
        kept = [(k, q) for k, q in zip(key_list, key_pos, strict=True) if k not in cut]
        key_list, key_pos = [k for k, _ in kept], [q for _, q in kept]
        read_error = read_error or "last packet cut off"

    if not pts_list:
        raise CorruptVideo(
            "No picture could be read from this video: it is damaged or empty.",
            path=p,
            detail=read_error,
        )
    rotation, coded_w, coded_h, first_pts = first.result()
    _refuse_still_picture(container, stream, p, len(pts_list))

    synthetic = missing_ts > 0 or backwards_jumps > 0 or len(set(pts_list)) != len(pts_list)
    if synthetic:
        if not _sane(header_fps):
            header_fps = None
        step = 1.0 / (header_fps or 30.0) / float(tb)
        pts = np.round(np.arange(len(pts_list)) * step).astype(np.int64)
        keys = pts[:1]
        kpos = np.zeros(1, dtype=np.int64)
        warnings.append("The file's frame timestamps are unusable; times are computed from fps.")
    else:
        pts = np.sort(np.asarray(pts_list, dtype=np.int64))
        if not key_list:
            key_list, key_pos = pts_list[:1], [0]
        order = np.argsort(np.asarray(key_list, dtype=np.int64), kind="stable")
        keys = np.asarray(key_list, dtype=np.int64)[order]
        kpos = np.asarray(key_pos, dtype=np.int64)[order]
        if first_pts is not None and first_pts in set(pts_list) and pts[0] < first_pts:
            # Leading frames that need a picture from before the file start (an open GOP at
            # the start of a transport stream) never decode: they are not part of the video.
            pts = pts[pts >= first_pts]
            keep = keys >= first_pts
            keys, kpos = keys[keep], kpos[keep]
            if not len(keys):
                keys, kpos = pts[:1], np.zeros(1, dtype=np.int64)

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
    # or the timestamps stop well before the duration the header announces (Matroska,
    # fragmented MP4), or the last ISO box runs past the end of the file.
    if header_frames < len(pts):
        header_frames = 0  # counts one fragment of a fragmented MP4, not the whole file
    announced_frames = header_frames
    is_truncated = bool(read_error) or (header_frames > 0 and len(pts) < header_frames - 1)
    announced = _announced_duration(container, stream)
    if announced and len(pts) > 1 and not synthetic and container_fps:
        covered = float((pts[-1] - pts[0]) * tb) + 1.0 / container_fps
        if announced - covered > max(3.0 / container_fps, 0.1):
            is_truncated = True
            announced_frames = max(announced_frames, round(announced * container_fps))
    cut_off, fragmented = _iso_layout(p)
    is_truncated = is_truncated or cut_off
    if fragmented:
        # Each fragment announces only itself: the length of the whole recording is unknown.
        announced_frames = 0
    if is_truncated:
        warnings.append(
            f"The video is incomplete: {len(pts)} frames could be read"
            + (f" of {header_frames}." if header_frames else ".")
        )

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
        announced_frames=announced_frames if announced_frames > len(pts) else None,
    )
    index = FrameIndex(
        pts=pts,
        time_base=tb,
        keyframe_pts=keys,
        synthetic=synthetic,
        keyframe_pos=kpos if byte_seek else None,
        byte_seek=byte_seek,
    )
    key = first.key
    frame0 = key if key is not None and not synthetic and key.pts == int(pts[0]) else None
    return info, index, frame0


def _iso_layout(p: Path) -> tuple[bool, bool]:
    """``(cut off, fragmented)`` from the top-level boxes of an MP4/MOV file.

    Cut off: the last box runs past the end of the file. A fragmented MP4 (``moof`` boxes)
    that a camera is still writing, or that was cut off, opens and plays up to its last
    complete fragment, so nothing else says it is short.
    """
    if not _looks_like_quicktime(p):
        return False, False
    fragmented = False
    try:
        size = p.stat().st_size
        with p.open("rb") as fh:
            at = 0
            for _ in range(100_000):  # bounded: a hostile file cannot loop us
                if at + 8 > size:
                    return at != size, fragmented
                fh.seek(at)
                head = fh.read(16)
                box = int.from_bytes(head[:4], "big")
                fragmented = fragmented or head[4:8] == b"moof"
                if box == 1 and len(head) >= 16:
                    box = int.from_bytes(head[8:16], "big")  # 64-bit "largesize"
                elif box == 0:
                    return False, fragmented  # "extends to end of file": nothing to judge
                if box < 8:
                    return False, fragmented  # not a box structure we understand
                at += box
    except OSError:
        pass
    return False, fragmented


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


class _FirstPicture:
    """Decodes the first packets while indexing: the first picture that decodes on its own.

    Proves the codec works and gives rotation, coded size and the first decodable pts. Frames
    before the first keyframe picture (open-GOP leftovers at a transport-stream start) are
    passed over; a stream without keyframe pictures (intra refresh) uses its first frame.
    """

    def __init__(self, stream: av.video.VideoStream, p: Path) -> None:
        self.stream = stream
        self.path = p
        self.packets = 0
        self.key: av.VideoFrame | None = None
        self.any: av.VideoFrame | None = None
        self.error = ""

    def feed(self, packet: av.Packet) -> None:
        if self.key is not None or self.packets >= FIRST_PICTURE_PACKETS:
            return
        self.packets += 1
        try:
            self._take(packet.decode())
        except av.error.DecoderNotFoundError as exc:
            raise UnsupportedCodec(path=self.path, detail=str(exc)) from exc
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            self.error = str(exc)  # one damaged packet: the next may decode

    def _take(self, frames: list[av.VideoFrame]) -> None:
        for frame in frames:
            if self.any is None:
                self.any = frame
            if frame.key_frame and self.key is None:
                self.key = frame

    def result(self) -> tuple[int, int, int, int | None]:
        """``(rotation, coded width, coded height, pts of the first picture)``."""
        if self.key is None:
            # Short clips and still pictures only come out when the decoder is drained.
            with contextlib.suppress(av.error.FFmpegError, OSError, ValueError):
                self._take(self.stream.codec_context.decode(None))
        frame = self.key or self.any
        if frame is None:
            if self.error:
                raise CorruptVideo(
                    "The first picture of this video cannot be decoded: the file is damaged "
                    "or uses an unsupported format.",
                    path=self.path,
                    detail=self.error,
                )
            raise CorruptVideo(
                "No picture could be decoded from this video: it is damaged.",
                path=self.path,
                frames_readable=0,
            )
        rotation = int(round((frame.rotation or 0) / 90.0)) * 90 % 360
        return rotation, frame.width, frame.height, frame.pts
