"""Metronome sound output: a click track rendered seconds ahead, played with no Python at beat time.

The click track (:class:`app.prescription.click_track.ClickTrack`) is rendered ``AHEAD_S`` seconds
ahead into a temporary file that a ``QAudioSink`` reads in pull mode through a ``QFile``. The
sink lives on its own ``QThread`` whose event loop runs no Python at all while playing (Python
there would wait for the interpreter lock: a slot on that thread was seen 130 ms late with the
live analysis running, long enough to empty the sink's buffer). A Python writer thread renders
ahead into the same file (through its own descriptor) every ``REFILL_S``: it may be
held up for seconds without a click being late. A change (tempo, cue on/off, volume, accent)
applies to the track from ``MARGIN_S`` after the sink's read position, and the file is rendered
again from there: heard after that margin, the sink's buffer and the sound server's
(``MARGIN_S`` + ``SINK_BUFFER_S`` + ``SERVER_LATENCY_MS``, about 0.4 s). Cue switches that are
known ahead (a faded-feedback schedule) are in the track beforehand and sound on time.

The file is sparse (its size is set once; unwritten parts read as silence, so a writer that
falls behind gives silence, never a stalled device) and deleted when the sound stops.

PulseAudio (also PipeWire's pulse server) is asked for ``SERVER_LATENCY_MS`` of buffering with
libpulse's own ``PULSE_LATENCY_MSEC`` (unless the user set it): Qt otherwise leaves the server
a few milliseconds only, and a late wake-up of the client's sound thread on a busy machine let
the server play silence (a beat 10–90 ms late in the null-sink test,
tests/e2e/test_practice_audio.py, even with the whole track written before the start). The
sound threads also get real-time scheduling where the system allows it.

Without a sound device (or without Qt Multimedia's libraries) :class:`AudioUnavailable` says why.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import tempfile
import threading
from collections.abc import Callable

from PySide6.QtCore import QFile, QIODevice, QObject, Qt, QThread, Signal, Slot

from app.prescription.click_track import ClickTrack

_log = logging.getLogger(__name__)

AHEAD_S = 4.0  # rendered ahead of the sink's read position
REFILL_S = 0.25
MARGIN_S = 0.1  # a change starts this far after the read position (the sink reads on meanwhile)
SINK_BUFFER_S = 0.1
SERVER_LATENCY_MS = 200
FILE_HOURS = 3  # the sparse file's size (~950 MB, unwritten parts take no disk where the file
# system is sparse): the longest one start can sound; at its end the metronome says so

Change = Callable[[ClickTrack, int], None]
"""A change to the track, given the first sample the sound output has not taken yet."""


def _server_latency_s() -> float:
    try:
        return max(0.0, float(os.environ.get("PULSE_LATENCY_MSEC", "0")) / 1000)
    except ValueError:
        return 0.0


AUDIO_THREAD_NAMES = ("QPulseAudio", "threaded-ml", "metronome-audio")
"""Name prefixes: Qt's PulseAudio client threads, libpulse's, ours."""
RT_PRIORITY = 10


def boost_audio_threads() -> list[str]:
    """Real-time scheduling (``SCHED_RR``) for the threads that move the sound, where the
    system allows it (root, or a real-time limit for the user; sound servers get theirs from
    rtkit): on a busy machine they then wake on time. Linux only; elsewhere, or without the
    right, nothing changes. Returns the names of the threads boosted."""
    if not hasattr(os, "sched_setscheduler"):
        return []
    boosted = []
    param = os.sched_param(RT_PRIORITY)
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return []
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                name = f.read().strip()
            if name.startswith(AUDIO_THREAD_NAMES):
                os.sched_setscheduler(int(tid), os.SCHED_RR, param)
                boosted.append(name)
        except (OSError, ValueError):  # no right to it, or the thread has ended
            continue
    if boosted:
        _log.info("real-time scheduling for the sound threads: %s", ", ".join(boosted))
    return boosted


class AudioUnavailable(Exception):
    """No usable sound output; the message is shown to the clinician."""


class AudioBackend(QObject):
    """What the metronome widget needs from a sound output (a seam for tests)."""

    failed = Signal(str)

    def start(self, track: ClickTrack, lock: threading.Lock) -> None:  # pragma: no cover
        raise NotImplementedError

    def stop(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def played_samples(self) -> int:  # pragma: no cover - interface
        """Samples the output has played since start (its play position)."""
        raise NotImplementedError

    def change(self, fn: Change) -> None:  # pragma: no cover - interface
        """Apply ``fn(track, at)`` under the lock, ``at`` = the first sample not yet taken by the
        output, and render again from there."""
        raise NotImplementedError


def probe_audio() -> str | None:
    """None when a sound output looks usable, else a plain reason."""
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError as e:  # e.g. libpulse missing on a Linux machine
        _log.warning("Qt Multimedia unavailable: %s", e)
        return "Sound output is not available on this computer."
    if QMediaDevices.defaultAudioOutput().isNull():
        return "No sound device found."
    return None


class _Sink(QObject):
    """Lives on the audio thread: the sink reading the file. Python runs here only to open,
    check and close; between, the thread's event loop is Qt's alone."""

    started = Signal(str)  # "" when playing, else the reason it could not start

    def __init__(self, sample_rate: int, path: str) -> None:
        super().__init__()
        self._sr = sample_rate
        self._path = path
        self.sink = None  # read by other threads: processedUSecs (a counter)
        self.file: QFile | None = None  # read by the writer: pos() (a counter)
        self._sink = None

    @Slot()
    def open(self) -> None:
        try:
            self._open()
        except AudioUnavailable as e:
            self.close()
            self.started.emit(str(e))
            return
        self.started.emit("")

    def _open(self) -> None:
        from PySide6.QtMultimedia import QAudioFormat, QAudioSink, QMediaDevices

        fmt = QAudioFormat()
        fmt.setSampleRate(self._sr)
        fmt.setChannelCount(1)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        device = QMediaDevices.defaultAudioOutput()
        if device.isNull():
            raise AudioUnavailable("No sound device found.")
        if not device.isFormatSupported(fmt):
            raise AudioUnavailable("The sound device does not accept 16-bit mono audio.")
        os.environ.setdefault("PULSE_LATENCY_MSEC", str(SERVER_LATENCY_MS))
        f = QFile(self._path, self)
        if not f.open(QIODevice.OpenModeFlag.ReadOnly | QIODevice.OpenModeFlag.Unbuffered):
            raise AudioUnavailable("The metronome sound could not be prepared (temporary file).")
        self.file = f
        self._sink = QAudioSink(device, fmt, self)
        self._sink.setBufferSize(int(self._sr * 2 * SINK_BUFFER_S))
        self._sink.start(f)
        if self._sink.error().name != "NoError":
            raise AudioUnavailable("The sound device could not be started.")
        self.sink = self._sink
        boost_audio_threads()

    def check(self) -> str:
        """'' while fine; a reason when stopped with an error (an underrun is not one).
        Polled: PySide cannot pass ``stateChanged``'s argument across threads."""
        if self._sink is None:
            return ""
        if self._sink.state().name == "StoppedState" and self._sink.error().name not in (
            "NoError",
            "UnderrunError",
        ):
            return "The sound device stopped working."
        return ""

    @Slot()
    def close(self) -> None:
        self.sink = None
        if self._sink is not None:
            self._sink.stop()
            self._sink.deleteLater()
            self._sink = None
        if self.file is not None:
            self.file.close()
            self.file = None


