"""The recorder: a capture thread, a writer thread, a preview thread and live statistics.

capture thread ── packets ──> bounded queue ──> writer thread ──> .mkv + .timestamps.csv
      │
      └── newest packet ──> PreviewSlot ──> preview thread (~30 Hz, reduced decode)
                                               ├── latest preview frame  (UI polls)
                                               └── DelayRing ── delayed preview frame

No signal is sent per frame and no exception escapes a thread: failures end up in
``Recorder.error`` / ``RecordingResult.stop_reason`` with a plain-language message, and whatever
was captured before a failure is written and finalised.
"""

from __future__ import annotations

import contextlib
import json
import queue
import shutil
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path

from .errors import (
    CameraDisconnectedError,
    CameraError,
    CaptureError,
    DestinationError,
    DiskFullError,
)
from .packets import CameraFormat, FramePacket, clock_ns
from .preview import DelayRing, PreviewFrame, PreviewSlot, decode_preview, shrink_raw
from .sources import CameraSource
from .writer import RecordingWriter, sidecar_path

DEFAULT_MIN_FREE_BYTES = 500 * 1024**2


def disk_free_bytes(folder: Path) -> int:
    """Free bytes on the disk holding ``folder`` (its nearest existing parent)."""
    p = Path(folder)
    while not p.exists() and p != p.parent:
        p = p.parent
    return shutil.disk_usage(p).free


class RecorderState(str, Enum):
    """What the recorder is doing, for the UI."""

    IDLE = "idle"
    OPENING = "opening"
    LIVE = "live"
    RECORDING = "recording"
    ERROR = "error"
    CLOSED = "closed"


class StopReason(str, Enum):
    """Why a recording ended. Anything but USER means it ended early (all frames kept)."""

    USER = "stopped"
    CAMERA_DISCONNECTED = "camera_disconnected"
    DISK_FULL = "disk_full"
    WRITE_ERROR = "write_error"
    SHUTDOWN = "shutdown"


@dataclass(frozen=True)
class RecorderStats:
    """A snapshot for the UI; cheap to take at display rate."""

    state: RecorderState
    format: CameraFormat | None
    measured_fps: float  # camera rate over the last second, from capture timestamps
    recording: bool
    elapsed_s: float = 0.0
    file_bytes: int = 0
    captured: int = 0  # frames the recorder received from the camera while recording
    written: int = 0
    dropped: int = 0  # frames lost so far: queue overflow plus gaps in the camera's numbering
    queued: int = 0


@dataclass(frozen=True)
class RecordingResult:
    """The outcome of one recording; also saved as ``<name>.recording.json``."""

    path: Path
    sidecar: Path
    captured: int
    written: int
    dropped: int
    camera_missed: int  # gaps in the camera's own frame numbering (lost before we saw them)
    measured_fps: float  # real capture rate: (frames - 1) / (last - first timestamp)
    requested_fps: float
    duration_s: float
    stop_reason: StopReason
    message: str

    @property
    def ended_early(self) -> bool:
        return self.stop_reason is not StopReason.USER


class _FpsMeter:
    """Frame rate over a sliding one-second window of capture timestamps."""

    def __init__(self, window_ns: int = 1_000_000_000) -> None:
        self.window_ns = window_ns
        self._t: deque[int] = deque()

    def add(self, t_ns: int) -> None:
        self._t.append(t_ns)
        while self._t and t_ns - self._t[0] > self.window_ns:
            self._t.popleft()

    def fps(self) -> float:
        t = list(self._t)
        if len(t) < 2 or t[-1] == t[0]:
            return 0.0
        return (len(t) - 1) * 1e9 / (t[-1] - t[0])


_END = object()


