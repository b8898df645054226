"""The second camera (rear view) of the capture panel: picker, small live preview, statistics.

:class:`SecondCameraBox` owns its own :class:`app.capture.Recorder`. The capture panel drives
it: it offers the panel's camera list minus the side camera (:meth:`set_choices`), polls it on
the panel's display timer (:meth:`poll`, newest preview frame wins, no signal per frame) and
starts its recording on the side camera's time line (:meth:`start_recording` holds the file,
:meth:`release_recording` opens it at the shared ``t0``). A rear camera that is busy or gets
unplugged only stops the rear file; the side camera goes on recording.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.capture import CameraSource, CaptureError, Recorder, RecorderState, RecordingResult
from app.capture.devices import NO_CAMERA_REAR_MESSAGE, ONE_CAMERA_MESSAGE
from ui.capture_preview import PreviewView, RecordingCounts

SETTINGS_SECOND_ON = "capture/second_enabled"
SETTINGS_SECOND_CAMERA = "capture/second_camera"
_WARN = (
    "color: #8a5300; background: #fff4e0; border: 1px solid #f0c36d; "
    "border-radius: 4px; padding: 3px 6px;"
)
_MUTED = "color: #5b6770;"
ALONE = "The rear camera is not recording; the side camera records alone."
HINT = "Both cameras start and stop together; the rear file is saved next to the side one."


class Choice(Protocol):
    """A camera picker entry (``ui.capture_panel.CameraChoice``)."""

    key: str
    label: str
    make: Callable[[], CameraSource | None]


class SecondCameraBox(QGroupBox):
    """ "Second camera (rear view)": a checkbox, a camera picker, a small preview and counts.

    ``preview`` is the panel's preview widget class instance (squaring aids included);
    ``recorder_options`` go to :class:`app.capture.Recorder` as for the side camera.
    """

    #: The rear recording is finished and on disk: path, measured capture fps. Emitted once per
    #: recording with frames, after Stop (or as soon as a failing rear camera ended it).
    recording_finished = Signal(str, float)

    def __init__(self, preview: PreviewView, recorder_options: Mapping[str, Any],
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__("Second camera (rear view)", parent)
        self.recorder_options = dict(recorder_options)
        self.recorder: Recorder | None = None
        self.last_result: RecordingResult | None = None
        self._choices: list[Choice] = []
        self._opened_key = ""
        self._was_recording = False
        self._panel_recording = False
        self._shown_index = -1
        self._shown_note: tuple[str, bool] = ("", False)
        self._build(preview)

    def _build(self, preview: PreviewView) -> None:
        self.preview = preview
        self.preview.setMinimumSize(224, 126)
        self.preview.setFixedSize(224, 126)
        self.preview.placeholder = "Rear camera off"
        self.enable_check = QCheckBox("Record with the side camera")
        self.enable_check.setChecked(QSettings().value(SETTINGS_SECOND_ON, False, bool))
        self.camera_combo = QComboBox()
        self.camera_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.camera_combo.setMinimumContentsLength(18)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Open the rear camera again")
        self.retry_button.hide()
        self.note_label = QLabel()
        self.note_label.setWordWrap(True)
        self.note_label.hide()
        combo_row = QHBoxLayout()
        combo_row.addWidget(self.camera_combo, 1)
        combo_row.addWidget(self.retry_button)
        controls = QVBoxLayout()
        controls.addWidget(self.enable_check)
        controls.addLayout(combo_row)
        controls.addWidget(self.note_label)
        controls.addStretch(1)

        stats = RecordingCounts()
        stats.setFixedWidth(165)
        self.counts = stats
        self.captured_value = stats.captured_value
        self.written_value = stats.written_value
        self.dropped_value = stats.dropped_value

        layout = QHBoxLayout(self)
        layout.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(controls, 1)
        layout.addWidget(stats, 0, Qt.AlignmentFlag.AlignTop)

        self.enable_check.toggled.connect(self._enabled_changed)
        self.camera_combo.activated.connect(self._camera_chosen)
        self.retry_button.clicked.connect(self.retry)

    # ------------------------------------------------------------------ public API

    @property
    def enabled(self) -> bool:
        """The clinician wants the rear view and a second camera is available."""
        return self.enable_check.isChecked() and bool(self._choices)

    @property
    def is_recording(self) -> bool:
        return self.recorder is not None and self.recorder.is_recording

    def set_choices(self, choices: Sequence[Choice], exclude: str) -> None:
        """Offer ``choices`` except the side camera ``exclude``; (re)open the rear camera if
        its camera changed. Ignored during a recording."""
        if self.is_recording:
            return
        self._choices = [c for c in choices if c.key != exclude]
        self.camera_combo.clear()
        for c in self._choices:
            self.camera_combo.addItem(c.label, c.key)
        if not self._choices:
            self.camera_combo.addItem("No second camera")
            self._close(emit=True)
            # With no camera at all, “only one camera” was wrong.
            self._show_off(ONE_CAMERA_MESSAGE if choices else NO_CAMERA_REAR_MESSAGE)
            return
        keys = [c.key for c in self._choices]
        saved = str(QSettings().value(SETTINGS_SECOND_CAMERA, "") or "")
        if self.recorder is not None and self._opened_key in keys:
            row = keys.index(self._opened_key)  # keep the camera that is already running
        elif saved in keys:
            row = keys.index(saved)
        else:  # never pop a file dialog unasked
            row = next((i for i, k in enumerate(keys) if k != "dev:file"), 0)
        self.camera_combo.setCurrentIndex(row)
        if not self.enabled:
            self._close(emit=True)
            self._show_off("")
        elif self.recorder is None or self._opened_key != keys[row]:
            self._open(row)
        self._update_controls()

    def select_camera(self, key: str) -> bool:
        """Pick the rear camera with ``key``; False if it is not offered."""
        keys = [c.key for c in self._choices]
        if key not in keys or self.is_recording:
            return False
        self.camera_combo.setCurrentIndex(keys.index(key))
        self._camera_chosen(keys.index(key))
        return True

    def retry(self) -> None:
        """Open the chosen rear camera again (after "busy", "unplugged", …)."""
        if self.enabled and not self.is_recording:
            self._open(self.camera_combo.currentIndex())

    def release(self) -> None:
        """Close the rear camera while another tab is shown (the caller checks recordings)."""
        self._close(emit=True)
        if self.enabled:
            self._show_off("Camera paused while another tab is open.")

    def resume(self) -> None:
        """Reopen the rear camera if it is wanted and closed."""
        if self.enabled and self.recorder is None:
            self._open(self.camera_combo.currentIndex())

    def close_camera(self) -> None:
        """Stop the rear camera's threads for good (a running recording is kept)."""
        self._close(emit=False)

    def start_recording(self, folder: Path, name: str) -> Path | None:
        """Prepare the rear file, held until :meth:`release_recording`.

        Returns None (and says so in the box) when the rear camera cannot record: the side
        camera then records alone.
        """
        rec = self.recorder
        if not self.enabled or rec is None:
            return None
        try:
            path = rec.start_recording(folder, name, hold=True)
        except CaptureError as exc:
            self._note(f"{ALONE} {exc.message}", warn=True)
            return None
        self._was_recording = True
        self.last_result = None
        self.counts.show_counts(0, 0, 0, 0)
        return path

    def release_recording(self, t0_ns: int) -> None:
        """Start the held rear recording at the shared time zero ``t0_ns``."""
        if self.recorder is not None and self._was_recording:
            self.recorder.release_recording(t0_ns)

    def request_stop(self) -> None:
        """Ask the rear recording to finish (non-blocking; :meth:`poll` picks up the result)."""
        if self.is_recording and self.recorder is not None:
            self.recorder.request_stop_recording()

    def set_locked(self, recording: bool) -> None:
        """Lock the picker while either camera records (the panel says so every tick)."""
        self._panel_recording = recording
        self._update_controls()

    # ------------------------------------------------------------------ internals

    def _enabled_changed(self, on: bool) -> None:
        QSettings().setValue(SETTINGS_SECOND_ON, on)
        if on:
            self._open(self.camera_combo.currentIndex())
        else:
            self._close(emit=True)
            self._show_off("")
        self._update_controls()

    def _camera_chosen(self, row: int) -> None:
        if 0 <= row < len(self._choices):
            QSettings().setValue(SETTINGS_SECOND_CAMERA, self._choices[row].key)
            if self.enabled:
                self._open(row)

    def _open(self, row: int) -> None:
        self._close(emit=True)
        if not 0 <= row < len(self._choices):
            return
        choice = self._choices[row]
        self._opened_key = choice.key
        self.last_result = None
        try:
            source = choice.make()
        except CaptureError as exc:
            self._note(exc.message, warn=True, retry=True)
            return
        if source is None:
            self._note("No video file chosen.", warn=True, retry=True)
            return
        self.recorder = Recorder(source, None, **self.recorder_options)
        self.recorder.start()
        self._shown_index = -1
        self._note("Starting the rear camera…")

    def _close(self, *, emit: bool) -> None:
        if self.recorder is not None:
            self.recorder.close()
            self._take_result(emit=emit)
            self.recorder = None
        self._opened_key = ""
        self.preview.set_frame(None)
        self.preview.info = self.preview.badge = ""

    def _show_off(self, note: str) -> None:
        self.preview.placeholder = "Rear camera off"
        self.preview.update()
        self._note(note, warn=bool(note) and not self._choices)

    def _note(self, text: str, *, warn: bool = False, retry: bool = False) -> None:
        if (text, warn) != self._shown_note:  # restyling on every display tick costs a polish
            self._shown_note = (text, warn)
            self.note_label.setText(text)
            self.note_label.setStyleSheet(_WARN if warn else _MUTED)
        self.note_label.setVisible(bool(text))
        self.retry_button.setVisible(retry and not self._panel_recording)
        if text and self.preview.image is None:
            self.preview.placeholder = text if len(text) < 60 else "No picture"
            self.preview.update()

    def _update_controls(self) -> None:
        locked = self._panel_recording or self.is_recording
        self.enable_check.setEnabled(bool(self._choices) and not locked)
        self.camera_combo.setEnabled(self.enabled and not locked)
        if locked:
            self.retry_button.hide()

    def _take_result(self, *, emit: bool) -> None:
        rec = self.recorder
        if rec is None or not self._was_recording or rec.is_recording:
            return
        self._was_recording = False
        r = rec.last_result
        if r is None:
            return
        self.last_result = r
        size = r.path.stat().st_size if r.path.exists() else None
        self.counts.show_counts(r.captured, r.written, r.dropped, size)
        self._note_result()
        if emit and r.written and r.path.exists():
            self.recording_finished.emit(str(r.path), float(r.measured_fps or r.requested_fps))

    def _note_result(self) -> None:
        """Say how a rear recording that ended early went, and what the side camera does."""
        r = self.last_result
        if r is None or not r.ended_early:
            return
        if self._panel_recording:
            self._note(f"Rear camera: {r.message} The side camera goes on recording.", warn=True)
        else:
            failed = self.recorder is not None and self.recorder.state is RecorderState.ERROR
            self._note(f"Rear camera: {r.message}", warn=True, retry=failed)

    def poll(self) -> None:
        """Display timer tick: newest rear frame, state, statistics, finished recording."""
        rec = self.recorder
        if rec is None:
            return
        recording = rec.is_recording
        if rec.state is RecorderState.ERROR and rec.error is not None:
            if self._was_recording and not recording:
                self._take_result(emit=True)  # the file is final: hand it over now
            elif self.last_result is not None and self.last_result.ended_early:
                self._note_result()
            elif self._panel_recording:
                self._note(f"{ALONE} {rec.error.message}", warn=True)
            else:
                self._note(f"Rear camera: {rec.error.message}", warn=True, retry=True)
            if self.preview.image is not None:
                self.preview.set_frame(None)
            self.preview.placeholder = "No picture from the rear camera"
            self.preview.badge = ""
            self._update_controls()
            return
        if rec.state is RecorderState.OPENING:
            self._note("Starting the rear camera…")
        elif (not self._panel_recording or self.note_label.text().startswith("Starting")) and (
            self.last_result is None or not self.last_result.ended_early
        ):
            self._note(HINT)  # unless a rear problem must stay in view
        frame = rec.latest_preview()
        if frame is not None and frame.index != self._shown_index:
            self._shown_index = frame.index
            self.preview.set_frame(frame)
        stats = rec.stats()
        if stats.format is not None:
            fmt = stats.format
            self.preview.info = f"{fmt.width}×{fmt.height}  {stats.measured_fps:.0f} fps"
        self.preview.badge = "● REC" if stats.recording else ""
        self.preview.update()
        if stats.recording:
            self.counts.show_counts(stats.captured, stats.written, stats.dropped, stats.file_bytes)
        elif self._was_recording:
            self._take_result(emit=True)
        self._update_controls()
