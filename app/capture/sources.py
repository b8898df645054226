"""Camera sources: the abstract :class:`CameraSource` and its three implementations.

* :class:`SyntheticSource` — a test camera that delivers pre-encoded MJPEG frames in real time,
  each visibly stamped with its frame number and time (cheaply, see :mod:`.jpegstamp`).
* :class:`FileSource` — plays a video file as if it were a camera (real-time pacing).
* :class:`OpenCVCameraSource` — a real camera through OpenCV ``VideoCapture``.

All timestamps come from :data:`.packets.clock_ns`, so several sources share one time line.
"""

from __future__ import annotations

import os
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .errors import (
    CameraBusyError,
    CameraDisconnectedError,
    FormatUnsupportedError,
    NoCameraError,
    VideoFileError,
)
from .jpegstamp import StampedJpeg
from .packets import MJPEG, CameraFormat, FramePacket, clock_ns


class CameraSource(ABC):
    """A camera: open it in a format, read frame packets, close it.

    ``read()`` blocks until the next frame and returns a :class:`FramePacket`, or ``None`` when
    no frame arrived in time (the caller decides when repeated ``None`` means "unplugged"); it
    raises :class:`.CameraDisconnectedError` when the camera is known to be gone.
    """

    #: Human-readable name for pickers and messages.
    name: str = "camera"

    def __init__(self) -> None:
        self.current_format: CameraFormat | None = None

    @abstractmethod
    def formats(self) -> list[CameraFormat]:
        """Capture modes the camera says it offers (may be empty when the platform won't tell)."""

    @abstractmethod
    def open(self, fmt: CameraFormat | None = None) -> CameraFormat:
        """Start the camera in ``fmt`` (``None``: MJPEG at the highest frame rate offered).

        Returns the format actually negotiated. Raises a :class:`.CameraError` subclass.
        """

    @abstractmethod
    def read(self) -> FramePacket | None:
        """The next frame, ``None`` on a time-out; raises :class:`.CameraDisconnectedError`."""

    @abstractmethod
    def close(self) -> None:
        """Release the camera; safe to call twice."""

    @property
    def is_open(self) -> bool:
        return self.current_format is not None

    def __enter__(self) -> CameraSource:
        if not self.is_open:
            self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def best_format(formats: list[CameraFormat]) -> CameraFormat | None:
    """The mode to use by default: MJPEG preferred, then highest fps, then largest picture."""
    if not formats:
        return None
    return max(formats, key=lambda f: (f.pixel_format == MJPEG, f.fps, f.width * f.height))


# --------------------------------------------------------------------------------------------
# Synthetic camera


