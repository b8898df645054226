"""Fake cameras for tests and demos: one that is missing or busy, one that gets unplugged,
one that delivers raw (uncompressed) frames. Built on :class:`.SyntheticSource`."""

from __future__ import annotations

import time

import cv2
import numpy as np

from .errors import CameraDisconnectedError, CameraError
from .packets import CameraFormat, FramePacket
from .sources import CameraSource, SyntheticSource


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
