"""Importing a video file into a visit, with progress and cancel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QInputDialog, QLabel, QMessageBox, QWidget

from app.records.recordings import import_recording, set_capture_fps
from ui.tasks import BackgroundTask, user_message

if TYPE_CHECKING:
    from app.clinic import Clinic

VIDEO_FILTER = (
    "Videos (*.mp4 *.MP4 *.mov *.MOV *.avi *.AVI *.mkv *.MKV *.m4v *.webm "
    # Camcorders: AVCHD (.mts/.m2ts), HDV/broadcast transport streams, MPEG-2 program streams.
    "*.mts *.MTS *.m2ts *.M2TS *.ts *.TS *.mpg *.MPG *.mpeg *.vob *.VOB *.mod *.MOD);;"
    "All files (*)"
)


def ask_video_file(parent: QWidget) -> Path | None:
    name, _ = QFileDialog.getOpenFileName(
        parent, "Import a video into this visit", str(Path.home()), VIDEO_FILTER
    )
    return Path(name) if name else None


def capture_fps_dialog(parent: QWidget | None, name: str, container_fps: float | None) -> QInputDialog:
    """The question of :func:`ask_capture_fps`, as a dialog of reading width.

    ``QInputDialog.getDouble`` does not wrap its text, so the explanation made it 1,134 px wide.
    """
    default = container_fps or 30.0
    dialog = QInputDialog(parent)
    dialog.setWindowTitle("Capture rate")
    dialog.setInputMode(QInputDialog.InputMode.DoubleInput)
    dialog.setDoubleRange(1.0, 2000.0)
    dialog.setDoubleDecimals(2)
    dialog.setDoubleValue(default)
    dialog.setLabelText(
        f"{name} does not say at what rate it was filmed.\n\n"
        "If it was filmed in slow motion (e.g. 120 or 240 frames per second), enter that rate; "
        f"otherwise keep {default:g}. Cadence and contact times depend on it. "
        "You can change it later in “Mark video”."
    )
    for label in dialog.findChildren(QLabel):
        label.setWordWrap(True)
    dialog.setMaximumWidth(560)
    dialog.resize(480, dialog.sizeHint().height())
    return dialog


def ask_capture_fps(parent: QWidget, name: str, container_fps: float | None) -> float | None:
    """The file does not say how fast it was filmed: ask, defaulting to its playback rate."""
    dialog = capture_fps_dialog(parent, name, container_fps)
    return dialog.doubleValue() if dialog.exec() == QInputDialog.DialogCode.Accepted else None


def start_import(
    parent: QWidget,
    clinic: Clinic,
    visit_id: int,
    source: Path,
    on_done: Callable[[int], None],
) -> BackgroundTask:
    """Copy ``source`` into the visit in the background; ``on_done(recording_id)`` on success."""

    def job(progress, cancelled):  # type: ignore[no-untyped-def]
        from app.video import probe

        info = probe(source)  # a clear error before anything is copied
        rid = import_recording(
            clinic.db, clinic.videos_root, visit_id, source, progress=progress, cancelled=cancelled
        )
        return rid, info

    def done(payload) -> None:  # type: ignore[no-untyped-def]
        rid, info = payload
        if info.incomplete_note:
            # Imported, but short: say how much and why before anyone marks a partial run.
            QMessageBox.warning(parent, "Only part of the video was imported", info.incomplete_note)
        if info.capture_fps_guess is None:
            fps = ask_capture_fps(parent, source.name, info.container_fps)
            if fps is not None:
                with clinic.db.session() as s:
                    set_capture_fps(s, rid, fps)
        on_done(rid)

    task = BackgroundTask(
        job, parent=parent, title="Importing video", label=f"Copying {source.name}…"
    )
    task.finished.connect(done)
    task.failed.connect(
        lambda exc: QMessageBox.warning(parent, "The video was not imported", user_message(exc))
    )
    return task.start()