class _Recording:
    """State of one recording shared by the capture and writer threads."""

    def __init__(self, writer: RecordingWriter, queue_size: int, requested_fps: float) -> None:
        self.writer = writer
        self.queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self.lock = threading.Lock()
        self.accepting = True
        # Frames captured before this clock time are not part of the recording (MultiRecorder
        # prepares every file first, then opens all gates at one instant).
        self.gate_ns = 0
        self.requested_fps = requested_fps
        self.start_ns = clock_ns()
        self.captured = 0
        self.overflow = 0
        self.written = 0
        self.first_index: int | None = None
        self.last_index = -1
        self.first_ns: int | None = None
        self.last_ns = 0
        self.reason: StopReason | None = None
        self.message = ""
        self.done = threading.Event()
        self.result: RecordingResult | None = None
        self.thread: threading.Thread | None = None

    def offer(self, packet: FramePacket) -> None:
        """Called by the capture thread; never blocks (a full queue drops the frame)."""
        with self.lock:
            if not self.accepting or packet.timestamp_ns < self.gate_ns:
                return
            self.captured += 1
            if self.first_index is None:
                self.first_index = packet.index
                self.first_ns = packet.timestamp_ns
            self.last_index = packet.index
            self.last_ns = packet.timestamp_ns
            try:
                self.queue.put_nowait(packet)
            except queue.Full:
                self.overflow += 1

    def end(self, reason: StopReason, message: str = "") -> None:
        """Stop accepting frames; the writer finishes what is queued, then finalises."""
        with self.lock:
            if not self.accepting:
                return
            self.accepting = False
            self.reason = reason
            self.message = message
        while not self.done.is_set():  # the writer drains, so this put soon succeeds
            try:
                self.queue.put(_END, timeout=0.1)
                return
            except queue.Full:
                continue

    def camera_missed(self) -> int:
        if self.first_index is None:
            return 0
        return max(0, (self.last_index - self.first_index + 1) - self.captured)


_MESSAGES = {
    StopReason.USER: "Recording saved.",
    StopReason.SHUTDOWN: "Recording saved (the program was closing).",
}