def _synthetic_scene(width: int, height: int, phase: float, seed: int) -> np.ndarray:
    """A treadmill-like test picture: gradient wall, striped belt, a 'runner' that bobs."""
    x = np.linspace(60, 170, width, dtype=np.float32)
    img = np.empty((height, width, 3), np.uint8)
    img[:] = x.astype(np.uint8)[None, :, None]
    img[..., 0] = np.clip(img[..., 0].astype(np.int16) + 25, 0, 255)  # bluish wall
    belt_top = int(height * 0.78)
    img[belt_top:] = (45, 45, 50)
    stripe = max(8, width // 24)
    offset = int(phase * stripe * 2)
    for sx in range(-stripe * 2 + offset % (stripe * 2), width, stripe * 2):
        cv2.rectangle(img, (sx, belt_top), (sx + stripe // 3, height), (90, 90, 95), -1)
    cx = width // 2 + int(width * 0.05 * np.sin(2 * np.pi * phase))
    cy = int(height * 0.45) + int(height * 0.02 * np.cos(4 * np.pi * phase))
    r = max(4, height // 10)
    cv2.ellipse(img, (cx, cy), (r // 2, r * 2), 0, 0, 360, (40, 90, 200), -1)
    cv2.circle(img, (cx, cy - r * 2 - r // 2), r // 2, (120, 160, 220), -1)
    foot_x = cx + int(r * 1.5 * np.sin(2 * np.pi * phase))
    cv2.line(img, (cx, cy + r * 2), (foot_x, belt_top), (30, 60, 160), max(2, r // 4))
    # Mild sensor-like noise so JPEG sizes resemble a real camera's, not a cartoon's.
    rng = np.random.default_rng(seed)
    noise = rng.integers(-4, 5, size=img.shape, dtype=np.int16)
    return np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)


class SyntheticSource(CameraSource):
    """A test camera delivering stamped MJPEG frames in real time.

    ``actual_fps`` makes a camera that lies: it advertises ``fps`` but delivers at
    ``actual_fps``. If the reader falls more than ``max_lag_frames`` behind, frames are skipped
    (as a camera driver's buffer ring would overrun; 10 buffers, as :class:`OpenCVCameraSource`
    requests from V4L2); ``produced`` counts every frame the
    camera made, delivered or not.
    """

    name = "Test camera (synthetic)"
    STANDARD_FORMATS = (
        CameraFormat(640, 360, 120.0),
        CameraFormat(1280, 720, 120.0),
        CameraFormat(1920, 1080, 120.0),
        CameraFormat(1920, 1080, 60.0),
    )

    def __init__(
        self,
        width: int = 1280,
        height: int = 720,
        fps: float = 120.0,
        *,
        actual_fps: float | None = None,
        pool_size: int = 12,
        quality: int = 85,
        realtime: bool = True,
        max_lag_frames: int = 10,
        clock: Callable[[], int] = clock_ns,
        name: str | None = None,
    ) -> None:
        super().__init__()
        self.default_format = CameraFormat(width, height, float(fps))
        self.actual_fps = actual_fps
        self.pool_size = max(1, pool_size)
        self.quality = quality
        self.realtime = realtime
        self.max_lag_frames = max_lag_frames
        self.clock = clock
        if name:
            self.name = name
        self._pool: list[StampedJpeg] = []
        self._next = 0
        self._t0 = 0
        self._period_ns = 0
        self.produced = 0

    def formats(self) -> list[CameraFormat]:
        fmts = set(self.STANDARD_FORMATS) | {self.default_format}
        return sorted(fmts, key=lambda f: (f.width * f.height, f.fps))

    def open(self, fmt: CameraFormat | None = None) -> CameraFormat:
        fmt = fmt or self.default_format
        if fmt.width % 2 or fmt.height % 2 or fmt.fps <= 0:
            raise FormatUnsupportedError()
        self._pool = [
            StampedJpeg(
                _synthetic_scene(fmt.width, fmt.height, k / self.pool_size, k), self.quality
            )
            for k in range(self.pool_size)
        ]
        self._period_ns = int(round(1e9 / (self.actual_fps or fmt.fps)))
        self._next = 0
        self.produced = 0
        self._t0 = self.clock()
        self.current_format = fmt
        return fmt

    def read(self) -> FramePacket | None:
        if self.current_format is None:
            raise CameraDisconnectedError("The test camera is not started.")
        due = self._t0 + self._next * self._period_ns
        if self.realtime:
            now = self.clock()
            if now < due:
                time.sleep((due - now) / 1e9)
            elif now - due > self.max_lag_frames * self._period_ns:
                # Reader too slow: the "driver buffer" overran; jump to the newest frame.
                self._next = (now - self._t0) // self._period_ns
                due = self._t0 + self._next * self._period_ns
        index = self._next
        self._next += 1
        self.produced = self._next
        stamped = self._pool[index % len(self._pool)]
        band = stamped.band()
        text = f"frame {index:07d}   t = {(due - self._t0) / 1e9:10.4f} s"
        scale = max(0.4, stamped.band_height / 40)
        cv2.putText(band, text, (8, int(stamped.band_height * 0.75)), cv2.FONT_HERSHEY_SIMPLEX,
                    scale, (255, 255, 255), max(1, int(scale * 2)), cv2.LINE_AA)  # fmt: skip
        fmt = self.current_format
        return FramePacket(index, due, fmt.width, fmt.height, jpeg=stamped.with_band(band))

    def close(self) -> None:
        self.current_format = None
        self._pool = []


# --------------------------------------------------------------------------------------------
# Video file played as a camera


class FileSource(CameraSource):
    """Plays a video file as a camera, in real time, looping by default.

    MJPEG files are delivered as compressed packets (like an MJPEG camera); any other codec is
    decoded to BGR arrays (like a raw camera), which exercises the recorder's encode path.
    """

    def __init__(self, path: str | Path, *, loop: bool = True, realtime: bool = True,
                 clock: Callable[[], int] = clock_ns) -> None:  # fmt: skip
        super().__init__()
        self.path = Path(path)
        self.loop = loop
        self.realtime = realtime
        self.clock = clock
        self.name = f"Video file: {self.path.name}"
        self._container: Any = None
        self._iter: Any = None
        self._index = 0
        self._t0 = 0
        self._fps = 30.0
        self._mjpeg = False

    def _probe(self) -> CameraFormat:
        import av  # local: only developer sources need PyAV at open time

        try:
            with av.open(str(self.path)) as c:
                s = c.streams.video[0]
                fps = float(s.average_rate or s.guessed_rate or 30)
                mjpeg = s.codec_context.name == "mjpeg"
                return CameraFormat(s.codec_context.width, s.codec_context.height, fps,
                                    MJPEG if mjpeg else "BGR3")  # fmt: skip
        except (OSError, av.FFmpegError, IndexError) as exc:
            raise VideoFileError(
                f"The video file {self.path.name} cannot be opened as a camera: {exc}"
            ) from exc

    def formats(self) -> list[CameraFormat]:
        return [self._probe()]

    def _restart(self) -> None:
        import av

        if self._container is not None:
            self._container.close()
        self._container = av.open(str(self.path))
        stream = self._container.streams.video[0]
        stream.thread_type = "AUTO"
        self._iter = (
            self._container.demux(stream) if self._mjpeg else self._container.decode(stream)
        )

    def open(self, fmt: CameraFormat | None = None) -> CameraFormat:
        actual = self._probe()
        self._fps = actual.fps
        self._mjpeg = actual.pixel_format == MJPEG
        self._restart()
        self._index = 0
        self._t0 = self.clock()
        self.current_format = actual
        return actual

    def read(self) -> FramePacket | None:
        if self.current_format is None or self._iter is None:
            raise CameraDisconnectedError("The video file is not open.")
        item = None
        for _attempt in range(2):
            for candidate in self._iter:
                if self._mjpeg and candidate.size == 0:
                    continue  # demux's final flush packet
                item = candidate
                break
            if item is not None or not self.loop:
                break
            self._looped()
            self._restart()
        if item is None:
            raise CameraDisconnectedError("The video file has ended.")
        due = self._due(item)
        if self.realtime:
            now = self.clock()
            if now < due:
                time.sleep((due - now) / 1e9)
        fmt = self.current_format
        index = self._index
        self._index += 1
        if self._mjpeg:
            return FramePacket(index, due, fmt.width, fmt.height, jpeg=bytes(item))
        image = item.to_ndarray(format="bgr24")
        return FramePacket(index, due, fmt.width, fmt.height, image=image)

    # Pacing: when each frame is due (clock ns). Here on the nominal rate; a subclass can follow
    # the file's own clock (app.capture.fakes.RealRateFileSource).
    def _due(self, item: Any) -> int:
        return self._t0 + int(self._index * 1e9 / self._fps)

    def _looped(self) -> None:
        """Called when a pass ends and the file starts again (``loop``)."""

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container = None
        self._iter = None
        self.current_format = None


# --------------------------------------------------------------------------------------------
# Real camera through OpenCV


def default_backend() -> int:
    """The OpenCV capture API for this platform (V4L2, DirectShow, AVFoundation)."""
    if sys.platform.startswith("linux"):
        return cv2.CAP_V4L2
    if sys.platform == "win32":
        # DirectShow exposes MJPEG and high frame rates on more UVC cameras than MSMF.
        return cv2.CAP_DSHOW
    if sys.platform == "darwin":
        return cv2.CAP_AVFOUNDATION
    return cv2.CAP_ANY


_FOURCC_MJPG = cv2.VideoWriter_fourcc(*"MJPG")


class OpenCVCameraSource(CameraSource):
    """A real camera through OpenCV, asking for MJPEG at the highest fps offered.

    On V4L2 the camera's own JPEG bytes are fetched (``CAP_PROP_CONVERT_RGB=0``), so the
    recorder stores them untouched; elsewhere frames arrive decoded and are encoded by the
    recorder. ``device_path`` (Linux ``/dev/videoN``) lets a failed open be told apart as
    "busy" (node exists) or "no camera". ``capture_factory`` is injectable for tests.
    """

    #: Consecutive failed reads, and seconds without a frame, before "disconnected".
    MAX_FAILED_READS = 30
    MAX_SILENCE_S = 2.0

    def __init__(
        self,
        index: int,
        *,
        name: str | None = None,
        device_path: str | None = None,
        backend: int | None = None,
        known_formats: list[CameraFormat] | None = None,
        capture_factory: Callable[..., Any] = cv2.VideoCapture,
        clock: Callable[[], int] = clock_ns,
    ) -> None:
        super().__init__()
        self.index = index
        self.name = name or f"Camera {index + 1}"
        self.device_path = device_path
        self.backend = default_backend() if backend is None else backend
        self._known = list(known_formats or [])
        self._factory = capture_factory
        self.clock = clock
        self._cap: Any = None
        self._compressed = False
        self._count = 0
        self._failed = 0
        self._last_ok = 0

    def formats(self) -> list[CameraFormat]:
        if self._known:
            return list(self._known)
        return [self.current_format] if self.current_format else []

    def _device_present(self) -> bool | None:
        if self.device_path is None:
            return None
        return os.path.exists(self.device_path)

    def _open_failure(self) -> Exception:
        present = self._device_present()
        if present is False:
            return NoCameraError()
        if present is True:
            return CameraBusyError()
        return NoCameraError(
            "The camera could not be started. It may be unplugged, or in use by another "
            "program (for example a video call). Check it, then press Retry."
        )

    def open(self, fmt: CameraFormat | None = None) -> CameraFormat:
        self.close()
        fmt = fmt or best_format(self._known)
        cap = self._factory(self.index, self.backend)
        if not cap.isOpened():
            cap.release()
            raise self._open_failure()
        want_mjpeg = fmt is None or fmt.pixel_format == MJPEG
        if want_mjpeg:
            cap.set(cv2.CAP_PROP_FOURCC, _FOURCC_MJPG)
        if fmt is not None:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, fmt.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, fmt.height)
        # Unknown modes: ask for a high rate; the driver settles on the nearest it offers.
        cap.set(cv2.CAP_PROP_FPS, fmt.fps if fmt is not None else 240)
        # More driver buffers ride out short stalls (a busy CPU) without losing frames; V4L2
        # allows up to 10, other backends ignore the request.
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 10)
        self._compressed = False
        if want_mjpeg and self.backend == cv2.CAP_V4L2:
            # Hand back the camera's JPEG bytes instead of decoding them (V4L2 backend only).
            self._compressed = bool(cap.set(cv2.CAP_PROP_CONVERT_RGB, 0))
            cap.set(cv2.CAP_PROP_FORMAT, -1)
        self._cap = cap
        self._count = 0
        self._failed = 0
        ok, _frame = cap.read()  # a camera held by another program opens but never delivers
        if not ok:
            self.close()
            raise self._open_failure()
        self._last_ok = self.clock()
        actual = CameraFormat(
            int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            float(cap.get(cv2.CAP_PROP_FPS) or (fmt.fps if fmt else 30.0)),
            MJPEG if want_mjpeg else (fmt.pixel_format if fmt else MJPEG),
        )
        self.current_format = actual
        return actual

    def read(self) -> FramePacket | None:
        cap = self._cap
        if cap is None:
            raise CameraDisconnectedError()
        ok, frame = cap.read()
        now = self.clock()
        if not ok or frame is None:
            self._failed += 1
            if self._device_present() is False:
                raise CameraDisconnectedError()
            if (
                self._failed >= self.MAX_FAILED_READS
                or (now - self._last_ok) / 1e9 > self.MAX_SILENCE_S
            ):
                raise CameraDisconnectedError()
            return None
        self._failed = 0
        self._last_ok = now
        fmt = self.current_format
        assert fmt is not None
        index = self._count
        self._count += 1
        flat = frame.reshape(-1) if frame.ndim <= 2 else None
        if flat is not None and flat.size > 4 and flat[0] == 0xFF and flat[1] == 0xD8:
            return FramePacket(index, now, fmt.width, fmt.height, jpeg=flat.tobytes())
        if frame.ndim == 3:
            h, w = frame.shape[:2]
            return FramePacket(index, now, w, h, image=frame)
        if frame.ndim == 2:  # grey camera
            h, w = frame.shape
            return FramePacket(index, now, w, h, image=cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
        return None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
        self._cap = None
        self.current_format = None
