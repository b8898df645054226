"""Metronome widget: start/stop, tempo = target cadence, volume, accent, a big visual beat.

Audio goes through Qt Multimedia's ``QAudioSink`` in pull mode, fed by a ``QIODevice`` whose
``readData`` generates the next block from :class:`app.prescription.metronome.MetronomeStream`.
The visual beat flashes from the *played* sample position (``processedUSecs``), looked up in the
stream's beat history, so light and click stay together even across live tempo changes.

Without a sound device (or without Qt Multimedia's system libraries) the widget says so and runs
the visual beat from a clock: elapsed time → sample position → beat. If the device fails while
playing, it falls back to the clock with a message.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QElapsedTimer, QIODevice, QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.outputs import OutputRules, rules_for_home
from app.prescription.metronome import (
    DEFAULT_SAMPLE_RATE,
    ExportCancelled,
    MetronomeError,
    MetronomeStream,
    export,
)
from ui.tasks import BackgroundTask, user_message

_log = logging.getLogger(__name__)

FLASH_SECONDS = 0.15
POLL_MS = 15  # display rate; the beat itself is timed by the sample position, not this timer
BUFFER_SECONDS = 0.08  # small buffer: a live tempo change is heard within ~80 ms
ACCENT_CHOICES = (0, 2, 3, 4, 8)


class AudioUnavailable(Exception):
    """No usable sound output; the message is shown to the clinician."""


class MetronomeDevice(QIODevice):
    """A read-only, endless QIODevice that synthesises the click stream on demand."""

    def __init__(
        self, stream: MetronomeStream, lock: threading.Lock, parent: QObject | None = None
    ):
        super().__init__(parent)
        self._stream = stream
        self._lock = lock

    def isSequential(self) -> bool:  # noqa: N802 (Qt override)
        return True

    def bytesAvailable(self) -> int:  # noqa: N802
        # endless source: always has data (Qt's own generator example does the same)
        return (1 << 16) + super().bytesAvailable()

    def readData(self, maxlen: int) -> bytes:  # noqa: N802
        n = int(maxlen) // 2  # int16 mono
        if n <= 0:
            return b""
        # the sink may pull from its own thread: the stream is shared with the GUI
        with self._lock:
            return self._stream.read(n).astype("<i2").tobytes()

    def writeData(self, data: bytes, maxlen: int = 0) -> int:  # noqa: N802
        return -1


class AudioBackend(QObject):
    """What the widget needs from a sound output (a seam for tests and other backends)."""

    failed = Signal(str)

    def start(self, device: QIODevice) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def stop(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def played_samples(self) -> int:  # pragma: no cover - interface
        """Samples the output has consumed since start (its play position)."""
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


class QtAudioBackend(AudioBackend):
    """``QAudioSink`` in pull mode (mono, 16-bit)."""

    def __init__(self, sample_rate: int, parent: QObject | None = None):
        super().__init__(parent)
        reason = probe_audio()
        if reason:
            raise AudioUnavailable(reason)
        from PySide6.QtMultimedia import QAudioFormat, QAudioSink, QMediaDevices

        fmt = QAudioFormat()
        fmt.setSampleRate(sample_rate)
        fmt.setChannelCount(1)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        device = QMediaDevices.defaultAudioOutput()
        if not device.isFormatSupported(fmt):
            raise AudioUnavailable("The sound device does not accept 16-bit mono audio.")
        self._sr = sample_rate
        self._sink = QAudioSink(device, fmt, self)
        self._sink.setBufferSize(int(sample_rate * 2 * BUFFER_SECONDS))
        self._sink.stateChanged.connect(self._on_state)
        self._stopping = False

    def start(self, device: QIODevice) -> None:
        self._stopping = False
        self._sink.start(device)
        if self._sink.error().name != "NoError":
            raise AudioUnavailable("The sound device could not be started.")

    def stop(self) -> None:
        self._stopping = True
        self._sink.stop()

    def played_samples(self) -> int:
        return int(self._sink.processedUSecs() * self._sr // 1_000_000)

    def _on_state(self, state: object) -> None:
        if self._stopping:
            return
        name = getattr(state, "name", str(state))
        err = self._sink.error()
        # Underrun is normal for a pull source on a busy machine; stopped with an error is not
        if name == "StoppedState" and err.name not in ("NoError", "UnderrunError"):
            self.failed.emit("The sound device stopped working.")


AudioFactory = Callable[[int, QObject], AudioBackend]


class BeatLight(QWidget):
    """A large circle that flashes on every beat (accents in a different colour)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.level = 0.0
        self.accent = False
        self.text = ""
        self.setMinimumSize(140, 140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_state(self, level: float, accent: bool, text: str) -> None:
        if (level, accent, text) != (self.level, self.accent, self.text):
            self.level, self.accent, self.text = level, accent, text
            self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = min(self.width(), self.height()) - 8
        rect = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        idle = QColor(60, 64, 72)
        hot = QColor(255, 140, 0) if self.accent else QColor(0, 200, 120)
        t = max(0.0, min(1.0, self.level))
        c = QColor(
            int(idle.red() + (hot.red() - idle.red()) * t),
            int(idle.green() + (hot.green() - idle.green()) * t),
            int(idle.blue() + (hot.blue() - idle.blue()) * t),
        )
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(c)
        p.drawEllipse(rect)
        p.setPen(QColor(255, 255, 255))
        f = QFont(self.font())
        f.setPixelSize(max(12, int(side * 0.28)))
        f.setBold(True)
        p.setFont(f)
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.text)
        p.end()


