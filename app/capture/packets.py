"""Frame packets, camera formats and the one clock every capture timestamp uses."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

#: The shared capture clock, in integer nanoseconds. ``perf_counter_ns`` is system-wide and
#: monotonic on every platform (CLOCK_MONOTONIC on Linux, mach_absolute_time on macOS, QPC on
#: Windows) and, unlike ``time.monotonic`` on Windows before Python 3.13, has sub-microsecond
#: resolution — needed to tell 120 fps frames (8.3 ms apart) apart. Two cameras stamped with it
#: share one time line.
clock_ns = time.perf_counter_ns

MJPEG = "MJPG"
"""Pixel format name of motion-JPEG (each frame a complete JPEG)."""


@dataclass(frozen=True, order=True)
class CameraFormat:
    """One capture mode: picture size, frames per second and pixel format (FOURCC-like)."""

    width: int
    height: int
    fps: float
    pixel_format: str = MJPEG

    def label(self) -> str:
        """Short text for a format picker, e.g. ``1920×1080 @ 120 fps (MJPG)``."""
        fps = f"{self.fps:g}"
        return f"{self.width}×{self.height} @ {fps} fps ({self.pixel_format})"


@dataclass
class FramePacket:
    """One frame as the camera delivered it.

    Exactly one of ``jpeg`` (the camera's own compressed MJPEG bytes, never re-encoded) and
    ``image`` (a raw BGR uint8 array) is set. ``timestamp_ns`` is from :data:`clock_ns`.
    ``index`` counts frames the camera produced, so gaps reveal frames lost before us.
    """

    index: int
    timestamp_ns: int
    width: int
    height: int
    jpeg: bytes | None = None
    image: np.ndarray | None = field(default=None, repr=False)

    @property
    def is_compressed(self) -> bool:
        return self.jpeg is not None

    @property
    def nbytes(self) -> int:
        if self.jpeg is not None:
            return len(self.jpeg)
        return int(self.image.nbytes) if self.image is not None else 0