class _Writer(threading.Thread):
    """Renders the track ahead of the sink's read position into the file; applies changes."""

    def __init__(self, owner: PrerenderedAudio, fd: int, track: ClickTrack,
                 lock: threading.Lock) -> None:  # fmt: skip
        super().__init__(name="metronome-writer", daemon=True)
        self._owner = owner
        self._fd = fd
        self._track = track
        self._lock = lock
        self._sr = track.sample_rate
        self.changes: queue.SimpleQueue[Change | None] = queue.SimpleQueue()
        self.end = 0  # rendered up to this sample
        self.limit = FILE_HOURS * 3600 * self._sr  # the file's length in samples
        self.failed = ""

    def read_position(self) -> int:
        f = self._owner._sink.file if self._owner._sink is not None else None
        return (f.pos() // 2) if f is not None else 0

    def _write(self, start: int, end: int) -> None:
        with self._lock:
            data = self._track.render(start, end).astype("<i2").tobytes()
        os.lseek(self._fd, start * 2, os.SEEK_SET)  # this thread alone writes: no pwrite needed
        os.write(self._fd, data)

    def prime(self) -> None:
        """Render the first ``AHEAD_S`` before the sink starts."""
        self.end = int(AHEAD_S * self._sr)
        self._write(0, self.end)

    def run(self) -> None:
        try:
            while True:
                try:
                    fn = self.changes.get(timeout=REFILL_S)
                except queue.Empty:
                    fn = ...
                if fn is None:
                    return
                pos = self.read_position()
                if fn is not ...:
                    at = min(pos + int(MARGIN_S * self._sr), self.end)
                    with self._lock:
                        fn(self._track, at)
                    if self.end > at:
                        self._write(at, self.end)
                if pos >= self.limit - int(REFILL_S * self._sr):
                    # The end of the file: said, not a silent metronome (the widget goes on with
                    # the visual beat and says why).
                    self.failed = (f"The metronome has sounded for {FILE_HOURS} hours without a "
                                   "stop, its longest stretch: stop it and start it again.")  # fmt: skip
                    return
                want = min(pos + int(AHEAD_S * self._sr), self.limit)
                if self.end < want:
                    self._write(self.end, want)
                    self.end = want
                    with self._lock:
                        self._track.forget_before(max(0, pos - self._sr))
        except OSError as e:  # the temporary file: disk full, removed
            _log.warning("metronome sound writer stopped: %s", e)
            self.failed = "The metronome sound could not be written (temporary file)."


class PrerenderedAudio(AudioBackend):
    """The Qt sound output: the track rendered ahead into a file, read by a sink on its own
    thread."""

    _open = Signal()
    _close = Signal()

    def __init__(self, sample_rate: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        reason = probe_audio()
        if reason:
            raise AudioUnavailable(reason)
        self._sr = sample_rate
        self._thread: QThread | None = None
        self._sink: _Sink | None = None
        self._writer: _Writer | None = None
        self._fd: int | None = None
        self._path: str | None = None
        self._timer_id = 0

    def start(self, track: ClickTrack, lock: threading.Lock) -> None:
        try:
            fd, path = tempfile.mkstemp(prefix="stride-metronome-", suffix=".pcm")
            os.ftruncate(fd, FILE_HOURS * 3600 * self._sr * 2)  # sparse: reads as silence
        except OSError as e:
            raise AudioUnavailable(
                f"The metronome sound could not be prepared (temporary file: {e.strerror})."
            ) from None
        self._fd, self._path = fd, path
        writer = _Writer(self, fd, track, lock)
        self._writer = writer
        try:
            writer.prime()
        except OSError as e:
            self.stop()
            raise AudioUnavailable(
                f"The metronome sound could not be prepared ({e.strerror})."
            ) from None
        thread = QThread()
        thread.setObjectName("metronome-audio")
        sink = _Sink(self._sr, path)
        sink.moveToThread(thread)
        result: list[str] = []
        done = threading.Event()

        def on_started(reason: str) -> None:  # runs on the audio thread (direct connection)
            result.append(reason)
            done.set()

        sink.started.connect(on_started, Qt.ConnectionType.DirectConnection)
        self._open.connect(sink.open)
        self._close.connect(sink.close, Qt.ConnectionType.BlockingQueuedConnection)
        thread.finished.connect(sink.deleteLater)
        thread.start()
        self._thread, self._sink = thread, sink
        self._open.emit()
        if not done.wait(10.0) or result[0]:
            self.stop()
            raise AudioUnavailable(result[0] if result else "The sound device did not start.")
        writer.start()
        self._timer_id = self.startTimer(500)  # device errors, a failed writer

    def timerEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._sink is None:
            return
        reason = self._writer.failed if self._writer is not None else ""
        # read from here, not called on the audio thread: no Python runs there while playing
        reason = reason or self._sink.check()
        if reason:
            self.killTimer(self._timer_id)
            self.failed.emit(reason)

    def change(self, fn: Change) -> None:
        if self._writer is not None:
            self._writer.changes.put(fn)

    def played_samples(self) -> int:
        """What is being heard: the sink counts what it has given the sound server, which
        holds about ``PULSE_LATENCY_MSEC`` more before it is played."""
        sink = self._sink.sink if self._sink is not None else None
        if sink is None:
            return 0
        given = sink.processedUSecs() * self._sr // 1_000_000  # a plain read of a counter
        return max(0, int(given - _server_latency_s() * self._sr))

    def stop(self) -> None:
        if self._timer_id:
            self.killTimer(self._timer_id)
            self._timer_id = 0
        writer, self._writer = self._writer, None
        if writer is not None and writer.is_alive():
            writer.changes.put(None)
            writer.join(5.0)
        thread = self._thread
        self._thread = None
        if thread is not None and thread.isRunning():
            self._close.emit()
            thread.quit()
            thread.wait(5000)
        self._sink = None  # deleted with its thread; its connections go with it
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._path)
            self._path = None