class MetronomeWidget(QWidget):
    """Metronome for practice in the clinic: tempo in beats per minute = target steps per minute."""

    started = Signal()
    stopped = Signal()
    bpm_changed = Signal(int)
    beat = Signal(int, bool)
    """Emitted when the visual beat advances: (beat number, accent)."""
    audio_status_changed = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        audio_factory: AudioFactory | None = None,
        sample_rate: int = DEFAULT_SAMPLE_RATE,
        bpm: int = 170,
    ):
        super().__init__(parent)
        self._sr = sample_rate
        self._factory: AudioFactory = audio_factory or (
            lambda sr, parent: QtAudioBackend(sr, parent)
        )
        self._lock = threading.Lock()
        self._stream: MetronomeStream | None = None
        self._device: MetronomeDevice | None = None
        self._backend: AudioBackend | None = None
        self._clock = QElapsedTimer()
        self._clock_base = 0
        self._last_beat = -1
        self._status = ""

        self._light = BeatLight(self)
        self._start_btn = QPushButton("Start", self)
        self._start_btn.setCheckable(True)
        self._start_btn.setMinimumHeight(44)
        self._start_btn.toggled.connect(self._on_toggle)
        self._minus = QPushButton("−1", self)
        self._plus = QPushButton("+1", self)
        for b in (self._minus, self._plus):
            b.setMinimumSize(48, 44)
        self._spin = QSpinBox(self)
        self._spin.setRange(60, 240)
        self._spin.setSuffix(" bpm")
        self._spin.setMinimumHeight(44)
        f = self._spin.font()
        f.setPointSizeF(f.pointSizeF() * 1.4)
        self._spin.setFont(f)
        self._spin.setToolTip(
            "Beats per minute = target steps per minute (one beat per foot contact)"
        )
        self._minus.clicked.connect(lambda: self._spin.stepBy(-1))
        self._plus.clicked.connect(lambda: self._spin.stepBy(1))
        self._spin.valueChanged.connect(self._on_bpm)
        self._volume = QSlider(Qt.Orientation.Horizontal, self)
        self._volume.setRange(0, 100)
        self._volume.setValue(80)
        self._volume.valueChanged.connect(self._on_volume)
        self._accent = QComboBox(self)
        for n in ACCENT_CHOICES:
            self._accent.addItem("No accent" if n == 0 else f"Accent every {n}", n)
        self._accent.currentIndexChanged.connect(self._on_accent)
        self._status_label = QLabel(self)
        self._status_label.setWordWrap(True)
        self._status_label.setStyleSheet(
            "QLabel { background: #fff3cd; color: #664d03; padding: 6px; border-radius: 4px; }"
        )
        self._status_label.hide()

        tempo = QHBoxLayout()
        tempo.addWidget(self._minus)
        tempo.addWidget(self._spin, 1)
        tempo.addWidget(self._plus)
        opts = QHBoxLayout()
        opts.addWidget(QLabel("Volume", self))
        opts.addWidget(self._volume, 1)
        opts.addWidget(self._accent)
        layout = QVBoxLayout(self)
        layout.addWidget(self._light, 1)
        layout.addLayout(tempo)
        layout.addWidget(self._start_btn)
        layout.addLayout(opts)
        layout.addWidget(self._status_label)

        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._tick)

        self._spin.setValue(int(bpm))
        self._light.set_state(0.0, False, str(self.bpm()))
        if audio_factory is None:
            reason = probe_audio()
            if reason:
                self._set_status(f"{reason} Visual beat only.")

    # -- public API ----------------------------------------------------------------------------
    def bpm(self) -> int:
        return int(self._spin.value())

    def set_bpm(self, bpm: int) -> None:
        """Set the tempo (= target spm); applied live, keeping the beat's phase."""
        self._spin.setValue(int(round(bpm)))

    def set_volume(self, volume: float) -> None:
        self._volume.setValue(int(round(max(0.0, min(1.0, volume)) * 100)))

    def volume(self) -> float:
        return self._volume.value() / 100

    def accent_every(self) -> int:
        """Accent every N beats (0: none)."""
        return int(self._accent.currentData())

    def set_accent_every(self, n: int) -> None:
        idx = self._accent.findData(int(n))
        if idx < 0:
            self._accent.addItem(f"Accent every {int(n)}", int(n))
            idx = self._accent.count() - 1
        self._accent.setCurrentIndex(idx)

    def is_running(self) -> bool:
        return self._stream is not None

    def audio_active(self) -> bool:
        """True when the clicks are going to a sound device (False: visual beat only)."""
        return self._backend is not None

    def status_text(self) -> str:
        return self._status

    def current_beat(self) -> int:
        """Number of the last beat shown (−1 before the first)."""
        return self._last_beat

    def start(self) -> None:
        if self.is_running():
            return
        self._stream = MetronomeStream(
            self.bpm(), self._sr, int(self._accent.currentData()), self._volume.value() / 100
        )
        self._last_beat = -1
        backend: AudioBackend | None = None
        try:
            backend = self._factory(self._sr, self)
            self._device = MetronomeDevice(self._stream, self._lock, self)
            self._device.open(QIODevice.OpenModeFlag.ReadOnly)
            backend.failed.connect(self._on_audio_failed)
            backend.start(self._device)
            self._backend = backend
            self._set_status("")
        except AudioUnavailable as e:
            if backend is not None:  # created but could not start
                backend.deleteLater()
            self._close_device()
            self._start_clock(0)
            self._set_status(f"{e} Visual beat only.")
        self._timer.start()
        self._sync_button(True)
        self._tick()
        self.started.emit()

    def stop(self) -> None:
        """Stop sound and the visual beat; safe to call at any time."""
        self._timer.stop()
        self._drop_backend()
        was_running = self._stream is not None
        self._stream = None
        self._light.set_state(0.0, False, str(self.bpm()))
        self._sync_button(False)
        if was_running:
            self.stopped.emit()

    def closeEvent(self, event) -> None:  # noqa: N802
        self.stop()
        super().closeEvent(event)

    # -- internals -----------------------------------------------------------------------------
    def _set_status(self, text: str) -> None:
        self._status = text
        self._status_label.setText(text)
        self._status_label.setVisible(bool(text))
        self.audio_status_changed.emit(text)

    def _sync_button(self, running: bool) -> None:
        self._start_btn.blockSignals(True)
        self._start_btn.setChecked(running)
        self._start_btn.setText("Stop" if running else "Start")
        self._start_btn.blockSignals(False)

    def _on_toggle(self, checked: bool) -> None:
        if checked:
            self.start()
        else:
            self.stop()

    def _drop_backend(self) -> None:
        """Stop and release the sound output and its device (no signal comes back after)."""
        backend, self._backend = self._backend, None
        if backend is not None:
            with contextlib.suppress(RuntimeError, TypeError):  # already disconnected
                backend.failed.disconnect(self._on_audio_failed)
            backend.stop()
            backend.deleteLater()
        self._close_device()

    def _close_device(self) -> None:
        if self._device is not None:
            self._device.close()
            self._device.deleteLater()
            self._device = None

    def _start_clock(self, base_samples: int) -> None:
        self._clock_base = base_samples
        self._clock.start()

    def _position(self) -> int:
        """Sample position that is being heard (audio) or is due now (clock)."""
        if self._backend is not None:
            return self._backend.played_samples()
        pos = self._clock_base + self._clock.nsecsElapsed() * self._sr // 1_000_000_000
        with self._lock:
            if self._stream is not None and pos > self._stream.position:
                self._stream.skip(pos - self._stream.position)
        return pos

    def _tick(self) -> None:
        if self._stream is None:
            return
        pos = self._position()
        with self._lock:
            b = self._stream.beat_at(pos)
        if b is None:
            return
        age = (pos - b.sample) / self._sr
        self._light.set_state(max(0.0, 1.0 - age / FLASH_SECONDS), b.accent, str(self.bpm()))
        if b.number != self._last_beat:
            self._last_beat = b.number
            self.beat.emit(b.number, b.accent)

    def _on_audio_failed(self, message: str) -> None:
        if self._backend is None or self._stream is None:
            return
        pos = self._backend.played_samples()
        self._drop_backend()
        # continue the visual beat from where the audio was (the stream is ahead by the buffer)
        with self._lock:
            self._start_clock(max(pos, self._stream.position))
        self._set_status(f"{message} Visual beat only.")

    def _on_bpm(self, value: int) -> None:
        if self._stream is not None:
            if self._backend is None:
                self._position()  # bring the clock-driven stream up to now first
            with self._lock:
                self._stream.set_bpm(value)
        self._light.set_state(self._light.level, self._light.accent, str(value))
        self.bpm_changed.emit(int(value))

    def _on_volume(self, value: int) -> None:
        if self._stream is not None:
            with self._lock:
                self._stream.set_volume(value / 100)

    def _on_accent(self, _index: int) -> None:
        if self._stream is not None:
            with self._lock:
                self._stream.set_accent_every(int(self._accent.currentData()))


