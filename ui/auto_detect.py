"""Automatic contact proposals for the open recording: pose model + detector, off the GUI thread.

Proposals are merged with the clinician's marks by :func:`app.records.recordings.merge_automatic`
(manual marks always win) and applied as one undoable edit.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

from app.analysis.events import EventSource
from app.records.recordings import merge_automatic
from ui.tasks import BackgroundTask, user_message

if TYPE_CHECKING:
    from ui.annotation_panel import AnnotationPanel


def start_detection(panel: AnnotationPanel) -> BackgroundTask | None:
    server = panel.server
    if server is None or panel._detect_task is not None:
        return None
    path = server.path
    container_fps = server.info.container_fps
    capture_fps = panel.capture_fps.value()
    cache_dir = panel.clinic.folder.cache

    def job(progress, cancelled):  # type: ignore[no-untyped-def]
        from app.analysis.contacts import detect_contacts
        from app.analysis.pose import run_pose

        track = run_pose(
            path, progress=lambda f: progress(0.97 * f), cancel=cancelled, cache_dir=cache_dir
        )
        if container_fps and capture_fps and abs(container_fps - capture_fps) > 1e-6:
            track.times = track.times * (container_fps / capture_fps)
            track.meta["retimed"] = True
        result = detect_contacts(track)
        track.meta["direction"] = result.direction
        progress(1.0)
        return track, result

    task = BackgroundTask(
        job,
        parent=panel,
        title="Detecting contacts",
        label="Finding the runner's legs in every frame (on this computer, offline)…",
    )

    def done(payload) -> None:  # type: ignore[no-untyped-def]
        panel._detect_task = None
        track, result = payload
        panel.set_keypoints(track)
        proposals = [
            replace(e, source=EventSource.AUTOMATIC, time_s=panel._time(e.frame))
            for e in result.events
            if 0 <= e.frame < panel.frame_count
        ]
        merged = merge_automatic(panel.events, proposals)
        panel._edit(merged, "automatic proposals")
        note = " ".join(result.warnings)
        auto = [e for e in panel.events if e.source is EventSource.AUTOMATIC]
        panel.sidebar.show_proposals(len(auto), sum(1 for e in auto if e.confidence < 0.5), note)
        panel.status_message.emit(
            f"{len(proposals)} proposals from automatic detection; review them on the timeline."
        )

    def failed(exc: BaseException) -> None:
        panel._detect_task = None
        QMessageBox.warning(panel, "Automatic detection", user_message(exc))

    def cancelled() -> None:
        panel._detect_task = None
        panel.status_message.emit("Automatic detection cancelled; nothing was changed.")

    task.finished.connect(done)
    task.failed.connect(failed)
    task.cancelled.connect(cancelled)
    panel._detect_task = task
    return task.start()
