"""Fake cameras for tests and demos: one that is missing or busy, one that gets unplugged,
one that delivers raw (uncompressed) frames (built on :class:`.SyntheticSource`), and a video
file played at the rate it was filmed (:class:`RealRateFileSource`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from .errors import CameraDisconnectedError, CameraError
from .packets import CameraFormat, FramePacket, clock_ns
from .sources import CameraSource, FileSource, SyntheticSource


class UnavailableSource(CameraSource):
    """A camera that cannot be opened, raising ``error`` (e.g. NoCameraError, CameraBusyError).

    After ``fail_times`` failed opens it works (as a synthetic camera): models Retry succeeding
    once the other program released the camera.
    """

    def __init__(self, error: CameraError, fail_times: int = 10**9, **synthetic: object) -> None:
        super().__init__()
        self.error = error
        self.fail_times = fail_times
        self.attempts = 0
        self._inner = SyntheticSource(**synthetic)  # type: ignore[arg-type]
        self.name = "Unavailable camera"

    def formats(self) -> list[CameraFormat]:
        return self._inner.formats()

    def open(self, fmt: CameraFormat | None = None) -> CameraFormat:
        self.attempts += 1
        if self.attempts <= self.fail_times:
            raise self.error
        self.current_format = self._inner.open(fmt)
        return self.current_format

    def read(self) -> FramePacket | None:
        return self._inner.read()

    def close(self) -> None:
        self._inner.close()
        self.current_format = None


class UnpluggedSource(CameraSource):
    """Wraps a source and "unplugs" it after ``after_frames`` frames.

    ``mode="raise"``: read() raises CameraDisconnectedError (what a driver reports);
    ``mode="none"``: read() keeps returning None (a camera that silently stops).
    """

    def __init__(self, inner: CameraSource, after_frames: int, mode: str = "raise") -> None:
        super().__init__()
        self.inner = inner
        self.after_frames = after_frames
        self.mode = mode
        self.delivered = 0
        self.name = inner.name

    def formats(self) -> list[CameraFormat]:
        return self.inner.formats()

    def open(self, fmt: CameraFormat | None = None) -> CameraFormat:
        self.current_format = self.inner.open(fmt)
        return self.current_format

    def read(self) -> FramePacket | None:
        if self.delivered >= self.after_frames:
            if self.mode == "raise":
                raise CameraDisconnectedError()
            time.sleep(0.01)
            return None
        packet = self.inner.read()
        if packet is not None:
            self.delivered += 1
        return packet

    def close(self) -> None:
        self.inner.close()
        self.current_format = None


class RawSyntheticSource(SyntheticSource):
    """The synthetic camera delivering decoded BGR arrays, like a camera without MJPEG."""

    name = "Test camera (raw frames)"

    def open(self, fmt: CameraFormat | None = None) -> CameraFormat:
        fmt = super().open(fmt)
        self.current_format = CameraFormat(fmt.width, fmt.height, fmt.fps, "BGR3")
        return self.current_format

    def read(self) -> FramePacket | None:
        packet = super().read()
        if packet is None or packet.jpeg is None:
            return packet
        image = cv2.imdecode(np.frombuffer(packet.jpeg, np.uint8), cv2.IMREAD_COLOR)
        return FramePacket(packet.index, packet.timestamp_ns, packet.width, packet.height,
                           image=image)  # fmt: skip


class RealRateFileSource(FileSource):
    """Plays a video file as a camera at the rate it was filmed: each frame is due at its own
    presentation time (PTS), so a variable-rate or re-timed clip plays exactly as stored.

    :class:`.FileSource` paces frames on one nominal rate; this one follows the file's clock.
    Frame timestamps are ``t0 + pts`` also when ``realtime=False`` (fast tests: no waiting,
    but the times a live analysis sees are still the footage's real ones). With ``loop`` the
    next pass starts one frame interval after the last frame of the previous one; without it
    the camera "stops" at the end of the file (``CameraDisconnectedError``).
    ``delivered`` counts the frames handed out.
    """

    def __init__(self, path: str | Path, *, loop: bool = False, realtime: bool = True,
                 clock: Callable[[], int] = clock_ns) -> None:  # fmt: skip
        super().__init__(path, loop=loop, realtime=realtime, clock=clock)
        self.delivered = 0
        self._offset_s = 0.0
        self._last_pts_s = 0.0
        self._first_pts_s: float | None = None

    def open(self, fmt: CameraFormat | None = None) -> CameraFormat:
        actual = super().open(fmt)
        self.delivered = 0
        self._offset_s = 0.0
        self._last_pts_s = 0.0
        self._first_pts_s = None
        return actual

    def _pts_s(self, item: object, fallback: float) -> float:
        pts = getattr(item, "pts", None)
        base = getattr(item, "time_base", None)
        if pts is None or base is None:
            return fallback
        return float(pts * base)

    def _looped(self) -> None:
        # next pass: continue the time line one frame after the last frame
        self._offset_s += self._last_pts_s - (self._first_pts_s or 0.0) + 1.0 / self._fps
        self._first_pts_s = None

    def _due(self, item: object) -> int:
        pts = self._pts_s(item, self._index / self._fps)
        if self._first_pts_s is None:
            self._first_pts_s = pts
        self._last_pts_s = pts
        self.delivered += 1
        return self._t0 + int(round((self._offset_s + pts - self._first_pts_s) * 1e9))
