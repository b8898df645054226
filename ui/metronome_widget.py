"""Metronome widget: start/stop, tempo = target cadence, volume, accent, a big visual beat.

The clicks are a :class:`app.prescription.click_track.ClickTrack` rendered ahead and played by
:class:`ui.metronome_audio.PrerenderedAudio` on its own thread (no Python at beat time). The
visual beat flashes from the *played* sample position, looked up in the same track, so light and
click stay together even across live tempo changes.

``keep_audio_open(True)`` (the Practice tab, for a session): ``stop`` then only silences the
clicks from the next beat and the sound keeps running, and ``plan_cue`` tells the track ahead
when the cue is to switch on and off (a faded-feedback schedule), so those switches are in the
rendered sound on time whatever the GUI thread is doing.

Without a sound device (or without Qt Multimedia's system libraries) the widget says so and runs
the visual beat from a clock: elapsed time → sample position → beat. If the device fails while
playing, it falls back to the clock with a message.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QElapsedTimer, QObject, QRectF, Qt, QTimer, Signal
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
from app.prescription.click_track import ClickTrack
from app.prescription.metronome import (
    DEFAULT_SAMPLE_RATE,
    ExportCancelled,
    MetronomeError,
    export,
)
from ui.metronome_audio import AudioBackend, AudioUnavailable, PrerenderedAudio, probe_audio
from ui.tasks import BackgroundTask, user_message

__all__ = ["AudioBackend", "AudioFactory", "AudioUnavailable", "MetronomeWidget", "probe_audio"]

_log = logging.getLogger(__name__)

FLASH_SECONDS = 0.15
POLL_MS = 15  # display rate; the beat itself is timed by the sample position, not this timer
ACCENT_CHOICES = (0, 2, 3, 4, 8)


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
        button_texts: tuple[str, str] = ("Start metronome", "Stop metronome"),
    ):
        super().__init__(parent)
        self._sr = sample_rate
        # (off, on): what the button says while the metronome is stopped, and while it sounds.
        # A plain "Start" beside another Start (Practice's session) read as the same button.
        self._button_texts = button_texts
        self._factory: AudioFactory = audio_factory or (
            lambda sr, parent: PrerenderedAudio(sr, parent)
        )
        self._lock = threading.Lock()  # the track is shared with the audio thread
        self._track: ClickTrack | None = None  # open: sounding, or silent but held open
        self._running = False  # the clicks are to sound (start / stop)
        self._hold = False  # keep_audio_open
        self._plan: list[tuple[float, bool]] = []  # planned cue switches (monotonic s, on)
        self._backend: AudioBackend | None = None
        self._clock = QElapsedTimer()
        self._clock_base = 0
        self._last_beat = -1
        self._status = ""

        self._light = BeatLight(self)
        self._start_btn = QPushButton(button_texts[0], self)
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
        """True while the clicks are to sound (started and not stopped)."""
        return self._running

    def audio_active(self) -> bool:
        """True when the clicks are going to a sound device (False: visual beat only)."""
        return self._backend is not None

    def status_text(self) -> str:
        return self._status

    def current_beat(self) -> int:
        """Number of the last beat shown (−1 before the first)."""
        return self._last_beat

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        if self._track is None:
            self._open()
        else:
            self._apply_cue()  # held open: sound again from the next beat
        self._timer.start()
        self._sync_button(True)
        self._tick()
        self.started.emit()

    def stop(self) -> None:
        """Stop the clicks and the visual beat; safe to call at any time. Held open
        (:meth:`keep_audio_open`), the sound goes on silent from the next beat."""
        was_running, self._running = self._running, False
        if self._hold and self._track is not None:
            self._apply_cue()
        else:
            self._close()
        self._light.set_state(0.0, False, str(self.bpm()))
        self._sync_button(False)
        if was_running:
            self.stopped.emit()

    def keep_audio_open(self, on: bool) -> None:
        """Keep the sound running (silent) across :meth:`stop`, so that starting again and
        planned switches need no new sound stream; ``False`` closes it unless running."""
        self._hold = bool(on)
        if not on:
            self._plan = []
            if not self._running:
                self._close()

    def plan_cue(self, switches: Sequence[tuple[float, bool]]) -> None:
        """The cue's coming switches, as ``(time.monotonic() seconds, on)``; rendered into the
        sound ahead (replaces the previous plan). Start / stop still say what holds now."""
        plan = [(round(float(t), 3), bool(on)) for t, on in switches]
        if plan == self._plan:
            return
        self._plan = plan
        if self._track is not None:
            self._apply_cue()

    def closeEvent(self, event) -> None:  # noqa: N802
        self._hold = False
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
        self._start_btn.setText(self._button_texts[1 if running else 0])
        self._start_btn.blockSignals(False)

    def _on_toggle(self, checked: bool) -> None:
        if checked:
            self.start()
        else:
            self.stop()

    def _open(self) -> None:
        self._track = ClickTrack(self.bpm(), self._sr, self.accent_every(), self.volume(), cue=True)
        self._last_beat = -1
        backend: AudioBackend | None = None
        try:
            backend = self._factory(self._sr, self)
            backend.failed.connect(self._on_audio_failed)
            backend.start(self._track, self._lock)
            self._backend = backend
            self._set_status("")
        except AudioUnavailable as e:
            if backend is not None:  # created but could not start
                backend.deleteLater()
            self._start_clock(0)
            self._set_status(f"{e} Visual beat only.")
        if self._plan:
            self._apply_cue()

    def _close(self) -> None:
        self._timer.stop()
        self._drop_backend()
        self._track = None

    def _drop_backend(self) -> None:
        """Stop and release the sound output (no signal comes back after)."""
        backend, self._backend = self._backend, None
        if backend is not None:
            with contextlib.suppress(RuntimeError, TypeError):  # already disconnected
                backend.failed.disconnect(self._on_audio_failed)
            backend.stop()
            backend.deleteLater()

    def _change(self, fn: Callable[[ClickTrack, int], None]) -> None:
        """Change the track from the first sample not yet given to the sound output."""
        if self._track is None:
            return
        if self._backend is not None:
            self._backend.change(fn)
        else:
            at = self._position() + 1
            with self._lock:
                fn(self._track, at)

    def _apply_cue(self) -> None:
        now, pos = time.monotonic(), self._position()
        planned = [(pos + int(round((t - now) * self._sr)), on) for t, on in self._plan]
        intent = self._running

        def apply(track: ClickTrack, at: int) -> None:
            past = [on for s, on in planned if s <= at]
            track.set_cue(past[-1] if past else intent, at, [p for p in planned if p[0] > at])

        self._change(apply)

    def _start_clock(self, base_samples: int) -> None:
        self._clock_base = base_samples
        self._clock.start()

    def _position(self) -> int:
        """Sample position that is being heard (audio) or is due now (clock)."""
        if self._backend is not None:
            return self._backend.played_samples()
        return self._clock_base + self._clock.nsecsElapsed() * self._sr // 1_000_000_000

    def _tick(self) -> None:
        if self._track is None:
            return
        pos = self._position()
        with self._lock:
            b = self._track.beat_at(pos)
        if b is None or not b.audible:
            self._light.set_state(0.0, False, str(self.bpm()))
            return
        age = (pos - b.sample) / self._sr
        self._light.set_state(max(0.0, 1.0 - age / FLASH_SECONDS), b.accent, str(self.bpm()))
        if b.number != self._last_beat:
            self._last_beat = b.number
            self.beat.emit(b.number, b.accent)

    def _on_audio_failed(self, message: str) -> None:
        if self._backend is None or self._track is None:
            return
        pos = self._backend.played_samples()
        self._drop_backend()
        self._start_clock(pos)  # the visual beat goes on from where the sound was
        self._set_status(f"{message} Visual beat only.")

    def _on_bpm(self, value: int) -> None:
        self._change(lambda track, at: track.set_bpm(value, at))
        self._light.set_state(self._light.level, self._light.accent, str(value))
        self.bpm_changed.emit(int(value))

    def _on_volume(self, value: int) -> None:
        self._change(lambda track, at: track.set_volume(value / 100, at))

    def _on_accent(self, _index: int) -> None:
        every = int(self._accent.currentData())
        self._change(lambda track, at: track.set_accent_every(every, at))


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
