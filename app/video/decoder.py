"""PyAV decoding primitives: frame conversion, a sequential reader and a frame-exact seeker.

Why PyAV and not ``cv2.VideoCapture``: PyAV gives every frame's presentation timestamp, so a
frame is identified by its pts (frame-exact by construction), and seeking lands on a keyframe
we then decode forward from until the wanted pts. ``CAP_PROP_POS_FRAMES`` seeking converts the
index to a time with the nominal fps, so it lands on the wrong frame in variable-frame-rate
video (measured: 88 of 240 seeks wrong on a 120-frame VFR H.264 clip; PyAV 0 of 240). On
constant-rate clips both were exact, and ``benchmarks/stepping.py`` measures both for speed.

MPEG-TS/M2TS and MPEG-PS have no seek index: a timestamp seek bisects the file and lands on
the keyframe after the target (or anywhere, once the 33-bit clock has wrapped). Those are
seeked by the byte position of the keyframe packet recorded while indexing, and pictures
before the keyframe picture are passed over. Every seek that misses steps back a keyframe,
and the last resort starts again from the first byte, so frame 0 is always reachable.

Neither class here is thread-safe: each thread owns its own instance (or guards it with a
lock).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import numpy as np

from app.video.errors import CorruptVideo, VideoError
from app.video.probe import FrameIndex, open_container, video_stream

# A seek lands on a keyframe at most one GOP before the target; phones write GOPs of up to
# ~1 s (240 frames at 240 fps). Beyond this many decoded frames a seek is declared failed.
MAX_FRAMES_PER_SEEK = 4000
# Decode forward instead of seeking when the target is at most this far ahead.
FORWARD_READ_LIMIT = 48
# A seek decodes the pictures between the keyframe and its target only as references: those
# that no other picture refers to (H.264/HEVC non-reference pictures, MPEG-2 B-frames) are
# passed over there (the decoder's own ``skip_frame`` = NONREF), which leaves every other
# picture bit-identical. Off for the last frames before the target that the caller keeps.
SKIP_UNNEEDED = True

Sink = Callable[[int, Callable[[], np.ndarray]], None]


def frame_to_rgb(frame: av.VideoFrame, rotation: int) -> np.ndarray:
    """RGB uint8 HxWx3, C-contiguous, turned for display (``rotation`` degrees CCW)."""
    rgb = frame.to_ndarray(format="rgb24")
    k = (rotation // 90) % 4
    if k:
        rgb = np.ascontiguousarray(np.rot90(rgb, k=k))
    return rgb


def decode_frames(
    container: av.container.InputContainer,
    stream: av.video.VideoStream,
    errors: list[str],
    skip: Callable[[av.Packet], bool] | None = None,
) -> Iterator[av.VideoFrame]:
    """Decoded frames of ``stream`` from the current position, passing over bad packets.

    One packet the decoder rejects (a damaged or cut-off picture) must not end decoding: the
    pictures still held for reordering would be lost with it. Its error goes to ``errors``
    and the end of the file still drains the decoder (PyAV's final empty packet).

    ``skip(packet)`` True: the packet's picture is not wanted, so the decoder may drop it if
    no other picture refers to it (``skip_frame`` NONREF, set per packet; it never changes
    the pictures decoded).
    """
    ctx = stream.codec_context
    skipping = False
    for packet in container.demux(stream):
        if skip is not None:
            want = skip(packet)
            if want != skipping:
                ctx.skip_frame = "NONREF" if want else "DEFAULT"
                skipping = want
        try:
            frames = packet.decode()
        except av.error.DecoderNotFoundError:
            raise
        except (av.error.FFmpegError, ValueError) as exc:
            errors.append(str(exc))
            continue
        yield from frames


def _translate(exc: Exception, path: Path, frames: int = 0) -> VideoError:
    return CorruptVideo(path=path, detail=str(exc), frames_readable=frames)


class SequentialReader:
    """Decode a whole clip from its first frame, yielding ``(index, pts, rgb)``.

    Frame indices come from counting decoded frames, so they are exact by construction.
    A damaged tail ends the iteration early (``error`` then holds the cause) instead of raising.
    """

    def __init__(self, path: str | Path, rotation: int, index: FrameIndex | None = None) -> None:
        self.path = Path(path)
        self.rotation = rotation
        self.error: VideoError | None = None
        # With real timestamps a frame is placed by its pts, not by counting: a decoder that
        # drops a frame (an open GOP at a transport-stream start, a damaged packet) must not
        # shift every later picture onto the wrong index.
        self._pts_to_index = (
            {int(p): i for i, p in enumerate(index.pts)}
            if index is not None and not index.synthetic
            else None
        )
        self._container = open_container(self.path)
        self._stream = video_stream(self._container, self.path)
        # Frame + slice threads: best throughput for a front-to-back pass.
        self._stream.thread_type = "AUTO"

    def frames(self, max_frames: int) -> Iterator[tuple[int, int | None, np.ndarray]]:
        """Yield ``(index, pts, rgb)`` in decode order; frames the index lacks are skipped."""
        n = 0
        errors: list[str] = []
        try:
            for frame in decode_frames(self._container, self._stream, errors):
                if n >= max_frames:
                    break
                idx = n
                if self._pts_to_index is not None:
                    idx = self._pts_to_index.get(frame.pts if frame.pts is not None else -1, -1)
                    if idx < 0:
                        continue
                yield idx, frame.pts, frame_to_rgb(frame, self.rotation)
                n += 1
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            self.error = _translate(exc, self.path, n)
        if errors and self.error is None:
            self.error = CorruptVideo(path=self.path, detail=errors[0], frames_readable=n)

    def close(self) -> None:
        self._container.close()


class SeekDecoder:
    """Random access to frame ``n`` by pts: keyframe seek, then decode forward to the pts.

    Consecutive forward requests continue decoding without seeking, so stepping forward
    through a not-yet-cached region costs one decode per frame, not one GOP.
    """

    def __init__(
        self, path: str | Path, index: FrameIndex, rotation: int, *, threads: str = "SLICE"
    ) -> None:
        self.path = Path(path)
        self.index = index
        self.rotation = rotation
        # "SLICE" for single frames after a seek (frame threads delay the first picture by a
        # frame per thread); "AUTO" (frame + slice) for GOP-long decodes, where throughput
        # counts. Both are frame-exact: every picture is placed by its pts, never by order.
        self._threads = threads
        self._container = open_container(self.path)
        self._stream = video_stream(self._container, self.path)
        self._stream.thread_type = threads
        self._pts_to_index = {int(p): i for i, p in enumerate(index.pts)}
        self._iter: Iterator[av.VideoFrame] | None = None
        self._next = -1  # index of the frame the open iterator yields next, -1 = unknown
        self._need_from = -1  # pictures before this index are only references (see SKIP_...)
        self.skipped = 0  # packets passed to the decoder as droppable (for tests, benchmarks)

    def set_index(self, index: FrameIndex) -> None:
        """Adopt a corrected index (the sequential pass found different timestamps)."""
        self.index = index
        self._pts_to_index = {int(p): i for i, p in enumerate(index.pts)}
        self._iter, self._next = None, -1

    def is_cheap(self, n: int) -> bool:
        """True when frame ``n`` is reachable by decoding forward a few frames (no seek)."""
        return self._iter is not None and 0 <= n - self._next <= FORWARD_READ_LIMIT // 4

    def decode(
        self, n: int, keep_from: int | None = None, sink: Sink | None = None
    ) -> dict[int, np.ndarray]:
        """Return ``{n: rgb}`` plus frames ``keep_from..n-1`` met on the way (for caching).

        With ``sink``, the frames before ``n`` go to ``sink(index, to_rgb)`` as they are decoded
        instead of into the result (a GOP of 1080p frames would not fit in memory at once);
        ``to_rgb()`` converts the picture when (and on whichever thread) it is wanted, so a
        caller that keeps only some frames converts only those.
        """
        if self.index.synthetic:
            got = self._decode_by_count(n, keep_from)
            if sink is not None:
                for i in sorted(k for k in got if k != n):
                    sink(i, functools.partial(got.pop, i))
            return got
        lo = n if keep_from is None else min(keep_from, n)
        self._need_from = lo
        target = int(self.index.pts[n])
        keys = self.index.keyframe_pts
        k = int(np.searchsorted(keys, target, side="right")) - 1
        if self._iter is not None and n >= self._next:
            # Reading on is cheaper than a seek when the target is near, or when the decoder
            # is past the target's keyframe already (a seek would decode those frames again).
            past_key = k >= 0 and self._next > int(np.searchsorted(self.index.pts, keys[k]))
            if n - self._next <= FORWARD_READ_LIMIT or past_key:
                got = self._read_forward(n, lo, sink=sink)
                if n in got:
                    return got
        # Keyframe flags may lie (open GOP) and timestamp seeks may land after the target:
        # step back a keyframe at a time, and finally start again from the very beginning.
        starts = [max(0, k - attempt) for attempt in range(3) if k - attempt >= 0] or [0]
        for start in (*dict.fromkeys(starts), None):
            try:
                gated = self._seek(None if start is None else start)
            except av.error.FFmpegError as exc:
                raise _translate(exc, self.path) from exc
            got = self._read_forward(n, lo, gated=gated, sink=sink)
            if n in got:
                return got
        raise CorruptVideo(
            f"Frame {n + 1} of this video cannot be decoded: the file is damaged there.",
            path=self.path,
            frames_readable=n,
        )

    def _seek(self, key: int | None) -> bool:
        """Position the decoder at keyframe number ``key`` (``None``: the stream start).

        Returns True when frames before the first keyframe picture must be passed over (a
        byte seek can land on leftovers of the previous GOP, which would show wrong pictures).
        """
        idx = self.index
        if key is None:
            self._rewind()
            gated = False
        elif idx.byte_seek and idx.keyframe_pos is not None and key < len(idx.keyframe_pos):
            self._container.seek(
                int(idx.keyframe_pos[key]), stream=self._stream, unsupported_byte_offset=True
            )
            gated = True
        else:
            keys = idx.keyframe_pts
            seek_pts = int(keys[key]) if len(keys) else int(idx.pts[0])
            self._container.seek(seek_pts, stream=self._stream, backward=True)
            gated = False
        self._iter = decode_frames(
            self._container, self._stream, [], self._unneeded if SKIP_UNNEEDED else None
        )
        self._next = -1
        return gated

    def _unneeded(self, packet: av.Packet) -> bool:
        """True for a packet whose picture lies before the frames the current call keeps."""
        idx = self._pts_to_index.get(packet.pts if packet.pts is not None else -1, -1)
        if 0 <= idx < self._need_from:
            self.skipped += 1
            return True
        return False

    def _rewind(self) -> None:
        """Back to the first packet, whatever the timestamps (offset, wrapped, no index)."""
        if self.index.byte_seek:
            self._container.seek(0, stream=self._stream, unsupported_byte_offset=True)
            return
        # Reopening is the one rewind every container honours (a timestamp seek to the
        # first pts can land on a later keyframe).
        self._iter = None
        self._container.close()
        self._container = open_container(self.path)
        self._stream = video_stream(self._container, self.path)
        self._stream.thread_type = self._threads

    def _read_forward(
        self, n: int, lo: int, *, gated: bool = False, sink: Sink | None = None
    ) -> dict[int, np.ndarray]:
        out: dict[int, np.ndarray] = {}
        assert self._iter is not None
        try:
            for _ in range(MAX_FRAMES_PER_SEEK):
                frame = next(self._iter)
                if gated:
                    if not frame.key_frame:
                        continue  # before the keyframe picture: may reference a lost GOP
                    gated = False
                idx = self._pts_to_index.get(frame.pts if frame.pts is not None else -1, -1)
                if idx < 0:
                    continue  # a frame the index does not know (e.g. before an edit list start)
                self._next = idx + 1
                if idx > n:
                    return out  # overshot: the seek landed after the target
                if idx == n:
                    out[idx] = frame_to_rgb(frame, self.rotation)
                    return out
                if idx >= lo:
                    if sink is not None:
                        sink(idx, functools.partial(frame_to_rgb, frame, self.rotation))
                    else:
                        out[idx] = frame_to_rgb(frame, self.rotation)
        except StopIteration:
            self._iter, self._next = None, -1
        except (av.error.FFmpegError, OSError, ValueError):
            self._iter, self._next = None, -1
        return out

    def _decode_by_count(self, n: int, keep_from: int | None) -> dict[int, np.ndarray]:
        """No usable timestamps: count frames from the start (slow but exact)."""
        lo = n if keep_from is None else min(keep_from, n)
        self._iter, self._next = None, -1
        try:
            self._rewind()
        except av.error.FFmpegError as exc:
            raise _translate(exc, self.path) from exc
        out: dict[int, np.ndarray] = {}
        try:
            for i, frame in enumerate(decode_frames(self._container, self._stream, [])):
                if i >= lo:
                    out[i] = frame_to_rgb(frame, self.rotation)
                if i >= n:
                    return out
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            raise _translate(exc, self.path, len(out)) from exc
        raise CorruptVideo(path=self.path, frames_readable=n)

    def close(self) -> None:
        self._iter = None
        self._container.close()
