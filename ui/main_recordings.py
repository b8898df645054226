"""The main window's recording flow: where the camera saves, linking a capture to its visit,
importing a video file, and opening a recording for marking.

A mixin of :class:`ui.main_window.MainWindow` (uses ``clinic``, ``patient_view``, ``capture``,
``annotation``, ``changes`` and ``_tasks`` of the window).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from app.changes import RECORDING


class RecordingsMixin:
    """Capture destination, capture linking, video import, opening a recording."""

    def _update_capture_destination(self) -> None:
        visit_id, pid = self._current_visit, self.current_patient_id()
        if visit_id is None or pid is None or self.patient_view.summary is None:
            self.capture.set_destination(None, "")
            return
        visit = next((v for v in self.patient_view.summary.visits if v.id == visit_id), None)
        from app.records.media import visit_folder
        from app.records.validation import ValidationError

        try:
            with self.clinic.db.session() as s:  # named by uids: never an earlier record's folder
                folder = visit_folder(s, self.clinic.videos_root, visit_id)
        except ValidationError:  # the visit was deleted meanwhile
            self.capture.set_destination(None, "")
            return
        label = f"{self.patient_view.summary.full_name} · visit of {visit.date if visit else ''}"
        self.capture.set_destination(folder, label)
        self._capture_visit = visit_id

    def _link_capture(self, path: str, capture_fps: float, view: str) -> int | None:
        """Record a finished camera file on the visit it was filmed for (once per file)."""
        from app.records.recordings import add_existing_file

        linked = self._linked_captures
        if path in linked:
            return linked[path]
        visit_id = self._capture_visit
        if visit_id is None:
            return None
        try:
            rid = add_existing_file(
                self.clinic.db,
                self.clinic.videos_root,
                visit_id,
                Path(path),
                capture_fps=capture_fps,
                view=view,
            )
        except Exception as exc:  # the file itself stays where it is, nothing is lost
            QMessageBox.warning(
                self,
                "Recording kept, but not linked",
                f"The recording is saved as {path}, but could not be added to the visit: "
                f"{getattr(exc, 'message', exc)}. Use “Import video…” to add it.",
            )
            return None
        linked[path] = rid
        self.refresh_patient(select_visit=visit_id)
        self.changes.announce(RECORDING, patient=self.current_patient_id(), visit=visit_id)
        self.statusBar().showMessage(f"The {view}-view recording was added to the visit.", 5000)
        return rid

    def _recording_finished(self, path: str, capture_fps: float) -> None:
        """“Review now”: open the (already linked) recording for marking at its first frame."""
        rid = self._link_capture(path, capture_fps, "side")
        if rid is not None:
            self.open_recording(rid)

    def _import_for_current(self) -> None:
        vid = self.patient_view.current_visit_id()
        if vid is None:
            self.statusBar().showMessage("Select a patient and a visit first.", 4000)
            return
        self.import_video(vid)

    def import_video(self, visit_id: int, source: Path | None = None) -> None:
        from ui.import_video import ask_video_file, start_import

        source = source or ask_video_file(self)
        if source is None:
            return

        def done(recording_id: int) -> None:
            self.refresh_patient(select_visit=visit_id)
            self.changes.announce(RECORDING, patient=self.current_patient_id(), visit=visit_id)
            self.statusBar().showMessage(f"Imported {source.name}.", 5000)
            self.open_recording(recording_id)

        task = start_import(self, self.clinic, visit_id, source, done)
        self._tasks.append(task)
        task.finished.connect(lambda _r: self._tasks.remove(task) if task in self._tasks else None)
        task.failed.connect(lambda _e: self._tasks.remove(task) if task in self._tasks else None)
        task.cancelled.connect(lambda: self._tasks.remove(task) if task in self._tasks else None)

    def open_recording(self, recording_id: int) -> None:
        if self.annotation.open_recording(recording_id):
            self.tabs.setCurrentWidget(self._annotation_tab)
