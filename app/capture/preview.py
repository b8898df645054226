"""Live and delayed preview: decode only what the screen shows, only as often as it shows it.

The capture thread just drops a reference to the newest packet into :class:`PreviewSlot`
(newest frame wins, nothing queued). A preview thread decodes it at display rate (~30 Hz)
at reduced size — libjpeg's DCT scaling (``IMREAD_REDUCED_COLOR_2/4``) decodes a 1080p frame
in about a millisecond — and the UI polls the result on a timer.

The delayed view keeps a ring of *compressed* frames (about 100–200 KB each instead of 1.5 MB
decoded), sampled at display rate, and decodes only the one to show.
"""

from __future__ import annotations

import bisect
import threading
from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from .packets import FramePacket


@dataclass(frozen=True)
class PreviewFrame:
    """A display-size BGR picture of one captured frame."""

    image: np.ndarray = field(repr=False)
    index: int
    timestamp_ns: int
    width: int  # full capture size, for the overlay text
    height: int


def reduction_for(width: int, max_width: int) -> int:
    """The libjpeg scale (1, 2, 4 or 8) that brings ``width`` down to at most ``max_width``."""
    for factor in (1, 2, 4):
        if width / factor <= max_width:
            return factor
    return 8


_READ_FLAGS = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


def decode_preview(packet: FramePacket, max_width: int = 960) -> PreviewFrame | None:
    """Decode ``packet`` to a small BGR image (``None`` if the JPEG is corrupt)."""
    factor = reduction_for(packet.width, max_width)
    if packet.jpeg is not None:
        img = cv2.imdecode(np.frombuffer(packet.jpeg, np.uint8), _READ_FLAGS[factor])
    elif packet.image is not None:
        img = packet.image[::factor, ::factor] if factor > 1 else packet.image
        img = np.ascontiguousarray(img)
    else:
        img = None
    if img is None:
        return None
    return PreviewFrame(img, packet.index, packet.timestamp_ns, packet.width, packet.height)


class PreviewSlot:
    """Holds only the newest item; writers replace it, readers never block the writer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item: object | None = None
        self._version = 0

    def put(self, item: object) -> None:
        with self._lock:
            self._item = item
            self._version += 1

    def get(self) -> tuple[int, object | None]:
        """``(version, item)``; the version changes whenever a new item was put."""
        with self._lock:
            return self._version, self._item

    def clear(self) -> None:
        self.put(None)


class DelayRing:
    """Compressed frames of the last ``capacity_s`` seconds, to show the picture N seconds late."""

    def __init__(self, capacity_s: float = 10.0) -> None:
        self.capacity_ns = int(capacity_s * 1e9)
        self._lock = threading.Lock()
        self._times: deque[int] = deque()
        self._packets: deque[FramePacket] = deque()

    def add(self, packet: FramePacket) -> None:
        """Store ``packet`` (raw frames should be shrunk by the caller first)."""
        with self._lock:
            self._times.append(packet.timestamp_ns)
            self._packets.append(packet)
            while self._times and packet.timestamp_ns - self._times[0] > self.capacity_ns:
                self._times.popleft()
                self._packets.popleft()

    def at(self, timestamp_ns: int) -> FramePacket | None:
        """The newest stored frame captured at or before ``timestamp_ns`` (None if too early)."""
        with self._lock:
            i = bisect.bisect_right(self._times, timestamp_ns)
            return self._packets[i - 1] if i > 0 else None

    def span_s(self) -> float:
        """How many seconds of picture the ring holds now."""
        with self._lock:
            if len(self._times) < 2:
                return 0.0
            return (self._times[-1] - self._times[0]) / 1e9

    def clear(self) -> None:
        with self._lock:
            self._times.clear()
            self._packets.clear()


def shrink_raw(packet: FramePacket, max_width: int = 640, quality: int = 80) -> FramePacket:
    """A small JPEG copy of a raw frame for the delay ring (raw 1080p frames are 6 MB each)."""
    if packet.jpeg is not None or packet.image is None:
        return packet
    factor = reduction_for(packet.width, max_width)
    img = np.ascontiguousarray(packet.image[::factor, ::factor])
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    jpeg = buf.tobytes() if ok else None
    # The copy is already display-sized, so decode_preview will show it at 1:1.
    return FramePacket(packet.index, packet.timestamp_ns, img.shape[1], img.shape[0], jpeg=jpeg)
