"""Frame-by-frame marking of heel strikes and toe-offs, with live metrics.

Every edit is an undoable command. It is written at once to a small journal beside the
database and saved to the database off the GUI thread by :class:`app.annotation.autosave.AutoSaver`
(retried until it goes through), so neither a crash nor a locked database loses or freezes
anything. Frames come from :mod:`app.video`'s frame server; the panel asks for the frame it
wants and shows the newest one that is ready (a 60 Hz poll, never a signal per decoded frame).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app import video
from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.analysis.metrics import temporal_metrics
from app.annotation.autosave import AutoSaver
from app.annotation.journal import Journal, classify, events_to_json
from app.db.models import Patient, Recording, Visit
from app.records import recordings as rec_store
from ui.annotation_measures import MeasurementsMixin
from ui.annotation_sidebar import AnnotationSidebar
from ui.event_timeline import EventTimeline
from ui.playback import TransportBar
from ui.video_view import VideoView

if TYPE_CHECKING:
    from app.clinic import Clinic

log = logging.getLogger(__name__)
LOW_CONFIDENCE = 0.5


class _EventsEdit(QUndoCommand):
    """Replace the whole event list (small lists: snapshots keep undo trivially correct)."""

    def __init__(
        self, panel: AnnotationPanel, before: list[FootEvent], after: list[FootEvent], text: str
    ) -> None:
        super().__init__(text)
        self.panel, self.before, self.after = panel, before, after

    def redo(self) -> None:
        self.panel._apply_events(self.after)

    def undo(self) -> None:
        self.panel._apply_events(self.before)


class AnnotationPanel(MeasurementsMixin, QWidget):
    events_saved = Signal(int)  # recording id
    status_message = Signal(str)

    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.server: video.FrameServer | None = None
        self.recording_id: int | None = None
        self.frame_count = 0
        self.current = 0
        self.times: np.ndarray = np.zeros(0)
        self.events: list[FootEvent] = []
        self.overlays: list[dict] = []
        self.keypoints = None  # KeypointTrack from automatic detection, for the skeleton
        self.save_error: str | None = None
        self.saver: AutoSaver | None = None
        self.journal = Journal(clinic.folder.root)
        self.undo_stack = QUndoStack(self)
        self._shown_frame = -1
        self._detect_task = None
        self.events_revision: int | None = None
        self.patient_id: int | None = None
        self.direction = 1
        self.cm_per_px: float | None = None

        # --- header -----------------------------------------------------------------------
        self.title = QLabel("No recording open")
        self.title.setObjectName("sectionTitle")
        self.capture_fps = QDoubleSpinBox()
        self.capture_fps.setRange(1.0, 2000.0)
        self.capture_fps.setDecimals(2)
        self.capture_fps.setSuffix(" frames/s")
        self.capture_fps.setKeyboardTracking(False)
        self.capture_fps.setToolTip(
            "Capture rate: how many frames the camera took per real second. Phone slow-motion files "
            "often play at 30 fps but were captured at 120 or 240 fps; every time figure (cadence, "
            "contact time) uses this rate."
        )
        self.capture_fps.valueChanged.connect(self._capture_fps_changed)
        self.fps_note = QLabel()
        self.fps_note.setObjectName("muted")
        self.banner = QLabel()
        self.banner.setObjectName("warning")
        self.banner.setWordWrap(True)
        self.banner.hide()
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(QLabel("Capture rate"))
        header.addWidget(self.capture_fps)
        header.addWidget(self.fps_note)

        # --- video, tools, transport, timeline -----------------------------------------------
        self.view = VideoView()
        self.view.overlay_created.connect(self._overlay_created)
        self.view.overlay_delete_requested.connect(self._overlay_delete)
        self.view.tool_changed.connect(self._view_tool_changed)
        self.transport = TransportBar()
        self.transport.frame_requested.connect(self.go_to)
        self.timeline = EventTimeline()
        self.timeline.frame_requested.connect(self.go_to)
        self.timeline.event_moved.connect(self._event_moved)

        # A tool bar folds what does not fit into a » menu, so the panel works on a 1280 px laptop.
        tools = QToolBar()
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        tools.addWidget(QLabel("Measure: "))
        self.tool_buttons: dict[str, QAction] = {}
        for kind, text, tip in (
            (
                "vline",
                "Vertical line",
                "Click once: a vertical reference line (e.g. through the hip)",
            ),
            (
                "shank",
                "Shank angle",
                "Click the knee, then the ankle: shank angle against vertical",
            ),
            ("angle", "Knee angle", "Click hip, knee, ankle: knee flexion"),
            ("distance", "Distance", "Click two points: distance (cm once calibrated)"),
            (
                "calibration",
                "Calibrate…",
                "Click both ends of an object of known length in the runner's plane",
            ),
        ):
            a = QAction(text, self)
            a.setCheckable(True)
            a.setToolTip(tip)
            a.toggled.connect(lambda on, k=kind: self._tool_toggled(k, on))
            tools.addAction(a)
            self.tool_buttons[kind] = a
        tools.addSeparator()
        self.direction_action = QAction("Runner faces →", self)
        self.direction_action.setToolTip(
            "Direction the runner faces in the picture; sets the sign of shank angles "
            "(detected automatically by “Detect contacts”)."
        )
        self.direction_action.triggered.connect(lambda: self.set_direction(-self.direction))
        tools.addAction(self.direction_action)
        self.skeleton_box = QCheckBox("Skeleton")
        self.skeleton_box.setToolTip(
            "Show the pose model's leg keypoints (after automatic detection)"
        )
        self.skeleton_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.skeleton_box.toggled.connect(lambda _on: self._show_skeleton())
        self.skeleton_box.setEnabled(False)
        tools.addWidget(self.skeleton_box)
        tools.addSeparator()
        fit = QAction("Fit", self)
        fit.setToolTip("Fit the frame to the window (zoom with the mouse wheel, drag to pan)")
        fit.triggered.connect(self.view.fit_to_window)
        export = QAction("Export frame…", self)
        export.setToolTip("Save this frame with its measurement lines as a PNG picture")
        export.triggered.connect(self.export_frame_dialog)
        tools.addAction(fit)
        tools.addAction(export)
        for w in tools.findChildren(QWidget):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(tools)
        lv.addWidget(self.view, 1)
        lv.addWidget(self.transport)
        lv.addWidget(self.timeline)

        self.sidebar = AnnotationSidebar()
        self.sidebar.mark_requested.connect(self.mark)
        self.sidebar.delete_requested.connect(self.delete_at_current)
        self.sidebar.detect_requested.connect(self.detect_contacts)
        self.sidebar.accept_all_requested.connect(self.accept_all)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        side_scroll = QScrollArea()
        side_scroll.setWidgetResizable(True)
        side_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side_scroll.setWidget(self.sidebar)
        side_scroll.setMinimumWidth(self.sidebar.minimumWidth() + 16)
        split.addWidget(side_scroll)
        split.setStretchFactor(0, 1)
        split.setSizes([980, 420])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(split, 1)

        self._poll = QTimer(self)
        self._poll.setInterval(16)
        self._poll.timeout.connect(self._poll_frame)
        self._install_shortcuts()
        self._set_enabled(False)

    # ------------------------------------------------------------------ shortcuts
    def _install_shortcuts(self) -> None:
        def sc(key: str | QKeySequence, fn) -> None:  # type: ignore[no-untyped-def]
            s = QShortcut(QKeySequence(key), self)
            s.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            s.activated.connect(fn)

        sc("Right", lambda: self.step(1))
        sc("Left", lambda: self.step(-1))
        sc("Shift+Right", lambda: self.step(10))
        sc("Shift+Left", lambda: self.step(-10))
        sc("Home", lambda: self.go_to(0))
        sc("End", lambda: self.go_to(self.frame_count - 1))
        sc("Space", self.transport.toggle)
        sc("J", self.transport.slower)
        sc("K", self.transport.stop)
        sc("L", self.transport.faster)
        sc("G", self._focus_frame_box)
        sc("1", lambda: self.mark(Foot.LEFT, EventType.INITIAL_CONTACT))
        sc("2", lambda: self.mark(Foot.RIGHT, EventType.INITIAL_CONTACT))
        sc("3", lambda: self.mark(Foot.LEFT, EventType.TOE_OFF))
        sc("4", lambda: self.mark(Foot.RIGHT, EventType.TOE_OFF))
        sc("Delete", self.delete_at_current)
        sc("Backspace", self.delete_at_current)
        sc("A", self.accept_at_current)
        sc("Ctrl+Left", lambda: self.nudge_at_current(-1))
        sc("Ctrl+Right", lambda: self.nudge_at_current(1))
        sc(QKeySequence.StandardKey.Undo, self.undo_stack.undo)
        sc(QKeySequence.StandardKey.Redo, self.undo_stack.redo)
        sc("Ctrl+Shift+Z", self.undo_stack.redo)

    def _focus_frame_box(self) -> None:
        self.transport.frame_box.setFocus()
        self.transport.frame_box.selectAll()

    # ------------------------------------------------------------------ opening
    def open_recording(self, recording_id: int) -> bool:
        """Open a recording of the clinic; returns False (with a message shown) if it cannot."""
        if recording_id != self.recording_id and not self.confirm_leave("open another video"):
            return False
        self.close_recording()
        with self.clinic.db.session() as s:
            rec = s.get(Recording, recording_id)
            if rec is None:
                self._show_banner("This recording no longer exists.")
                return False
            visit = s.get(Visit, rec.visit_id)
            patient = s.get(Patient, visit.patient_id) if visit else None
            self.patient_id = patient.id if patient else None
            path = rec_store.resolve_video(rec, self.clinic.videos_root)
            capture_fps, container_fps = rec.capture_fps, rec.container_fps
            frame_count = rec.frame_count or 0
            cm_per_px = rec.cm_per_px
            self.overlays = [
                {
                    "kind": o.kind,
                    "points": o.points,
                    "value": o.value,
                    "label": o.label or "",
                    "frame": o.frame,
                }
                for o in rec_store.overlays_of(s, recording_id)
            ]
            fps_for_events = capture_fps or container_fps or 30.0
            events = rec_store.events_of(s, recording_id, fps_for_events)
            # Another workstation saving marks on this recording bumps this revision.
            self.events_revision = rec_store.events_revision(s, recording_id)
            recording_uid = rec.uid
            title = f"{patient.full_name if patient else ''} · {visit.visit_date if visit else ''} · {rec.original_name or path.name}"
        self.recording_id = recording_id
        self.title.setText(title)
        recovered = self.journal.read(recording_uid)
        self.saver = AutoSaver(
            self.clinic.db, self.journal, recording_uid, recording_id, self.events_revision
        )
        if recovered is not None:
            events, cm_per_px, capture_fps = self._recover(
                recovered, events, cm_per_px, capture_fps
            )
        self.undo_stack.clear()
        self.view.set_calibration(cm_per_px)
        self.cm_per_px = cm_per_px
        try:
            self.server = video.open(
                path,
                capture_fps=capture_fps,
                memory_budget_mb=self.clinic.settings.video_memory_budget_mb,
            )
        except video.VideoError as exc:
            # The marks stay visible and editable on the timeline; the video can be relinked.
            self.server = None
            self.frame_count = max(frame_count, 1 + max((e.frame for e in events), default=0))
            self.times = np.arange(self.frame_count) / fps_for_events
            self.view.set_message(exc.message)
            self._show_banner(
                exc.message + " Your marks are safe and still listed on the timeline."
            )
        else:
            info = self.server.info
            self.frame_count = self.server.frame_count
            self.times = self.server.times_s()
            self.view.set_message(None)
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
        self.events = [replace(e, time_s=self._time(e.frame)) for e in events]
        self._load_cached_keypoints(path)
        self._refresh_events()
        self._set_enabled(True)
        self.sidebar.detect_btn.setEnabled(self.server is not None)
        self._shown_frame = -1
        self.go_to(0)
        self._poll.start()
        self.setFocus()
        if recovered is not None and self.saver.pending_edits:
            self._show_save_state(self.saver.pending_edits, "recovered from an earlier session")
        return True

    def _recover(self, entry, events, cm_per_px, capture_fps):  # type: ignore[no-untyped-def]
        """Edits of an earlier session that never reached the database (locked, crash, "close
        anyway"): take them over, asking first when another workstation saved in between."""
        assert self.saver is not None
        verdict = classify(entry, self.events_revision or 0, events)
        if verdict == "conflict" and self.ask_recovered_conflict(entry.edits) == "theirs":
            self.journal.remove(entry.recording_uid)
            return events, cm_per_px, capture_fps
        if verdict == "conflict":
            self.saver.overwrite()
        parts = dict(entry.parts)
        if verdict == "events saved":
            parts.pop("events", None)
        if not parts:
            self.journal.remove(entry.recording_uid)
            return events, cm_per_px, capture_fps
        self.saver.submit(parts, edits=max(1, entry.edits))
        if "events" in parts and entry.events is not None:
            events = entry.events
        if "overlays" in parts:
            self.overlays = [dict(o) for o in parts["overlays"]]
        if "capture_fps" in parts:
            capture_fps = float(parts["capture_fps"])
        if "calibration" in parts:
            cm_per_px = (parts["calibration"] or {}).get("cm_per_px")
            self.view.set_calibration(cm_per_px)
            self.cm_per_px = cm_per_px
        self.status_message.emit(
            f"Recovered {entry.edits} edit(s) that were not yet saved; saving them now."
        )
        return events, cm_per_px, capture_fps

    def ask_recovered_conflict(self, edits: int) -> str:
        """ "mine" (save the recovered edits over the other workstation's) or "theirs"."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Unsaved marks found")
        box.setText(
            f"{edits} edit(s) on this video from an earlier session were never saved, and the "
            "marks were changed on another workstation since. Which marks should be kept?"
        )
        theirs = box.addButton("Keep the other workstation's", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Use my unsaved marks", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(theirs)
        box.exec()
        return "theirs" if box.clickedButton() is theirs else "mine"

    # ------------------------------------------------------------------ unsaved edits
    def unsaved_edits(self) -> int:
        """Edits not yet in the database (they are in the journal and being retried)."""
        return self.saver.pending_edits if self.saver is not None else 0

    def confirm_leave(self, what: str = "close") -> bool:
        """Ask before leaving a recording with unsaved edits; True to go ahead."""
        n = self.unsaved_edits()
        if n == 0:
            return True
        return self.ask_unsaved(n, what) == "leave"

    def ask_unsaved(self, n: int, what: str) -> str:
        """ "wait" or "leave"; the edits are kept in the journal either way."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Marks not yet saved")
        box.setText(
            f"{n} mark(s) not yet saved: the database is busy"
            + (f" ({self.saver.last_error})" if self.saver and self.saver.last_error else "")
            + ".\n\nThey are kept safely on this computer and saved at the next start "
            "(or when this video is opened again) if you go on now."
        )
        wait = box.addButton("Wait", QMessageBox.ButtonRole.RejectRole)
        box.addButton(f"{what[0].upper()}{what[1:]} anyway", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(wait)
        box.exec()
        return "wait" if box.clickedButton() is wait else "leave"

    def _show_save_state(self, pending: int, reason: str | None) -> None:
        self._show_banner(
            f"{pending} mark(s) not yet saved to the database"
            + (f" ({reason})" if reason else "")
            + ". They are kept safely on this computer and saved automatically as soon as "
            "possible; you can go on marking."
        )

    def _take_save_notices(self) -> None:
        if self.saver is None:
            return
        for notice in self.saver.take_notices():
            if notice.kind == "saved":
                self.events_revision = notice.revision
                if notice.pending_edits == 0 and self.save_error:
                    self.save_error = None
                    self.banner.hide()
                if self.recording_id is not None:
                    self.events_saved.emit(self.recording_id)
            elif notice.kind in ("retrying", "journal"):
                self.save_error = notice.message
                self._show_save_state(notice.pending_edits, notice.message)
            elif notice.kind == "failed":
                self.save_error = notice.message
                self._show_banner(notice.message + " Your last edits could not be saved.")
            elif notice.kind == "conflict":
                self._resolve_conflict(notice.message)

    def close_recording(self) -> None:
        self._poll.stop()
        self.transport.stop()
        if self.saver is not None:
            # Unsaved edits stay in the journal: replayed at the next start or opening.
            self.saver.stop()
            self.saver = None
        if self.server is not None:
            self.server.close()
            self.server = None
        self.recording_id = None
        self.keypoints = None
        self.skeleton_box.setChecked(False)
        self.skeleton_box.setEnabled(False)
        self.banner.hide()
        self._set_enabled(False)

    def shutdown(self) -> None:
        if self._detect_task is not None:
            self._detect_task.cancel()
            self._detect_task.wait(10000)
        self.close_recording()

    def _set_enabled(self, on: bool) -> None:
        for w in (
            self.transport,
            self.timeline,
            self.sidebar,
            self.capture_fps,
            *self.tool_buttons.values(),
        ):
            w.setEnabled(on)
        self.direction_action.setEnabled(on)

    def _show_banner(self, text: str) -> None:
        self.banner.setText("⚠ " + text)
        self.banner.show()

    # ------------------------------------------------------------------ navigation
    def _time(self, frame: int) -> float:
        if 0 <= frame < len(self.times):
            return float(self.times[frame])
        return frame / (self.capture_fps.value() or 30.0)

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

    def _poll_frame(self) -> None:
        self._take_save_notices()
        if self.server is None:
            return
        if self._shown_frame != self.current:
            rgb = self.server.try_get(self.current)
            if rgb is not None:
                self._show(self.current, rgb)
        self.timeline.set_cache_progress(self.server.cache_progress())
        if self.server.frame_count != self.frame_count:
            # A damaged file turned out shorter than its header said: show what is really there.
            self.frame_count = self.server.frame_count
            self.times = self.server.times_s()
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
        self.view.set_overlays([o for o in self.overlays if o.get("frame") == frame])
        self._show_skeleton()

    # ------------------------------------------------------------------ events
    def _refresh_events(self) -> None:
        self.timeline.set_events(self.events)
        try:
            metrics = temporal_metrics(self.events) if self.events else None
        except Exception:  # metrics must never break marking
            log.exception("metrics failed")
            metrics = None
        self.sidebar.show_metrics(metrics)
        self._refresh_landing()
        auto = [e for e in self.events if e.source is EventSource.AUTOMATIC]
        self.sidebar.show_proposals(
            len(auto), sum(1 for e in auto if e.confidence < LOW_CONFIDENCE)
        )

    def _apply_events(self, events: list[FootEvent]) -> None:
        """Show ``events`` and hand them to the autosave (journal now, database in background)."""
        self.events = sorted(events, key=lambda e: (e.frame, e.foot.value, e.type.value))
        self._refresh_events()
        self._save_events()

    def _save_events(self) -> None:
        self._submit({"events": events_to_json(self.events)})

    def _submit(self, parts: dict) -> None:
        if self.saver is not None:
            self.saver.submit(parts)

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
            self.open_recording(rid)
            self.go_to(frame)
            self.status_message.emit("Reloaded the marks saved on the other workstation.")

    def ask_conflict(self, message: str) -> str:
        """ "reload" (take the other workstation's marks) or "overwrite" (keep what is on screen)."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Marks changed on another workstation")
        box.setText(message)
        reload_btn = box.addButton("Show their marks", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Keep mine and replace theirs", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(reload_btn)
        box.exec()
        return "reload" if box.clickedButton() is reload_btn else "overwrite"

    def _edit(self, after: list[FootEvent], text: str) -> None:
        self.undo_stack.push(_EventsEdit(self, list(self.events), after, text))

    def mark(self, foot: Foot, etype: EventType) -> None:
        if self.recording_id is None:
            return
        f = self.current
        rest = [e for e in self.events if not (e.foot is foot and e.type is etype and e.frame == f)]
        new = FootEvent(foot, etype, f, self._time(f), EventSource.MANUAL, 1.0)
        self._edit([*rest, new], f"mark {foot.value} {etype.value.replace('_', ' ')} at {f}")
        self.status_message.emit(
            f"Marked {foot.value} {etype.value.replace('_', ' ')} at frame {f}."
        )

    def delete_at_current(self) -> None:
        here = [e for e in self.events if e.frame == self.current]
        if here:
            self._edit(
                [e for e in self.events if e.frame != self.current],
                f"delete marks at {self.current}",
            )

    def nudge_at_current(self, frames: int) -> None:
        """Move the marks on the current frame by ``frames`` (Ctrl+←/→) and follow them."""
        here = [e for e in self.events if e.frame == self.current]
        target = self.current + frames
        if not here or not 0 <= target < self.frame_count:
            return
        moved = [
            replace(
                e,
                frame=target,
                time_s=self._time(target),
                source=EventSource.MANUAL,
                confidence=1.0,
            )
            for e in here
        ]
        keys = {(e.foot, e.type) for e in moved}
        rest = [
            e
            for e in self.events
            if e.frame != self.current and not (e.frame == target and (e.foot, e.type) in keys)
        ]
        self._edit([*rest, *moved], f"nudge marks to {target}")
        self.go_to(target)

    def accept_at_current(self) -> None:
        if any(e.frame == self.current and e.source is EventSource.AUTOMATIC for e in self.events):
            after = [
                replace(e, source=EventSource.MANUAL, confidence=1.0)
                if e.frame == self.current
                else e
                for e in self.events
            ]
            self._edit(after, f"accept proposal at {self.current}")

    def accept_all(self) -> None:
        if any(e.source is EventSource.AUTOMATIC for e in self.events):
            self._edit(
                [replace(e, source=EventSource.MANUAL, confidence=1.0) for e in self.events],
                "accept all proposals",
            )

    def _event_moved(self, event: FootEvent, new_frame: int) -> None:
        new_frame = max(0, min(self.frame_count - 1, int(new_frame)))
        rest = [
            e
            for e in self.events
            if e != event
            and not (e.foot is event.foot and e.type is event.type and e.frame == new_frame)
        ]
        moved = replace(
            event,
            frame=new_frame,
            time_s=self._time(new_frame),
            source=EventSource.MANUAL,
            confidence=1.0,
        )
        self._edit([*rest, moved], f"move {event.foot.value} {event.type.value} to {new_frame}")
        self.go_to(new_frame)

    def _capture_fps_changed(self, fps: float) -> None:
        if self.recording_id is None:
            return
        self._submit({"capture_fps": float(fps)})  # the spin box keeps it within 1–2000
        if self.server is not None:
            self.server.capture_fps = fps
            self.times = self.server.times_s()
        else:
            self.times = np.arange(self.frame_count) / fps
        self.events = [replace(e, time_s=self._time(e.frame)) for e in self.events]
        self._refresh_events()
        self.go_to(self.current)

    # ------------------------------------------------------------------ detection
    def detect_contacts(self) -> None:
        from ui.auto_detect import start_detection

        start_detection(self)
