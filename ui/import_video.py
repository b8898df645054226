"""Importing a video file into a visit, with progress and cancel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.records.recordings import import_recording
from ui.tasks import BackgroundTask, user_message

if TYPE_CHECKING:
    from app.clinic import Clinic

VIDEO_FILTER = (
    "Videos (*.mp4 *.MP4 *.mov *.MOV *.avi *.AVI *.mkv *.MKV *.m4v *.webm);;All files (*)"
)


def ask_video_file(parent: QWidget) -> Path | None:
    name, _ = QFileDialog.getOpenFileName(
        parent, "Import a video into this visit", str(Path.home()), VIDEO_FILTER
    )
    return Path(name) if name else None


def start_import(
    parent: QWidget,
    clinic: Clinic,
    visit_id: int,
    source: Path,
    on_done: Callable[[int], None],
) -> BackgroundTask:
    """Copy ``source`` into the visit in the background; ``on_done(recording_id)`` on success."""

    def job(progress, cancelled):  # type: ignore[no-untyped-def]
        return import_recording(
            clinic.db, clinic.videos_root, visit_id, source, progress=progress, cancel=cancelled
        )

    task = BackgroundTask(
        job, parent=parent, title="Importing video", label=f"Copying {source.name}…"
    )
    task.finished.connect(on_done)
    task.failed.connect(
        lambda exc: QMessageBox.warning(parent, "The video was not imported", user_message(exc))
    )
    return task.start()