class Recorder:
    """Runs one camera: live preview at all times, recording on request.

    ``start()`` opens the camera on the capture thread (never blocks the caller); watch
    ``state`` / ``error``. ``start_recording(folder)`` writes into that folder until
    ``stop_recording()`` or a fault (camera unplugged, disk nearly full, write error).
    ``free_space`` and ``min_free_bytes`` are injectable so tests can simulate a full disk.
    """

    def __init__(
        self,
        source: CameraSource,
        fmt: CameraFormat | None = None,
        *,
        queue_size: int = 240,
        min_free_bytes: int = DEFAULT_MIN_FREE_BYTES,
        free_space: Callable[[Path], int] = disk_free_bytes,
        disk_check_interval_s: float = 1.0,
        silence_timeout_s: float = 2.0,
        preview_hz: float = 30.0,
        preview_max_width: int = 960,
        delay_capacity_s: float = 30.0,
    ) -> None:
        self.source = source
        self.requested_format = fmt
        self.queue_size = queue_size
        self.min_free_bytes = min_free_bytes
        self.free_space = free_space
        self.disk_check_interval_ns = int(disk_check_interval_s * 1e9)
        self.silence_timeout_ns = int(silence_timeout_s * 1e9)
        self.preview_period_s = 1.0 / preview_hz
        self.preview_max_width = preview_max_width
        self.format: CameraFormat | None = None
        self.state = RecorderState.IDLE
        self.error: CaptureError | None = None
        self.last_result: RecordingResult | None = None
        self._stop = threading.Event()
        self._live = threading.Event()
        self._meter = _FpsMeter()
        self._meter_lock = threading.Lock()
        self._slot = PreviewSlot()
        self._latest = PreviewSlot()
        self._delayed = PreviewSlot()
        self._ring = DelayRing(delay_capacity_s)
        self._delay_s: float | None = None
        self._rec: _Recording | None = None
        self._threads: list[threading.Thread] = []

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Open the camera and start the live preview (asynchronously)."""
        if self._threads:
            return
        self.state = RecorderState.OPENING
        for target, name in ((self._capture_loop, "capture"), (self._preview_loop, "preview")):
            t = threading.Thread(target=target, name=f"stride-{name}", daemon=True)
            self._threads.append(t)
            t.start()

    def wait_live(self, timeout: float = 5.0) -> bool:
        """Wait until the camera delivers (True) or failed / timed out (False)."""
        self._live.wait(timeout)
        return self.state in (RecorderState.LIVE, RecorderState.RECORDING)

    def close(self, timeout: float = 5.0) -> RecordingResult | None:
        """Stop any recording (keeping it), stop all threads, release the camera."""
        result = None
        if self._rec is not None:
            result = self.stop_recording(timeout, reason=StopReason.SHUTDOWN)
        self._stop.set()
        for t in self._threads:
            t.join(timeout)
        self._threads = []
        if self.state is not RecorderState.ERROR:
            self.state = RecorderState.CLOSED
        return result

    # ---------------------------------------------------------------- recording

    @property
    def is_recording(self) -> bool:
        rec = self._rec
        return rec is not None and not rec.done.is_set()

    def start_recording(self, folder: Path, name: str | None = None, *,
                        t0_ns: int | None = None, hold: bool = False) -> Path:  # fmt: skip
        """Start writing into ``folder``; returns the video path.

        ``t0_ns`` (clock time of pts 0) lets several recorders share one time line. With
        ``hold=True`` no frame is taken until :meth:`release_recording` opens the gate.
        Raises :class:`.DestinationError`, :class:`.DiskFullError` or :class:`.CameraError`.
        """
        if self.is_recording:
            raise CaptureError("A recording is already running.")
        if self.state is not RecorderState.LIVE or self.format is None:
            raise self.error or CameraDisconnectedError("The camera is not delivering pictures.")
        folder = Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DestinationError(
                f"The recording folder {folder} cannot be created ({exc.strerror or exc}). "
                "Check that the drive is connected and that you may save files there."
            ) from exc
        self._check_space(folder)
        stem = name or datetime.now().strftime("capture_%Y%m%d_%H%M%S")
        t0 = clock_ns() if t0_ns is None else t0_ns
        for n in range(1, 10_000):
            path = folder / (f"{stem}.mkv" if n == 1 else f"{stem}_{n}.mkv")
            if path.exists() or sidecar_path(path).exists():
                continue
            try:
                # The writer creates both files exclusively: a name taken meanwhile by another
                # workstation recording into the same folder raises FileExistsError here.
                writer = RecordingWriter(path, self.format.fps, t0)
            except FileExistsError:
                continue
            except OSError as exc:
                raise DestinationError(
                    f"Cannot save into {folder} ({exc.strerror or exc}). "
                    "Check that you may save files there."
                ) from exc
            break
        else:
            raise DestinationError(f"No free file name for a new recording in {folder}.")
        rec = _Recording(writer, self.queue_size, self.format.fps)
        if hold:
            rec.gate_ns = 2**63 - 1
        rec.thread = threading.Thread(
            target=self._writer_loop, args=(rec,), name="stride-writer", daemon=True
        )
        self._rec = rec
        self.last_result = None
        self.state = RecorderState.RECORDING
        rec.thread.start()
        return path

    def release_recording(self, t0_ns: int) -> None:
        """Start a held recording: frames captured at or after ``t0_ns`` are recorded, and
        ``t0_ns`` becomes pts 0."""
        rec = self._rec
        if rec is not None:
            with rec.lock:
                rec.writer.t0_ns = t0_ns
                rec.start_ns = t0_ns
                rec.gate_ns = t0_ns

    def request_stop_recording(self, reason: StopReason = StopReason.USER) -> None:
        """Ask the recording to finish (non-blocking); poll ``last_result``."""
        rec = self._rec
        if rec is not None:
            threading.Thread(target=rec.end, args=(reason,), daemon=True).start()

    def stop_recording(self, timeout: float = 10.0, *,
                       reason: StopReason = StopReason.USER) -> RecordingResult | None:  # fmt: skip
        """Finish the recording (all captured frames are written) and return its result."""
        rec = self._rec
        if rec is None:
            return self.last_result
        rec.end(reason)
        rec.done.wait(timeout)
        return rec.result

    def _check_space(self, folder: Path) -> None:
        try:
            free = self.free_space(folder)
        except OSError:
            return  # cannot tell: the writer will still stop cleanly on a real write error
        if free < self.min_free_bytes:
            raise DiskFullError(
                f"Only {free / 1e9:.1f} GB is free on the disk where recordings are saved; "
                f"at least {self.min_free_bytes / 1e9:.1f} GB is needed. "
                "Free some space or move old recordings, then try again."
            )

    # ---------------------------------------------------------------- UI polling

    def stats(self) -> RecorderStats:
        with self._meter_lock:
            fps = self._meter.fps()
        rec = self._rec
        if rec is None or rec.done.is_set():
            return RecorderStats(self.state, self.format, fps, False)
        return RecorderStats(
            self.state,
            self.format,
            fps,
            True,
            elapsed_s=(clock_ns() - rec.start_ns) / 1e9,
            file_bytes=rec.writer.size_bytes,
            captured=rec.captured,
            written=rec.written,
            dropped=rec.overflow + rec.camera_missed(),
            queued=rec.queue.qsize(),
        )

    def latest_preview(self) -> PreviewFrame | None:
        """The newest decoded preview frame (newest wins; older ones are never queued)."""
        return self._latest.get()[1]  # type: ignore[return-value]

    def set_delay(self, seconds: float | None) -> None:
        """Show the picture ``seconds`` late in :meth:`delayed_preview` (None/0: off)."""
        self._delay_s = seconds if seconds and seconds > 0 else None
        if self._delay_s is None:
            self._delayed.clear()

    def delayed_preview(self) -> PreviewFrame | None:
        """The frame captured ``delay`` seconds ago (None until the ring holds that much)."""
        return self._delayed.get()[1]  # type: ignore[return-value]

    def delay_buffered_s(self) -> float:
        return self._ring.span_s()

    # ---------------------------------------------------------------- threads

    def _fail(self, error: CaptureError) -> None:
        self.error = error
        self.state = RecorderState.ERROR

    def _capture_loop(self) -> None:
        try:
            try:
                self.format = self.source.open(self.requested_format)
            except CaptureError as exc:
                self._fail(exc)
                return
            except Exception as exc:  # a driver error must not escape the thread
                self._fail(CameraError(f"The camera could not be started: {exc}"))
                return
            self.state = RecorderState.LIVE
            self._live.set()
            last_frame = clock_ns()
            while not self._stop.is_set():
                try:
                    packet = self.source.read()
                except CameraError as exc:
                    self._on_camera_lost(exc)
                    return
                except Exception as exc:
                    self._on_camera_lost(CameraDisconnectedError(
                        f"The camera stopped sending pictures ({exc}). Check it, then press Retry."
                    ))  # fmt: skip
                    return
                now = clock_ns()
                if packet is None:
                    if now - last_frame > self.silence_timeout_ns:
                        self._on_camera_lost(CameraDisconnectedError())
                        return
                    continue
                last_frame = now
                with self._meter_lock:
                    self._meter.add(packet.timestamp_ns)
                self._slot.put(packet)
                rec = self._rec
                if rec is not None:
                    rec.offer(packet)
        except BaseException as exc:  # pragma: no cover - last-resort guard
            self._on_camera_lost(CameraDisconnectedError(f"Capture failed: {exc}"))
        finally:
            self._live.set()
            with contextlib.suppress(Exception):
                self.source.close()

    def _on_camera_lost(self, exc: CaptureError) -> None:
        self._fail(exc)
        rec = self._rec
        if rec is not None:
            rec.end(StopReason.CAMERA_DISCONNECTED, str(exc))

    def _preview_loop(self) -> None:
        seen = -1
        delayed_index = -1
        while not self._stop.wait(self.preview_period_s):
            try:
                version, packet = self._slot.get()
                if version != seen and isinstance(packet, FramePacket):
                    seen = version
                    frame = decode_preview(packet, self.preview_max_width)
                    if frame is not None:
                        self._latest.put(frame)
                    self._ring.add(shrink_raw(packet, self.preview_max_width))
                delay = self._delay_s
                if delay:
                    old = self._ring.at(clock_ns() - int(delay * 1e9))
                    if old is not None and old.index != delayed_index:
                        delayed_index = old.index
                        frame = decode_preview(old, self.preview_max_width)
                        if frame is not None:
                            self._delayed.put(frame)
            except Exception:  # noqa: S112 - a bad frame must not end the preview
                continue

    def _writer_loop(self, rec: _Recording) -> None:
        folder = rec.writer.path.parent
        next_check = clock_ns() + self.disk_check_interval_ns
        try:
            while True:
                item = rec.queue.get()
                if item is _END:
                    break
                assert isinstance(item, FramePacket)
                rec.writer.write(item)
                rec.written += 1
                if clock_ns() >= next_check:
                    next_check = clock_ns() + self.disk_check_interval_ns
                    try:
                        self._check_space(folder)
                    except DiskFullError as exc:
                        self._end_from_writer(rec, StopReason.DISK_FULL, str(exc))
                        break
        except OSError as exc:
            full = getattr(exc, "errno", None) == 28  # ENOSPC
            self._end_from_writer(
                rec,
                StopReason.DISK_FULL if full else StopReason.WRITE_ERROR,
                ("The disk is full. " if full else f"Saving failed ({exc}). ")
                + "Everything recorded up to this moment has been kept.",
            )
        except BaseException as exc:
            self._end_from_writer(rec, StopReason.WRITE_ERROR, f"Saving failed ({exc}).")
        finally:
            self._finish(rec)

    def _end_from_writer(self, rec: _Recording, reason: StopReason, message: str) -> None:
        with rec.lock:
            rec.accepting = False
            if rec.reason is None:
                rec.reason, rec.message = reason, message

    def _finish(self, rec: _Recording) -> None:
        """Close the files and publish the result; runs on the writer thread, never raises."""
        close_error = ""
        try:
            rec.writer.close()
        except Exception as exc:
            close_error = f" ({exc})"
        reason = rec.reason or StopReason.USER
        span = (rec.last_ns - rec.first_ns) / 1e9 if rec.first_ns is not None else 0.0
        measured = (rec.captured - 1) / span if span > 0 and rec.captured > 1 else 0.0
        written = rec.written
        message = rec.message or _MESSAGES.get(reason, "")
        if reason is StopReason.CAMERA_DISCONNECTED:
            message = f"Recording stopped: the camera stopped sending pictures. {written} frames were saved."
        elif reason is StopReason.DISK_FULL and "kept" not in message:
            message += f" Recording stopped; the {written} frames recorded were kept."
        result = RecordingResult(
            path=rec.writer.path,
            sidecar=sidecar_path(rec.writer.path),
            captured=rec.captured,
            written=written,
            dropped=rec.captured - written + rec.camera_missed(),
            camera_missed=rec.camera_missed(),
            measured_fps=measured,
            requested_fps=rec.requested_fps,
            duration_s=span,
            stop_reason=reason,
            message=message + close_error,
        )
        try:
            if written:
                meta = {
                    k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(result).items()
                }
                meta["stop_reason"] = reason.value
                meta["t0_ns"] = rec.writer.t0_ns
                meta["format"] = asdict(self.format) if self.format else None
                meta["camera"] = self.source.name
                rec.writer.path.with_suffix(".recording.json").write_text(
                    json.dumps(meta, indent=2), encoding="utf-8"
                )
        except OSError:
            pass  # the video and the timestamp sidecar are what matter
        rec.result = result
        self.last_result = result
        if self.state is RecorderState.RECORDING:
            self.state = RecorderState.LIVE
        self._rec = None
        rec.done.set()
