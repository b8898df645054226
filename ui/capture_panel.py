"""Capture panel: pick a camera and format, square it to the belt, record into the session.

The engine lives in :mod:`app.capture` (threads, files, faults). This widget only polls it on
one display timer (~30 Hz): the newest preview frame, the live statistics and the recorder's
state. No signal is sent per frame. ``recording_finished(path, capture_fps)`` is emitted when
the clinician presses "Review now"; the lead opens the file in the annotation panel. With a
second camera (rear view, :mod:`ui.capture_second`) both files start at one shared time zero and
``second_recording_finished(path, capture_fps)`` hands over the rear file once it is finished.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.capture import (
    CameraFormat,
    CameraSource,
    CaptureError,
    FileSource,
    Recorder,
    RecorderState,
    RecordingResult,
    SyntheticSource,
    clock_ns,
    list_devices,
    open_device,
)
from app.capture.devices import NO_CAMERA_MESSAGE
from app.capture.sources import OpenCVCameraSource
from ui.capture_preview import PreviewView, RecordingCounts
from ui.capture_second import SecondCameraBox

DEV_ENV = "STRIDE_CLINIC_DEV_SOURCES"
SETTINGS_CAMERA = "capture/last_camera"
SETTINGS_FORMAT = "capture/last_format"
SETTINGS_VIDEO = "capture/dev_video"
DISPLAY_HZ = 30


@dataclass
class CameraChoice:
    """One entry of the camera picker."""

    key: str
    label: str
    make: Callable[[], CameraSource | None]  # None: the user cancelled (file dialog)


def _combo() -> QComboBox:
    combo = QComboBox()  # long camera names must not widen the side column
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(18)
    return combo


def _bold(widget: QWidget, point_size: int) -> None:
    font = QFont(widget.font())
    font.setPointSize(point_size)
    font.setBold(True)
    widget.setFont(font)


class CapturePanel(QWidget):
    """Camera picker, live preview with squaring aids, recording controls and live statistics.

    ``developer_sources`` (or the environment variable ``STRIDE_CLINIC_DEV_SOURCES=1``) adds the
    synthetic test camera and "video file as camera" to the picker. ``recorder_options`` are
    passed to :class:`app.capture.Recorder` (e.g. ``min_free_bytes``).
    """

    #: The clinician pressed "Review now": path of the recording, measured capture fps.
    recording_finished = Signal(str, float)
    #: The rear (second camera) recording is finished: path, measured capture fps.
    second_recording_finished = Signal(str, float)
    # The side recording is finished and on disk (emitted at Stop, before "Review now"), so the
    # main window links it to the visit at once: a recording is never left unlisted.
    recording_saved = Signal(str, float)

    def __init__(self, parent: QWidget | None = None, *, developer_sources: bool = False,
                 recorder_options: Mapping[str, Any] | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.developer_sources = developer_sources or os.environ.get(DEV_ENV) == "1"
        self.recorder_options = dict(recorder_options or {})
        self.recorder: Recorder | None = None
        self.destination: Path | None = None
        self.destination_label = ""
        self.last_result: RecordingResult | None = None
        self._choices: list[CameraChoice] = []
        self._extra: list[CameraChoice] = []
        self._shown_index = -1
        self._was_recording = False
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(1000 // DISPLAY_HZ)
        self._timer.timeout.connect(self._poll)
        self.refresh_cameras()
        self.set_destination(None, "")
        self._timer.start()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.preview = PreviewView()
        self.camera_combo = _combo()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Look again for connected cameras")
        self.format_combo = _combo()
        self.state_label = QLabel()
        self.state_label.setObjectName("warning")
        self.state_label.setWordWrap(True)
        self.retry_button = QPushButton("Retry")
        cam_row = QHBoxLayout()
        cam_row.addWidget(self.camera_combo, 1)
        cam_row.addWidget(self.refresh_button)
        self.camera_box = camera_box = QGroupBox("Camera")
        cam = QVBoxLayout(camera_box)
        cam.addLayout(cam_row)
        cam.addWidget(QLabel("Picture size and speed:"))
        cam.addWidget(self.format_combo)
        cam.addWidget(self.state_label)
        cam.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignLeft)

        self.destination_label_widget = QLabel()
        self.destination_label_widget.setWordWrap(True)
        self.record_button = QPushButton("●  Record")
        self.record_button.setMinimumHeight(40)
        _bold(self.record_button, self.record_button.font().pointSize() + 2)
        self.timer_label = QLabel("00:00")
        _bold(self.timer_label, 20)
        self.timer_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.counts = RecordingCounts()
        self.size_value = self.counts.size_value
        self.written_value = self.counts.written_value
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.hide()
        self.review_button = QPushButton("Review now")
        self.review_button.setEnabled(False)
        self.review_button.setToolTip("Open the last recording to mark heel strikes")
        rec_box = QGroupBox("Recording")
        rec = QVBoxLayout(rec_box)
        rec.addWidget(self.destination_label_widget)
        rec.addWidget(self.record_button)
        rec.addWidget(self.timer_label)
        rec.addWidget(self.counts)
        rec.addWidget(self.result_label)
        rec.addWidget(self.review_button)

        self.delay_check = QCheckBox("Delayed view")
        self.delay_check.setToolTip("Show the runner a few seconds late, e.g. to watch yourself")
        self.delay_spin = QDoubleSpinBox()
        self.delay_spin.setRange(0.5, 30.0)
        self.delay_spin.setSingleStep(0.5)
        self.delay_spin.setDecimals(1)
        self.delay_spin.setValue(5.0)
        self.delay_spin.setSuffix(" s")
        view_box = QGroupBox("View")
        view = QHBoxLayout(view_box)
        view.addWidget(self.delay_check)
        view.addWidget(self.delay_spin)
        view.addStretch(1)

        side = QVBoxLayout()
        side.addWidget(camera_box)
        side.addWidget(rec_box)
        side.addWidget(view_box)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(300)
        self.second = SecondCameraBox(PreviewView(), self.recorder_options)
        self.second.recording_finished.connect(self.second_recording_finished)
        left = QVBoxLayout()
        left.addWidget(self.preview, 1)
        left.addWidget(self.second)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(side_widget)

        self.camera_combo.activated.connect(self._camera_chosen)
        self.format_combo.activated.connect(self._format_chosen)
        self.refresh_button.clicked.connect(self.refresh_cameras)
        self.retry_button.clicked.connect(self.retry)
        self.record_button.clicked.connect(self.toggle_recording)
        self.review_button.clicked.connect(self._review)
        self.delay_check.toggled.connect(self._delay_changed)
        self.delay_spin.valueChanged.connect(self._delay_changed)

    # ------------------------------------------------------------------ public API

    def set_destination(self, folder: Path | None, label: str) -> None:
        """Where recordings go (the session folder); ``None`` disables recording."""
        self.destination = Path(folder) if folder is not None else None
        self.destination_label = label
        if folder is None:
            self.destination_label_widget.setText("Select a patient and visit to record.")
        else:
            self.destination_label_widget.setText(f"Saving to: {label or folder}")
        # Warning look only when recording is impossible (a stylesheet-free toggle: switching
        # object names at run time leaves stale padding behind).
        self.destination_label_widget.setStyleSheet(
            "color: #8a5300; background: #fff4e0; border: 1px solid #f0c36d; "
            "border-radius: 4px; padding: 4px 8px;"
            if folder is None
            else "color: #5b6770;"
        )
        self._update_buttons()

    def shutdown(self) -> None:
        """Stop the display timer and every capture thread (a recording is kept)."""
        self._timer.stop()
        self.second.close_camera()
        if self.recorder is not None:
            self.recorder.close()
            self._take_result()
            self.recorder = None

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)

    # ------------------------------------------------------------------ cameras

    def _real_cameras(self) -> list[CameraChoice]:
        choices = []
        for info in list_devices():
            choices.append(CameraChoice(info.key, info.name, lambda i=info: open_device(i)))
        if not choices and not sys.platform.startswith("linux"):
            # OpenCV gives no names on Windows/macOS; Qt lists them in the same order.
            try:
                from PySide6.QtMultimedia import QMediaDevices

                for n, dev in enumerate(QMediaDevices.videoInputs()):
                    name = dev.description()
                    choices.append(CameraChoice(f"camera:{n}:{name}", name,
                                                lambda n=n, name=name: OpenCVCameraSource(n, name=name)))  # fmt: skip
            except Exception:  # noqa: S110 - no multimedia backend: just no names
                pass
        return choices

    def _dev_cameras(self) -> list[CameraChoice]:
        # Two synthetic cameras, so two-camera recording can be tried without hardware.
        names = {"dev:synthetic": "Test camera (synthetic)", "dev:synthetic2": "Second test camera"}
        return [
            CameraChoice(key, name, lambda name=name: SyntheticSource(1280, 720, 120, name=name))
            for key, name in names.items()
        ] + [CameraChoice("dev:file", "Video file as camera…", self._choose_video)]

    def _choose_video(self) -> CameraSource | None:
        start = str(QSettings().value(SETTINGS_VIDEO, "") or "")
        path, _ = QFileDialog.getOpenFileName(self, "Video to play as a camera", start,
                                              "Videos (*.mp4 *.mkv *.avi *.mov)")  # fmt: skip
        if not path:
            return None
        QSettings().setValue(SETTINGS_VIDEO, path)
        return FileSource(path)

    def refresh_cameras(self) -> None:
        """Rescan cameras and reopen the remembered (or first) one."""
        if self._recording_any():
            return
        self._choices = self._real_cameras()
        if self.developer_sources:
            self._choices += self._dev_cameras() + self._extra
        self.camera_combo.clear()
        for c in self._choices:
            self.camera_combo.addItem(c.label, c.key)
        if not self._choices:
            self.camera_combo.addItem("No camera connected")
            self._close_recorder()
            self.second.set_choices([], "")
            self.preview.set_frame(None)
            self._show_state(NO_CAMERA_MESSAGE, retry=True)
            return
        saved = str(QSettings().value(SETTINGS_CAMERA, "") or "")
        keys = [c.key for c in self._choices]
        row = keys.index(saved) if saved in keys else 0
        if self._choices[row].key == "dev:file" and len(keys) > 1:
            row = 0  # never pop a file dialog unasked
        self.camera_combo.setCurrentIndex(row)
        self._open_choice(row, None)

    def add_developer_source(self, key: str, label: str, make: Callable[[], CameraSource]) -> None:
        """List another developer camera (e.g. a fake one in tests); shown in developer mode."""
        self._extra.append(CameraChoice(key, label, make))
        self.refresh_cameras()

    def select_camera(self, key: str) -> bool:
        """Pick the camera with ``key`` (as stored in settings); False if not listed."""
        keys = [c.key for c in self._choices]
        if key not in keys:
            return False
        self.camera_combo.setCurrentIndex(keys.index(key))
        self._camera_chosen(keys.index(key))
        return True

    def select_format(self, fmt: CameraFormat | None) -> None:
        """Pick a format (None: automatic) and reopen the camera in it."""
        i = self.format_combo.findText(fmt.label()) if fmt else 0
        if i >= 0:
            self.format_combo.setCurrentIndex(i)
            self._format_chosen(i)

    def release_camera(self) -> bool:
        """Close the camera while the clinician works elsewhere (never during a recording).

        A live 120 fps camera costs CPU that stepping through video needs; returns False
        when a recording is running and the camera was kept.
        """
        if self._recording_any():
            return False
        self._close_recorder()
        self.second.release()
        self._show_state("Camera paused while another tab is open.", retry=True)
        return True

    def resume_camera(self) -> None:
        """Reopen the remembered camera when the Record tab is shown again."""
        if self.recorder is None:
            self.refresh_cameras()
        self.second.resume()

    def retry(self) -> None:
        """Rescan and reopen the chosen camera (after "busy", "unplugged", …)."""
        self.refresh_cameras()

    def _camera_chosen(self, row: int) -> None:
        if 0 <= row < len(self._choices):
            QSettings().setValue(SETTINGS_CAMERA, self._choices[row].key)
            QSettings().remove(SETTINGS_FORMAT)
            self._open_choice(row, None)

    def _format_chosen(self, i: int) -> None:
        fmt = self.format_combo.itemData(i)
        QSettings().setValue(SETTINGS_FORMAT, fmt.label() if fmt else "")
        self._reopen(fmt)

    def _open_choice(self, row: int, fmt: CameraFormat | None) -> None:
        self._close_recorder()
        # Before the side camera opens: the rear one may have to give this camera up.
        self.second.set_choices(self._choices, self._choices[row].key)
        try:
            source = self._choices[row].make()
        except CaptureError as exc:
            self._show_state(exc.message, retry=True)
            return
        if source is None:
            self._show_state("No video file chosen.", retry=True)
            return
        self._source = source
        try:
            formats = source.formats()
        except CaptureError as exc:
            self._show_state(exc.message, retry=True)
            return
        self.format_combo.clear()
        self.format_combo.addItem("Automatic (highest frame rate)", None)
        for f in sorted(formats, key=lambda f: (-f.fps, -f.width * f.height)):
            self.format_combo.addItem(f.label(), f)
        saved = str(QSettings().value(SETTINGS_FORMAT, "") or "")
        i = self.format_combo.findText(saved) if saved else -1
        if fmt is None and i > 0:
            fmt = self.format_combo.itemData(i)
        self.format_combo.setCurrentIndex(
            max(0, self.format_combo.findText(fmt.label())) if fmt else 0
        )
        self._start_recorder(source, fmt)

    def _reopen(self, fmt: CameraFormat | None) -> None:
        source = getattr(self, "_source", None)
        if source is not None:
            self._close_recorder()
            self._start_recorder(source, fmt)

    def _start_recorder(self, source: CameraSource, fmt: CameraFormat | None) -> None:
        self.recorder = Recorder(source, fmt, **self.recorder_options)
        self.recorder.start()
        self._delay_changed()
        self._shown_index = -1
        self._show_state("Starting the camera…", retry=False)

    def _close_recorder(self) -> None:
        if self.recorder is not None:
            self.recorder.close()
            self._take_result()
            self.recorder = None
        self._update_buttons()

    # ------------------------------------------------------------------ recording

    def toggle_recording(self) -> None:
        """Start recording into the destination, or stop the running recording."""
        rec = self.recorder
        if rec is None:
            return
        if self._recording_any():
            rec.request_stop_recording()
            self.second.request_stop()
            self.record_button.setEnabled(False)  # re-enabled when the files are finished
            return
        if self.destination is None:
            return
        two = self.second.enabled
        stem = datetime.now().strftime("capture_%Y%m%d_%H%M%S")
        try:  # prepare every file first, then start all at one shared time zero (as MultiRecorder)
            rec.start_recording(self.destination, f"{stem}_side" if two else None, hold=True)
        except CaptureError as exc:
            self._show_result(exc.message, ok=False)
            return
        if two:  # a rear camera that cannot record says so and leaves the side one recording
            self.second.start_recording(self.destination, f"{stem}_rear")
        t0 = clock_ns()
        rec.release_recording(t0)
        self.second.release_recording(t0)
        self.last_result = None
        self._was_recording = True
        self.result_label.hide()
        self.review_button.setEnabled(False)
        self._update_buttons()

    def _take_result(self) -> None:
        rec = self.recorder
        if rec is None or not self._was_recording or rec.is_recording:
            return
        self._was_recording = False
        result = rec.last_result
        if result is None:
            return
        self.last_result = result
        minutes, seconds = divmod(int(result.duration_s), 60)
        text = result.message
        if result.written:
            text += f" {result.written} frames, {minutes:02d}:{seconds:02d}, {result.measured_fps:.1f} fps measured."
        if result.dropped:
            text += f" {result.dropped} frames were dropped."
        self._show_result(text, ok=not result.ended_early and not result.dropped)
        self.review_button.setEnabled(result.written > 0 and result.path.exists())
        if result.written > 0 and result.path.exists():
            self.recording_saved.emit(
                str(result.path), float(result.measured_fps or result.requested_fps)
            )

    def _review(self) -> None:
        r = self.last_result
        if r is not None and r.written:
            self.recording_finished.emit(str(r.path), float(r.measured_fps or r.requested_fps))

    def _delay_changed(self, *_: object) -> None:
        self.delay_spin.setEnabled(self.delay_check.isChecked())
        if self.recorder is not None:
            self.recorder.set_delay(
                self.delay_spin.value() if self.delay_check.isChecked() else None
            )
        self._shown_index = -1

    # ------------------------------------------------------------------ display

    def _show_state(self, text: str, *, retry: bool) -> None:
        self.state_label.setText(text)
        self.state_label.setVisible(bool(text))
        self.retry_button.setVisible(retry)
        self.preview.placeholder = text or "No picture"
        self.preview.update()

    def _show_result(self, text: str, *, ok: bool) -> None:
        self.result_label.setText(text)
        self.result_label.setObjectName("muted" if ok else "warning")
        self.result_label.style().unpolish(self.result_label)
        self.result_label.style().polish(self.result_label)
        self.result_label.show()

    def _recording_any(self) -> bool:
        side = self.recorder is not None and self.recorder.is_recording
        return side or self.second.is_recording

    def _update_buttons(self) -> None:
        rec = self.recorder
        recording = self._recording_any()
        self.second.set_locked(recording)
        title = "Side camera" if self.second.enabled else "Camera"
        if self.camera_box.title() != title:
            self.camera_box.setTitle(title)
        live = rec is not None and rec.state in (RecorderState.LIVE, RecorderState.RECORDING)
        self.record_button.setText("■  Stop" if recording else "●  Record")
        self.record_button.setEnabled(recording or (live and self.destination is not None))
        for w in (self.camera_combo, self.format_combo, self.refresh_button):
            w.setEnabled(not recording)

    def _poll(self) -> None:
        """Display timer: newest preview frames, statistics, state. Runs at ~30 Hz."""
        self.second.poll()
        rec = self.recorder
        if rec is None:
            return
        if not rec.is_recording:
            self.second.request_stop()  # the side recording ended (stop or fault): end both
        if rec.state is RecorderState.ERROR and rec.error is not None:
            self._show_state(rec.error.message, retry=True)
        elif rec.state is RecorderState.OPENING:
            self._show_state("Starting the camera…", retry=False)
        else:
            self._show_state("", retry=False)
        delayed = self.delay_check.isChecked()
        frame = rec.delayed_preview() if delayed else rec.latest_preview()
        if rec.state is RecorderState.ERROR:
            frame = None
        if frame is None:
            if self.preview.image is not None or self._shown_index != -2:
                self.preview.set_frame(None)
                self._shown_index = -2
            if delayed and rec.state is RecorderState.LIVE:
                self.preview.placeholder = (
                    f"Delayed view: collecting {self.delay_spin.value():g} s of video…"
                )
        elif frame.index != self._shown_index:
            self._shown_index = frame.index
            self.preview.set_frame(frame)
        stats = rec.stats()
        fmt = stats.format
        if fmt is not None:
            self.preview.info = (
                f"{fmt.width}×{fmt.height}   requested {fmt.fps:g} fps   "
                f"measured {stats.measured_fps:.1f} fps"
            )
        badge = "● REC" if stats.recording else ""
        if delayed:
            badge = (badge + "   " if badge else "") + f"DELAYED {self.delay_spin.value():g} s"
        self.preview.badge = badge
        if stats.recording:
            m, s = divmod(int(stats.elapsed_s), 60)
            self.timer_label.setText(f"{m:02d}:{s:02d}")
            self.counts.show_counts(stats.captured, stats.written, stats.dropped, stats.file_bytes)
        elif self._was_recording:
            self._take_result()
            if self.last_result is not None:
                r = self.last_result
                size = r.path.stat().st_size if r.path.exists() else None
                self.counts.show_counts(r.captured, r.written, r.dropped, size)
        self._update_buttons()
