"""The Practice tab: the runner on the treadmill, the metronome, and the live cadence.

The engine is Qt-free (:mod:`app.practice`): the camera runs in the same
:class:`app.capture.Recorder` as the Record tab, wrapped in a :class:`app.practice.live.TapSource`
that hands every frame to the analysis thread. This widget polls on one display timer (30 Hz):
the newest preview frame, the newest cadence estimate, the session clock, which switches the
metronome on and off by the schedule (faded feedback), and draws the trend once a second. The
session is saved with the visit every 10 s while it runs and at Stop, off the GUI thread.

A camera that is missing, busy or stops mid-session, or nobody in view: a plain message, the
session goes on (the cadence is recorded as "not measured"), the metronome keeps going.

Keys (while the tab has focus): Space start / pause / resume, End stop, M metronome on/off (the
override lasts until the schedule's next switch), F11 runner view full screen.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QWidget,
)

from app.capture import (
    CameraSource,
    CaptureError,
    Recorder,
    RecorderState,
    SyntheticSource,
    list_devices,
    open_device,
)
from app.capture.devices import NO_CAMERA_MESSAGE
from app.capture.fakes import RealRateFileSource
from app.practice.context import VisitContext, visit_context
from app.practice.live import LiveAnalysis, TapSource
from app.practice.session import (
    PracticeError,
    PracticeSession,
    Schedule,
    State,
    always_off,
    always_on,
    schedule_from_plan,
)
from app.practice.store import save_session
from ui import practice_layout
from ui.metronome_widget import AudioFactory
from ui.practice_saving import PracticeSavingMixin
from ui.runner_view import RunnerView
from ui.tasks import BackgroundTask, user_message

if TYPE_CHECKING:
    from app.clinic import Clinic

DISPLAY_HZ = 30
STALE_S = 2.0  # no new estimate for this long: the camera or the analysis has stopped
AUTOSAVE_S = 10.0
CUE_PLAN_S = 20.0  # the schedule's switches this far ahead are rendered into the sound
DEV_ENV = "STRIDE_CLINIC_DEV_SOURCES"


@dataclass
class CameraChoice:
    key: str
    label: str
    make: Callable[[], CameraSource]


class PracticePanel(PracticeSavingMixin, QWidget):
    """Practice for the selected visit. ``set_visit(id)`` in, ``session_saved(visit)`` out."""

    session_saved = Signal(int)  # visit id: the visit's practice sessions changed
    recording_saved = Signal(str, float)  # a practice recording is finished (path, fps)
    status_message = Signal(str)

    def __init__(self, clinic: Clinic, parent: QWidget | None = None, *,
                 developer_sources: bool = False, audio_factory: AudioFactory | None = None,
                 recorder_options: dict[str, Any] | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.clinic = clinic
        self.developer_sources = developer_sources or os.environ.get(DEV_ENV) == "1"
        self.recorder_options = dict(recorder_options or {})
        self.context: VisitContext | None = None
        self.session: PracticeSession | None = None
        self.analysis: LiveAnalysis | None = None
        self.recorder: Recorder | None = None
        self.last_saved_id: int | None = None
        self.save_error = ""
        self._choices: list[CameraChoice] = []
        self._extra: list[CameraChoice] = []
        self._driving = False  # the panel itself is switching the metronome
        self._last_trend = 0.0
        self._last_save = 0.0
        self._shown_frame = -1
        self._tasks: list[BackgroundTask] = []
        self._recording_pending = False
        practice_layout.build(self, audio_factory)
        self.runner = RunnerView()
        self.metronome.beat.connect(lambda *_: self.runner.flash())
        self._timer = QTimer(self)
        self._timer.setInterval(1000 // DISPLAY_HZ)
        self._timer.timeout.connect(self._poll)
        self._timer.start()
        self.refresh_cameras()
        self.set_visit(None)

    # ------------------------------------------------------------------ visit
    def set_visit(self, visit_id: int | None) -> None:
        """Practise for this visit (ignored while a session runs: it belongs to its visit)."""
        if self.session is not None and self.session.state in (State.RUNNING, State.PAUSED):
            return
        ctx = None
        if visit_id is not None:
            try:
                ctx = visit_context(self.clinic.db, self.clinic.videos_root, visit_id)
            except Exception as exc:  # a locked database: say so, keep the panel usable
                self.status_message.emit(f"The visit could not be loaded: {user_message(exc)}")
        self.context = ctx
        if ctx is None:
            self.header.setText("Select a patient and a visit to practise.")
            self.target_note.setText("")
        else:
            self.header.setText(f"Practice · {ctx.label}")
            if ctx.target_spm:
                self.target_spin.setValue(ctx.target_spm)
                self.target_note.setText(f"Prescribed at {ctx.target_from}; change it here if needed.")
            else:
                self.target_note.setText("No prescription yet: set the target here.")
        self._fill_schedules()
        self._update_buttons()

    def _fill_schedules(self) -> None:
        plan_sched = schedule_from_plan(self.context.plan if self.context else None,
                                        self.context.session_number if self.context else 1)  # fmt: skip
        self._schedules: list[Schedule] = [plan_sched, always_on(), always_off()]
        self.schedule_combo.clear()
        first = ("From the plan: " if self.context and self.context.plan else "") + plan_sched.label
        self.schedule_combo.addItem(first)
        self.schedule_combo.setItemData(0, plan_sched.source, Qt.ItemDataRole.ToolTipRole)
        self.schedule_combo.addItem(always_on().label)
        self.schedule_combo.addItem(always_off().label)

    def set_schedule(self, schedule: Schedule) -> None:
        """Offer ``schedule`` (e.g. one the clinician built) and choose it for the next session."""
        self._schedules.append(schedule)
        self.schedule_combo.addItem(schedule.label)
        self.schedule_combo.setCurrentIndex(self.schedule_combo.count() - 1)

    # ------------------------------------------------------------------ cameras
    def add_camera(self, key: str, label: str, make: Callable[[], CameraSource]) -> None:
        """List another camera (tests, demos) and select it."""
        self._extra.append(CameraChoice(key, label, make))
        self.refresh_cameras()
        self.camera_combo.setCurrentIndex(self.camera_combo.findData(key))

    def refresh_cameras(self) -> None:
        if self.recorder is not None:
            return
        choices = [CameraChoice(d.key, d.name, lambda d=d: open_device(d)) for d in list_devices()]
        if self.developer_sources:
            choices.append(CameraChoice("dev:synthetic", "Test camera (synthetic)",
                                        lambda: SyntheticSource(1280, 720, 60)))  # fmt: skip
            clip = os.environ.get("STRIDE_CLINIC_PRACTICE_CLIP")
            if clip:
                choices.append(CameraChoice("dev:clip", f"Video file: {Path(clip).name}",
                                            lambda: RealRateFileSource(clip, loop=True)))  # fmt: skip
        self._choices = choices + self._extra
        self.camera_combo.clear()
        for c in self._choices:
            self.camera_combo.addItem(c.label, c.key)
        if not self._choices:
            self.camera_combo.addItem("No camera connected")
            self._camera_message(NO_CAMERA_MESSAGE)
        self._update_buttons()

    def toggle_camera(self) -> None:
        if self.recorder is None or self.recorder.state is RecorderState.ERROR:
            self.open_camera()  # also "Retry" after a fault; a running session goes on
        elif not self._recording():
            self.close_camera()

    def open_camera(self) -> bool:
        """Open the chosen camera (False, with a message, if it cannot be)."""
        self.close_camera()
        row = self.camera_combo.currentIndex()
        if not 0 <= row < len(self._choices):
            self.refresh_cameras()
            self._camera_message(NO_CAMERA_MESSAGE)
            return False
        try:
            source = self._choices[row].make()
        except CaptureError as exc:
            self._camera_message(exc.message)
            return False
        if self.analysis is None:
            self.analysis = LiveAnalysis()
            self.analysis.start()
        self.recorder = Recorder(TapSource(source, self.analysis), **self.recorder_options)
        self.recorder.start()
        self._shown_frame = -1
        self._camera_message("Starting the camera…")
        self._update_buttons()
        return True

    def close_camera(self) -> None:
        """Close the camera (a recording is finished and kept first)."""
        if self.recorder is not None:
            self.recorder.close()
            self._take_recording()
            self.recorder = None
        self.preview.set_frame(None)
        self._update_buttons()

    def release_camera(self) -> bool:
        """Another tab is shown: close the camera unless a session is running."""
        if self.session is not None and self.session.state in (State.RUNNING, State.PAUSED):
            return False
        self.close_camera()
        return True

    def _camera_message(self, text: str) -> None:
        """The whole message (what to check) beside the camera choice; on the picture only its
        first sentence, so the two do not say the same paragraph twice."""
        self.camera_state.setText(text)
        self.camera_state.setVisible(bool(text))
        self.preview.placeholder = text.split(". ", 1)[0].rstrip(".") if text else "No picture"
        self.preview.update()

    def _recording(self) -> bool:
        return self.recorder is not None and self.recorder.is_recording

    # ------------------------------------------------------------------ session
    def start_or_pause(self) -> None:
        """Space: start a new session, pause the running one, or resume."""
        now = time.monotonic()
        s = self.session
        if s is not None and s.state is State.RUNNING:
            s.pause(now)
        elif s is not None and s.state is State.PAUSED:
            s.resume(now)
        else:
            self._start(now)
        self._update_buttons()

    def _start(self, now: float) -> None:
        if self.context is None:
            self._result("Select a patient and a visit first: the session is saved with the visit.", ok=False)
            return
        try:
            sched = self._schedules[max(0, self.schedule_combo.currentIndex())]
            self.session = PracticeSession(self.target_spin.value(), self.tol_spin.value(), sched)
        except PracticeError as exc:
            self._result(exc.message, ok=False)
            return
        if self.recorder is None:
            self.open_camera()  # no camera is no reason not to practise: the metronome runs
        if self.analysis is not None:
            self.analysis.restart_estimate()
        self.session.start(now)
        self.metronome.keep_audio_open(True)  # one sound stream for the session, silent when off
        self.last_saved_id = None
        self._last_save = now
        self.metronome.set_bpm(int(round(self.session.target_spm)))
        self._result("", ok=True)
        if self.record_check.isChecked():
            self._start_recording()

    def _start_recording(self) -> None:
        rec, ctx = self.recorder, self.context
        if rec is None or ctx is None:
            return
        if not rec.wait_live(3.0):
            self._result("The video is not being recorded: the camera is not delivering pictures.", ok=False)
            return
        try:
            rec.start_recording(ctx.folder, datetime.now().strftime("practice_%Y%m%d_%H%M%S"))
            self._recording_pending = True
        except CaptureError as exc:
            self._result(f"The video is not being recorded: {exc.message} The practice goes on.", ok=False)

    def stop(self) -> None:
        """End: stop the metronome and the recording, save the session with the visit."""
        s = self.session
        if s is None or s.state not in (State.RUNNING, State.PAUSED):
            return
        s.stop(time.monotonic())
        self._drive_metronome(False)
        self.metronome.keep_audio_open(False)
        if self._recording():
            assert self.recorder is not None
            self.recorder.stop_recording(10.0)
            self._take_recording()
        self.save(final=True)
        self._update_buttons()

    def toggle_metronome(self) -> None:
        """M: the clinician switches the metronome (until the schedule's next switch)."""
        s = self.session
        if s is None or s.state is not State.RUNNING:
            return
        now = time.monotonic()
        s.override(not s.metronome_on(now), now)

    def _metronome_by_hand(self, on: bool) -> None:
        s = self.session
        if self._driving or s is None or s.state is not State.RUNNING:
            return
        now = time.monotonic()
        if s.metronome_on(now) != on:
            s.override(on, now)

    def _drive_metronome(self, on: bool) -> None:
        if self.metronome.is_running() == on:
            return
        self._driving = True
        try:
            self.metronome.start() if on else self.metronome.stop()
        finally:
            self._driving = False

    def _target_changed(self, *_: object) -> None:
        s = self.session
        if s is not None and s.state in (State.RUNNING, State.PAUSED):
            # A new target mid-session: the record keeps one target, so it is noted.
            s.target_spm, s.tolerance_spm = float(self.target_spin.value()), float(self.tol_spin.value())
            s.note(time.monotonic(), f"target set to {s.target_spm:g} ± {s.tolerance_spm:g} spm")
            self.metronome.set_bpm(int(round(s.target_spm)))
        else:
            self.metronome.set_bpm(self.target_spin.value())

    # ------------------------------------------------------------------ display
    def show_runner_view(self) -> None:
        self.runner.show()
        self.runner.raise_()

    def _runner_full(self) -> None:
        self.show_runner_view()
        self.runner.toggle_full_screen()

    def _result(self, text: str, *, ok: bool) -> None:
        self.result_label.setText(text)
        self.result_label.setStyleSheet("" if ok else "color: #8a1c1c;")
        self.result_label.setVisible(bool(text))

    def _update_buttons(self) -> None:
        s = self.session
        running = s is not None and s.state is State.RUNNING
        paused = s is not None and s.state is State.PAUSED
        self.start_button.setText("❚❚  Pause session  (Space)" if running else
                                  "▶  Resume session  (Space)" if paused else
                                  "▶  Start session  (Space)")  # fmt: skip
        self.start_button.setEnabled(self.context is not None)
        self.stop_button.setEnabled(running or paused)
        busy = running or paused
        self.camera_combo.setEnabled(self.recorder is None and not busy)
        error = self.recorder is not None and self.recorder.state is RecorderState.ERROR
        self.camera_button.setText("Retry camera" if error else
                                   "Stop camera" if self.recorder is not None else "Start camera")  # fmt: skip
        self.camera_button.setEnabled(bool(self._choices) and not self._recording())
        self.record_check.setEnabled(not busy)
        self.schedule_combo.setEnabled(not busy)

    def current_estimate(self, now: float):  # type: ignore[no-untyped-def]
        """The newest estimate if it is fresh (the camera and the analysis are running)."""
        if self.analysis is None or self.recorder is None:
            return None
        if self.recorder.state is RecorderState.ERROR:
            return None
        snap = self.analysis.snapshot()
        if snap.estimate is None or now - snap.published_wall > STALE_S:
            return None
        return snap.estimate

    def _poll(self) -> None:
        """Display timer (30 Hz): picture, estimate, session clock, metronome, labels."""
        now = time.monotonic()
        rec = self.recorder
        camera_text = ""
        if rec is not None:
            if rec.state is RecorderState.ERROR and rec.error is not None:
                camera_text = rec.error.message
                if self.session is not None and self.session.state is State.RUNNING:
                    camera_text += " The session goes on; the metronome keeps going."
                self._take_recording()
                self.camera_button.setText("Retry camera")
                self.camera_button.setEnabled(True)
            elif rec.state is RecorderState.OPENING:
                camera_text = "Starting the camera…"
            frame = rec.latest_preview() if rec.state is not RecorderState.ERROR else None
            if frame is None:
                if self._shown_frame != -2:
                    self.preview.set_frame(None)
                    self._shown_frame = -2
            elif frame.index != self._shown_frame:
                self._shown_frame = frame.index
                self.preview.set_frame(frame)
                self.preview.badge = "● REC" if rec.is_recording else ""
        elif self.camera_state.text() and not self._choices:
            camera_text = self.camera_state.text()
        if camera_text != self.camera_state.text():
            self._camera_message(camera_text)
        est = self.current_estimate(now)
        s = self.session
        if s is not None and s.state is State.RUNNING:
            cue = s.tick(now, est)
            self._drive_metronome(cue)
            self.metronome.plan_cue(s.upcoming_switches(now, CUE_PLAN_S))
            if now - self._last_save >= AUTOSAVE_S:
                self._last_save = now
                self.save()
        elif s is not None and s.state is State.PAUSED:
            self.metronome.plan_cue([])
            self._drive_metronome(False)
        self._show_estimate(est, now)
        if now - self._last_trend >= 1.0:
            self._last_trend = now
            self._draw_trend()

    def _show_estimate(self, est, now: float) -> None:  # type: ignore[no-untyped-def]
        target, tol = float(self.target_spin.value()), float(self.tol_spin.value())
        s = self.session
        cadence = est.cadence_spm if est is not None and est.ok else None
        band = None
        if cadence is not None:
            band = "slow" if cadence < target - tol else "fast" if cadence > target + tol else "on"
        if est is None:
            note = "Camera not running" if self.recorder is None else "No live cadence"
        else:
            note = est.message
        self.readout.show_state(cadence, band, note, s, now)
        self.runner.set_state(cadence, band, target, note, self.metronome.is_running())
        if self.analysis is not None:
            self.readout.show_analysis(self.analysis.snapshot().stats, est)

    def _draw_trend(self) -> None:
        samples = self.session.samples if self.session is not None else []
        self.trend.show_samples(samples, float(self.target_spin.value()), float(self.tol_spin.value()))

    # ------------------------------------------------------------------ lifetime
    def shutdown(self) -> None:
        """Stop everything; a running session is ended and saved, a recording kept."""
        self._timer.stop()
        if self.session is not None and self.session.state in (State.RUNNING, State.PAUSED):
            self.session.stop(time.monotonic())
            ctx = self.context
            if ctx is not None:
                try:  # closing: save now, on this thread (the window is going away)
                    save_session(self.clinic.db, self.session, ctx.visit_id)
                except Exception as exc:  # noqa: BLE001 - logged by the caller's handler
                    self.save_error = user_message(exc)
        self.metronome.keep_audio_open(False)
        self.metronome.stop()
        self.close_camera()
        if self.analysis is not None:
            self.analysis.stop()
            self.analysis = None
        for task in list(self._tasks):
            task.wait(5000)
        self.runner.close()

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)

