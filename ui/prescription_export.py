"""Exporting the Prescribe panel's metronome as an audio file, in the background.

:class:`MetronomeExport` owns the export button, progress bar and status line and the
:class:`ui.metronome_widget.ExportThread`; the panel places the widgets and forwards the signals.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QLabel, QProgressBar, QPushButton, QWidget

from ui.metronome_widget import ExportThread, MetronomeWidget


class MetronomeExport(QObject):
    """Export the metronome at its current tempo; the length is the dose's minutes."""

    progress = Signal(int)
    finished = Signal(str)
    failed = Signal(str)

    def __init__(
        self, parent: QWidget, metronome: MetronomeWidget, minutes: Callable[[], float]
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._metronome = metronome
        self._minutes = minutes
        self._thread: ExportThread | None = None
        self.button = QPushButton("Export metronome audio…", parent)
        self.button.clicked.connect(self.choose_file)
        self.bar = QProgressBar(parent)
        self.bar.setRange(0, 100)
        self.bar.hide()
        self.status = QLabel(parent)
        self.status.setWordWrap(True)

    def choose_file(self) -> None:
        bpm = self._metronome.bpm()
        path, _ = QFileDialog.getSaveFileName(
            self._parent,
            "Export metronome audio",
            str(Path.home() / f"metronome-{bpm}spm.m4a"),
            "AAC audio (*.m4a);;MP3 audio (*.mp3);;WAV audio (*.wav)",
        )
        if path:
            self.start(path)

    def running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def start(self, path: str | Path, minutes: float | None = None) -> None:
        """Export in the background (length: ``minutes``, else the dose's minutes)."""
        if self.running():
            return
        mins = float(minutes if minutes is not None else self._minutes())
        m = self._metronome
        self._thread = ExportThread(
            str(path), m.bpm(), mins, m.accent_every(), m.volume(), self._parent
        )
        self._thread.progress.connect(self.bar.setValue)
        self._thread.progress.connect(self.progress)
        self._thread.succeeded.connect(self._ok)
        self._thread.failed.connect(self._failed)
        self.bar.setValue(0)
        self.bar.show()
        self.button.setEnabled(False)
        self.status.setText("Exporting…")
        self._thread.start()

    def cancel(self) -> None:
        if self._thread is not None:
            self._thread.requestInterruption()
            self._thread.wait()
            self._thread = None

    def _done(self) -> None:
        if self._thread is not None:
            self._thread.wait()
            self._thread = None
        self.bar.hide()
        self.button.setEnabled(True)

    def _ok(self, path: str) -> None:
        self._done()
        self.status.setText(f"Saved {Path(path).name}")
        self.finished.emit(path)

    def _failed(self, message: str) -> None:
        self._done()
        self.status.setText(message)
        self.failed.emit(message)
