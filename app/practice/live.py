"""The live analysis thread: every camera frame to the cadence estimator, off the GUI thread.

camera ── capture thread (the :class:`app.capture.Recorder`'s own) ── :class:`TapSource`
                 │                                         │
                 └── preview / recording as in Record       └── bounded queue ──> analysis thread
                                                                               └── latest estimate

:class:`TapSource` wraps the camera the recorder reads, so Practice uses the very same
crash-safe capture (preview, optional recording, camera faults) and sees every frame as the
recorder does. Offering a frame never blocks the capture thread: when the analysis falls
behind, the *oldest* queued frame is dropped and counted (``skipped``), so the analysis always
works on the newest frames. Above ``max_fps`` (default 60) only every k-th frame is analysed
(``decimation``), which the UI states ("analysed at 60 of 120 fps").

The UI polls :meth:`LiveAnalysis.snapshot` at display rate; no callback runs per frame.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from app.capture.packets import CameraFormat, FramePacket
from app.capture.sources import CameraSource

from .live_cadence import CadenceEstimate, LiveCadenceEstimator

DEFAULT_MAX_FPS = 60.0
QUEUE_FRAMES = 32


def small_grey(packet: FramePacket, max_width: int = 200) -> np.ndarray | None:
    """A small grey picture of ``packet`` (JPEG decoded at reduced size: ~1 ms for 1080p)."""
    if packet.jpeg is not None:
        factor = 1
        while factor < 8 and packet.width / factor > max_width:
            factor *= 2
        flag = {
            1: cv2.IMREAD_GRAYSCALE,
            2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
            4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
            8: cv2.IMREAD_REDUCED_GRAYSCALE_8,
        }[factor]
        return cv2.imdecode(np.frombuffer(packet.jpeg, np.uint8), flag)
    if packet.image is not None:
        img = packet.image
        step = max(1, img.shape[1] // max_width)
        img = np.ascontiguousarray(img[::step, ::step])
        return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    return None


@dataclass(frozen=True)
class AnalysisStats:
    delivered: int
    """Frames the camera delivered since the analysis started."""
    analysed: int
    skipped: int
    """Frames meant for analysis but dropped because the analysis fell behind."""
    decimation: int
    """1: every frame analysed; k: every k-th (fast cameras)."""
    camera_fps: float


@dataclass(frozen=True)
class Snapshot:
    estimate: CadenceEstimate | None
    version: int
    """Changes whenever a new estimate is published."""
    stats: AnalysisStats
    published_wall: float
    """``time.monotonic()`` when the estimate was published (for latency figures)."""
    frame_wall: float
    """Wall time (monotonic) the newest analysed frame was offered by the camera thread."""


class LiveAnalysis:
    """Owns the analysis thread and its bounded queue. ``start``/``stop`` explicitly."""

    def __init__(self, estimator: LiveCadenceEstimator | None = None, *,
                 max_fps: float = DEFAULT_MAX_FPS, queue_frames: int = QUEUE_FRAMES) -> None:  # fmt: skip
        self.estimator = estimator or LiveCadenceEstimator()
        self.max_fps = max_fps
        self._queue: deque[tuple[FramePacket, float]] = deque()
        self._queue_frames = queue_frames
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._estimate: CadenceEstimate | None = None
        self._version = 0
        self._published_wall = 0.0
        self._frame_wall = 0.0
        self.history: deque[tuple[CadenceEstimate, float, float]] = deque(maxlen=50_000)
        """Published estimates with the (monotonic) times they were published and their frame
        was offered by the camera thread: for the benchmark's latency figures."""
        self.delivered = 0
        self.analysed = 0
        self.skipped = 0
        self.decimation = 1
        self._fps = 0.0
        self._t0_ns: int | None = None
        self._reset_requested = False

    # -- camera side (capture thread) ----------------------------------------------------------
    def set_format(self, fmt: CameraFormat | None) -> None:
        fps = fmt.fps if fmt else 0.0
        self._fps = fps
        self.decimation = max(1, math.ceil(fps / self.max_fps - 1e-6)) if fps > 0 else 1

    def offer(self, packet: FramePacket) -> None:
        """Never blocks; drops (and counts) the oldest queued frame when the queue is full."""
        self.delivered += 1
        if (self.delivered - 1) % self.decimation:
            return
        with self._cond:
            if len(self._queue) >= self._queue_frames:
                self._queue.popleft()
                self.skipped += 1
            self._queue.append((packet, time.monotonic()))
            self._cond.notify()

    def restart_estimate(self) -> None:
        """Start measuring afresh (the camera was reopened, a new session)."""
        self._reset_requested = True

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="stride-practice-analysis",
                                        daemon=True)  # fmt: skip
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until the queue is empty (tests and the benchmark)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._cond:
                if not self._queue:
                    return True
            time.sleep(0.005)
        return False

    # -- UI side ---------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        with self._lock:
            est, version = self._estimate, self._version
            published, frame_wall = self._published_wall, self._frame_wall
        stats = AnalysisStats(self.delivered, self.analysed, self.skipped, self.decimation,
                              self._fps)  # fmt: skip
        return Snapshot(est, version, stats, published, frame_wall)

    # -- thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                while not self._queue and not self._stop.is_set():
                    self._cond.wait(0.1)
                if self._stop.is_set():
                    return
                packet, wall = self._queue.popleft()
            try:
                self._analyse(packet, wall)
            except Exception:  # noqa: S112 - one bad frame must not end the live analysis
                continue

    def _analyse(self, packet: FramePacket, wall: float) -> None:
        if self._reset_requested:
            self._reset_requested = False
            self.estimator.reset()
            self._t0_ns = None
        img = small_grey(packet)
        if img is None:
            return
        if self._t0_ns is None:
            self._t0_ns = packet.timestamp_ns
        t = (packet.timestamp_ns - self._t0_ns) / 1e9
        est = self.estimator.push(t, img)
        self.analysed += 1
        now = time.monotonic()
        with self._lock:
            self._frame_wall = wall
            if est is not None:
                self._estimate = est
                self._version += 1
                self._published_wall = now
                self.history.append((est, now, wall))


class TapSource(CameraSource):
    """A camera that hands every frame it delivers to a :class:`LiveAnalysis` as well."""

    def __init__(self, inner: CameraSource, analysis: LiveAnalysis) -> None:
        super().__init__()
        self.inner = inner
        self.analysis = analysis
        self.name = inner.name

    def formats(self) -> list[CameraFormat]:
        return self.inner.formats()

    def open(self, fmt: CameraFormat | None = None) -> CameraFormat:
        self.current_format = self.inner.open(fmt)
        self.analysis.set_format(self.current_format)
        self.analysis.restart_estimate()
        return self.current_format

    def read(self) -> FramePacket | None:
        packet = self.inner.read()
        if packet is not None:
            with contextlib.suppress(Exception):  # analysis trouble never stops the camera
                self.analysis.offer(packet)
        return packet

    def close(self) -> None:
        self.inner.close()
        self.current_format = None
