"""Frame-by-frame marking of heel strikes and toe-offs: a view over a marking session.

The model (marks, review, drawings, undo history, saving) is
:class:`app.annotation.session.MarkingSession`; this panel shows it and turns keys and clicks
into its operations. Saving is :class:`app.annotation.autosave.AutoSaver`'s: journal first, the
database in the background, so a crash or a locked database neither loses nor freezes anything.
Frames come from :mod:`app.video`'s frame server; the panel asks for the frame it wants and shows
the newest one that is ready (a 60 Hz poll, never a signal per decoded frame).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import QWidget

from app import video
from app.analysis.events import EventType, Foot, FootEvent
from app.analysis.metrics import temporal_metrics
from app.annotation.clock import MarkingClock
from app.annotation.loading import load_recording, start_session, store_clock
from app.annotation.session import MarkingSession
from ui import annotation_dialogs as dialogs
from ui import annotation_drawings as drawings
from ui import annotation_keys as keys
from ui.annotation_detect import DetectionRunner
from ui.annotation_layout import build
from ui.annotation_measures import (
    landing,
    load_cached_keypoints,
    open_large_landing,
    skeleton_points,
)

if TYPE_CHECKING:
    from app.clinic import Clinic

log = logging.getLogger(__name__)
SKELETON_KEY = "marking/skeleton"
CACHE_BINS = 200  # parts of the timeline's readiness strip (fast stepping ready or not)
EMPTY_TEXT = (
    "No video open. On “Patient && visits”, select a visit and double-click its recording, "
    "or import a video into the visit (Ctrl+I)."
)


class AnnotationPanel(QWidget):
    events_saved = Signal(int)  # recording id
    status_message = Signal(str)

    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.session = MarkingSession()
        self._detector_note = ""
        self.server: video.FrameServer | None = None
        self._warnings_shown = 0  # of server.warnings, so a later note is shown once
        self.recording_id: int | None = None
        self.patient_id: int | None = None
        self.frame_count = 0
        self.current = 0
        self.times: np.ndarray = np.zeros(0)
        self.clock: MarkingClock | None = None  # frame -> real time of the open recording
        self.keypoints = None  # KeypointTrack from automatic detection, for the skeleton
        self._shown_frame = -1
        self.detector = DetectionRunner(self)
        self.detector.finished.connect(self._detected)
        self.detector.message.connect(self.status_message)
        self.events_revision: int | None = None
        self.direction = 1
        self.cm_per_px: float | None = None

        build(self)  # widgets, their layout and signal wiring (ui.annotation_layout)

        # The panel itself takes the focus: stepping and marking keys work after any click.
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._poll = QTimer(self)
        self._poll.setInterval(16)
        self._poll.timeout.connect(self._poll_frame)
        self._install_actions()
        self._set_enabled(False)
        self.view.set_message(EMPTY_TEXT)

    # ------------------------------------------------------------------ keys
    def _install_actions(self) -> None:
        keys.install(self, keys.panel_handlers(self))
        self.undo_action, self.redo_action = keys.undo_redo_actions(self, self.undo, self.redo)
        self._update_undo_actions()

    def _focus_frame_box(self) -> None:
        self.transport.frame_box.setFocus()
        self.transport.frame_box.selectAll()

    def _go_to_entered(self, frame: int) -> None:
        """Go to frame: Enter goes there and returns to stepping."""
        self.go_to(frame)
        self.setFocus()

    def _frame_box_left(self) -> None:
        """Esc leaves the field: the box shows the current frame again."""
        self.transport.show_position(self.current, self._time(self.current))
        self.setFocus()

    # ------------------------------------------------------------------ opening
    def open_recording(self, recording_id: int, *, reload: bool = False) -> bool:
        """Open a recording of the clinic; returns False (with a message shown) if it cannot.

        The recording already open stays as it is (its saves keep going) unless ``reload``.
        """
        if recording_id == self.recording_id and not reload:
            return True
        if recording_id != self.recording_id and not self.confirm_leave("open another video"):
            return False
        self.close_recording()
        c = self.clinic
        loaded = load_recording(c.db, c.folder.root, c.videos_root, recording_id)
        if loaded is None:
            self._show_banner("This recording no longer exists.")
            return False
        take = loaded.verdict != "conflict" or self.ask_recovered_conflict(loaded) == "mine"
        start_session(c.db, c.folder.root, loaded, take_journal=take)
        self.recording_id = recording_id
        self.patient_id = loaded.patient_id
        self.title.setText(loaded.title)
        self.events_revision = loaded.revision
        self.cm_per_px = loaded.cm_per_px
        self.view.set_calibration(loaded.cm_per_px)
        self.measure.set_view(loaded.view)  # rear view: the frontal-plane tools
        capture_fps = loaded.capture_fps
        try:
            self.server = video.open(
                loaded.path,
                capture_fps=capture_fps,
                memory_budget_mb=self.clinic.settings.video_memory_budget_mb,
                cache_dir=c.folder.cache,
            )
        except video.VideoError as exc:
            # The marks stay visible and editable on the timeline; the video can be relinked.
            self.server = None
            last = max((e.frame for e in loaded.events), default=0)
            self.frame_count = max(loaded.frame_count, 1 + last)
            self.clock = MarkingClock(loaded.stored_timebase())
            self.times = self.clock.times_s
            self.view.set_message(exc.message)
            self._show_banner(
                exc.message + " Your marks are safe and still listed on the timeline."
            )
        else:
            info = self.server.info
            self.frame_count = self.server.frame_count
            self.clock = MarkingClock(loaded.stored_timebase(), self.server)
            self.times = self.clock.times_s
            store_clock(c.db, recording_id, self.server)  # first open since the map existed
            self.view.set_message(None)
            self._warnings_shown = len(self.server.warnings)
            if self.server.warnings:
                self._show_banner(" ".join(self.server.warnings))
            capture_fps = self.server.capture_fps or info.container_fps
            self.fps_note.setText(
                f"(file plays at {info.container_fps:g} fps)"
                if info.container_fps
                else "(no frame rate in file)"
            )
        self.capture_fps.blockSignals(True)
        self.capture_fps.setValue(capture_fps or 30.0)
        self.capture_fps.blockSignals(False)
        self.transport.set_clip(
            self.frame_count, (self.server.info.container_fps if self.server else None) or 30.0
        )
        self.timeline.set_frame_count(self.frame_count)
        self.session = loaded.session
        self._detector_note = ""
        self.session.frame_count = self.frame_count
        self.session.retime(self._time)
        self.set_keypoints(load_cached_keypoints(loaded.path, self.clinic.folder.cache))
        self._refresh_events()
        self._set_enabled(True)
        self.sidebar.detect_btn.setEnabled(self.server is not None)
        self._shown_frame = -1
        self.go_to(0)
        self._poll.start()
        self.setFocus()
        if loaded.recovered_edits:
            self.save_monitor.show_pending(
                loaded.recovered_edits, "recovered from an earlier session"
            )
            self.status_message.emit(
                f"Recovered {loaded.recovered_edits} edit(s) that were not yet saved; "
                "saving them now."
            )
        return True

    @property
    def saver(self):  # type: ignore[no-untyped-def]
        return self.session.saver

    @property
    def events(self) -> list[FootEvent]:
        return self.session.events

    @property
    def overlays(self) -> list[dict]:
        return [d.to_overlay() for d in self.session.drawings]

    def close_recording(self) -> None:
        self._poll.stop()
        self.transport.stop()
        if self.session.saver is not None:
            # Unsaved edits stay in the journal: replayed at the next start or opening.
            self.session.saver.stop()
            self.session.saver = None
        if self.server is not None:
            self.server.close()
            self.server = None
        self.recording_id = None
        self.keypoints = None
        self.session = MarkingSession()
        self._detector_note = ""
        self.skeleton_box.blockSignals(True)
        self.skeleton_box.setChecked(False)
        self.skeleton_box.blockSignals(False)
        self.skeleton_box.setEnabled(False)
        self.banner.hide()
        self._set_enabled(False)
        self._update_undo_actions()
        self.view.set_message(EMPTY_TEXT)

    def shutdown(self) -> None:
        self.detector.stop()
        self.close_recording()

    def _set_enabled(self, on: bool) -> None:
        for w in (self.transport, self.timeline, self.sidebar, self.capture_fps):
            w.setEnabled(on)
        self.measure.set_enabled(on)
        self.direction_action.setEnabled(on)

    def _show_banner(self, text: str) -> None:
        self.banner.setText("⚠ " + text)
        self.banner.show()

    # ------------------------------------------------------------------ unsaved edits
    def unsaved_edits(self) -> int:
        """Edits not yet in the database (they are in the journal and being retried)."""
        return self.saver.pending_edits if self.saver is not None else 0

    def confirm_leave(self, what: str = "close") -> bool:
        """Ask before leaving a recording with unsaved edits; True to go ahead."""
        n = self.unsaved_edits()
        return n == 0 or self.ask_unsaved(n, what) == "leave"

    def _saved(self, revision: object) -> None:
        self.events_revision = revision  # type: ignore[assignment]
        if self.recording_id is not None:
            self.events_saved.emit(self.recording_id)

    def _resolve_conflict(self, message: str) -> None:
        """Another workstation saved marks on this recording since we loaded them: ask, never
        overwrite silently."""
        rid = self.recording_id
        if rid is None or self.saver is None:
            return
        if self.ask_conflict(message) == "overwrite":
            self.saver.overwrite()
        else:
            frame = self.current
            self.saver.discard()
            self.open_recording(rid, reload=True)
            self.go_to(frame)
            self.status_message.emit("Reloaded the marks saved on the other workstation.")

    # ------------------------------------------------------------------ questions (tests replace)
    def ask_recovered_conflict(self, loaded) -> str:  # type: ignore[no-untyped-def]
        """ "mine" (save the recovered edits over the other workstation's) or "theirs"."""
        return dialogs.ask_recovered_conflict(self, loaded.journal.edits if loaded.journal else 0)

    def ask_unsaved(self, n: int, what: str) -> str:
        """ "wait" or "leave"; the edits are kept in the journal either way."""
        return dialogs.ask_unsaved(self, n, what, self.saver.last_error if self.saver else None)

    def ask_conflict(self, message: str) -> str:
        """ "reload" (take the other workstation's marks) or "overwrite" (keep what is on screen)."""
        return dialogs.ask_conflict(self, message)

    def ask_accept_all(self, proposals: int, low: int) -> str:
        """ "all", "high" (high-confidence only) or "cancel"."""
        return dialogs.ask_accept_all(self, proposals, low)

    # ------------------------------------------------------------------ navigation
    def _time(self, frame: int) -> float:
        if self.clock is not None:
            return self.clock.time_of(frame)
        return frame / (self.capture_fps.value() or 30.0)  # nothing open yet

    def step(self, n: int) -> None:
        self.transport.stop()
        if self.server is not None:
            self.server.set_position_hint(self.current, n, abs(n))
        self.go_to(self.current + n)

    def go_to(self, frame: int) -> None:
        if self.frame_count <= 0:
            return
        frame = max(0, min(self.frame_count - 1, int(frame)))
        self.current = frame
        self.transport.show_position(frame, self._time(frame))
        self.timeline.set_current(frame)
        if self.server is not None:
            direction = 1 if frame >= self._shown_frame else -1
            self.server.set_position_hint(frame, direction)
            rgb = self.server.try_get(frame)
            if rgb is not None:
                self._show(frame, rgb)
        else:
            self._show_drawings()

    def _seek(self, event: FootEvent | None) -> None:
        """Review navigation: go to the event found and select it."""
        if event is None:
            self.status_message.emit("No further mark of that kind.")
            return
        self.go_to(event.frame)
        self.timeline.set_selected(event)
        conf = "" if event.source.value == "manual" else f" (confidence {event.confidence:.2f})"
        self.status_message.emit(f"Selected {event.foot.value} {event.type.value}{conf}.")

    def _event_clicked(self, event: FootEvent) -> None:
        self.session.selected = event
        self.timeline.set_selected(event)

    def _poll_frame(self) -> None:
        self.save_monitor.poll(self.saver)
        if self.server is None:
            return
        if self._shown_frame != self.current:
            rgb = self.server.try_get(self.current)
            if rgb is not None:
                self._show(self.current, rgb)
        self.timeline.set_cache_map(self.server.ready_map(CACHE_BINS))
        if len(self.server.warnings) > self._warnings_shown:
            # A note that came later (the disk filled up while frames were being stored).
            self._warnings_shown = len(self.server.warnings)
            self._show_banner(self.server.warnings[-1])
        if self.server.frame_count != self.frame_count:
            # A damaged file turned out shorter than its header said: show what is really there.
            self.frame_count = self.session.frame_count = self.server.frame_count
            if self.clock is not None:
                self.clock.refresh()
                self.times = self.clock.times_s
            self.transport.set_clip(self.frame_count, self.server.info.container_fps or 30.0)
            self.timeline.set_frame_count(self.frame_count)
            self._show_banner(
                f"This video is damaged: only {self.frame_count} frames can be read. "
                "Marks beyond the readable part are kept."
            )
            self.go_to(min(self.current, self.frame_count - 1))

    def _show(self, frame: int, rgb: np.ndarray) -> None:
        self.view.set_frame(rgb)
        self._shown_frame = frame
        self._show_drawings()
        self._show_skeleton()

    def _show_drawings(self) -> None:
        self.view.set_overlays([d.to_overlay() for d in self.session.drawings_on(self.current)])

    # ------------------------------------------------------------------ marks and review
    def _refresh_events(self) -> None:
        """Show the session: timeline (proposals drawn provisional), figures from reviewed marks."""
        s = self.session
        self.timeline.set_events(s.events)
        self.timeline.set_selected(s.selected)
        figures = s.reviewed_events()
        try:
            metrics = temporal_metrics(figures) if figures else None
        except Exception:  # metrics must never break marking
            log.exception("metrics failed")
            metrics = None
        self.sidebar.show_metrics(metrics)
        self._refresh_landing()
        review = s.review_state()
        # The detector's note (e.g. "contact not found") stays until the next detection or clip.
        self.sidebar.show_review(review, getattr(self, "_detector_note", ""))
        self._update_undo_actions()

    def _refresh_landing(self) -> None:
        figures = self.session.reviewed_events()
        m = landing(figures, self.keypoints, self.direction, self.cm_per_px)
        direction = "right" if self.direction > 0 else "left"
        self._landing = (m, figures, self.keypoints, direction)
        self.sidebar.landing.show_landing(*self._landing)
        self.landing_action.setEnabled(m is not None)

    def enlarge_landing(self):  # type: ignore[no-untyped-def]
        """Landing table and plots in a large window (nothing cut off on a narrow sidebar)."""
        if getattr(self, "_landing", (None,))[0] is not None:
            self._landing_dialog = open_large_landing(self, *self._landing)
            return self._landing_dialog
        return None

    def _after_edit(self, changed: object = True) -> None:
        if changed:
            self._refresh_events()
            self._show_drawings()
            if self.session.last_message:
                self.status_message.emit(self.session.last_message)

    def _update_undo_actions(self) -> None:
        h = self.session.history
        for action, label, word in (
            (self.undo_action, h.undo_label, "Undo"),
            (self.redo_action, h.redo_label, "Redo"),
        ):
            action.setEnabled(label is not None)
            action.setText(f"&{word} “{label}”" if label else f"&{word}")

    def undo(self) -> None:
        label = self.session.undo()
        if label is not None:
            self._after_edit()
            self.status_message.emit(f"Undone: {label}.")

    def redo(self) -> None:
        label = self.session.redo()
        if label is not None:
            self._after_edit()
            self.status_message.emit(f"Redone: {label}.")

    def mark(self, foot: Foot, etype: EventType) -> None:
        if self.recording_id is not None:
            self._after_edit(self.session.mark(foot, etype, self.current))

    def delete_at_current(self) -> None:
        self._after_edit(self.session.delete_at(self.current))

    def nudge_at_current(self, frames: int) -> None:
        """Move the marks on the current frame by ``frames`` (Ctrl+←/→) and follow them."""
        target = self.session.nudge(self.current, frames)
        if target is not None:
            self._after_edit()
            self.go_to(target)

    def _selected_or_here(self) -> FootEvent | None:
        sel = self.session.selected
        if sel is not None and sel.frame == self.current and sel in self.session.events:
            return sel
        return self.session.select_at(self.current)

    def accept_selected(self) -> None:
        """A: accept the selected proposal (or the one on this frame)."""
        ev = self._selected_or_here()
        if ev is not None and self.session.accept(ev):
            self._after_edit()

    def accept_at_current(self) -> None:
        self.accept_selected()

    def reject_selected(self) -> None:
        """R: reject (remove) the selected proposal; a reviewed mark is never removed by R."""
        ev = self._selected_or_here()
        if ev is not None and self.session.reject(ev):
            self._after_edit()

    def accept_all(self) -> None:
        review = self.session.review_state()
        if review.proposals == 0:
            return
        if review.low_confidence:
            choice = self.ask_accept_all(review.proposals, review.low_confidence)
            if choice == "high":
                self.accept_high_confidence()
                return
            if choice != "all":
                return
        self._after_edit(self.session.accept_all())

    def accept_high_confidence(self) -> None:
        self._after_edit(self.session.accept_high_confidence())

    def _event_moved(self, event: FootEvent, new_frame: int) -> None:
        self._after_edit(self.session.move(event, new_frame))
        self.go_to(max(0, min(self.frame_count - 1, int(new_frame))))

    def _capture_fps_changed(self, fps: float) -> None:
        if self.recording_id is None or self.saver is None:
            return
        self.saver.submit({"capture_fps": float(fps)})  # the spin box keeps it within 1–2000
        if self.clock is not None:
            self.clock.set_capture_fps(fps)
            self.times = self.clock.times_s
        self.session.retime(self._time)
        self._refresh_events()
        self.go_to(self.current)

    # ------------------------------------------------------------------ drawings
    # (ui.annotation_drawings: measurement lines, their menu, calibration, still export)
    def _drawing_created(self, item: dict) -> None:
        drawings.created(self, item)

    def drawing_choices(self, index: int) -> list[tuple[str, object]]:
        """What a right-click on drawing ``index`` (of this frame's) offers: (text, action)."""
        return drawings.choices(self, index)

    def _drawing_menu(self, index: int) -> None:
        drawings.menu(self, index)

    def _overlay_created(self, item: dict) -> None:
        """A finished drawing from the video view (tests and the view both land here)."""
        drawings.overlay_created(self, item)

    def _calibrate(self, item: dict) -> None:
        drawings.calibrate(self, item)

    def export_frame(self, path) -> bool:  # type: ignore[no-untyped-def]
        return drawings.export_frame(self, path)

    def export_frame_dialog(self) -> None:
        drawings.export_frame_dialog(self)

    # ------------------------------------------------------------------ keypoints
    def set_keypoints(self, track) -> None:  # type: ignore[no-untyped-def]
        """Use a keypoint track (decoded from this file) for the skeleton and landing measures,
        timed on the recording's clock."""
        if track is not None and self.clock is not None:
            track = self.clock.retime(track)
        self.keypoints = track
        self.skeleton_box.setEnabled(track is not None)
        self.skeleton_box.blockSignals(True)
        self.skeleton_box.setChecked(
            track is not None and QSettings().value(SKELETON_KEY, False, type=bool)
        )
        self.skeleton_box.blockSignals(False)
        if track is not None and track.meta.get("direction") in ("left", "right"):
            self.set_direction(-1 if track.meta["direction"] == "left" else 1)
        self._show_skeleton()

    def _skeleton_toggled(self, on: bool) -> None:
        QSettings().setValue(SKELETON_KEY, bool(on))  # the clinician's choice is remembered
        self._show_skeleton()

    def _show_skeleton(self) -> None:
        on = self.skeleton_box.isChecked()
        self.view.set_skeleton(skeleton_points(self.keypoints, self.current) if on else None)

    def set_direction(self, direction: int) -> None:
        """Direction of travel in the image (+1 right, -1 left): signs shank angles and overstride."""
        self.direction = 1 if direction >= 0 else -1
        self.view.set_direction(self.direction)
        self.direction_action.setText("Runner faces →" if self.direction > 0 else "Runner faces ←")
        if self.keypoints is not None:
            self._refresh_landing()

    # ------------------------------------------------------------------ detection
    def detect_contacts(self):  # type: ignore[no-untyped-def]
        """Run automatic detection off the GUI thread; proposals never touch reviewed marks."""
        if self.server is None:
            return None
        return self.detector.start(
            self.server.path,
            container_fps=self.server.info.container_fps,
            capture_fps=self.capture_fps.value(),
            frame_count=self.frame_count,
            cache_dir=self.clinic.folder.cache,
            timebase=self.clock.timebase if self.clock is not None else None,
        )

    def _detected(self, result) -> None:  # type: ignore[no-untyped-def]
        self.set_keypoints(result.track)
        self.session.merge_proposals(
            [replace(e, time_s=self._time(e.frame)) for e in result.proposals]
        )
        self._detector_note = " ".join(result.warnings)
        self._after_edit()  # shows the review state with the note
        # The same count the panel shows: proposals now waiting for review (a detected contact
        # on a frame that already has a reviewed mark is not a new proposal).
        waiting = self.session.review_state().proposals
        self.status_message.emit(
            f"{waiting} proposals from automatic detection; review them on the timeline "
            "(N next proposal, A accept, R reject)."
        )