class ExportThread(QObject):
    """Writes a metronome file off the GUI thread, on the one helper :class:`ui.tasks.BackgroundTask`.

    Keeps the small interface the prescription panel uses (``start``, ``isRunning``,
    ``requestInterruption``, ``wait`` and the three signals); progress arrives at the task's
    bounded rate, a cancel wins over a late result.
    """

    progress = Signal(int)  # percent
    succeeded = Signal(str)  # the written file
    failed = Signal(str)  # a plain sentence ("Export cancelled." when cancelled)

    def __init__(
        self,
        path: str,
        bpm: int,
        minutes: float,
        accent_every: int,
        volume: float,
        parent=None,
        *,
        rules: OutputRules | None = None,
    ):
        super().__init__(parent)
        # The save dialog asked before replacing a file; the data folder stays protected.
        rules = rules or rules_for_home(force=True)

        def job(progress, cancelled) -> str:  # type: ignore[no-untyped-def]
            return str(
                export(
                    path,
                    bpm,
                    minutes,
                    accent_every=accent_every,
                    volume=volume,
                    progress=progress,
                    cancelled=cancelled,
                    rules=rules,
                )
            )

        self._task = BackgroundTask(job, parent=parent, show_dialog=False)
        self._task.progress.connect(lambda f: self.progress.emit(int(f * 100)))
        self._task.finished.connect(lambda out: self.succeeded.emit(str(out)))
        self._task.failed.connect(self._on_failed)
        self._task.cancelled.connect(lambda: self.failed.emit("Export cancelled."))

    def _on_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ExportCancelled):
            self.failed.emit("Export cancelled.")
        elif isinstance(exc, MetronomeError):
            self.failed.emit(exc.message)
        else:  # never let a worker die silently; the traceback goes to the log
            self.failed.emit(f"The export failed. {user_message(exc)}")

    def start(self) -> None:
        self._task.start()

    def isRunning(self) -> bool:  # noqa: N802 - the QThread spelling the panel uses
        return self._task.is_running()

    def requestInterruption(self) -> None:  # noqa: N802
        self._task.cancel()

    def wait(self, ms: int = 30000) -> bool:
        return self._task.wait(ms)
