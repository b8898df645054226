"""Running automatic detection (app.analysis.detect_job) for the marking panel, off the GUI thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from ui.tasks import BackgroundTask, user_message


class DetectionRunner(QObject):
    """One detection at a time through :class:`ui.tasks.BackgroundTask`.

    ``finished`` carries the :class:`app.analysis.detect_job.DetectionResult`; ``message`` a line
    for the status bar. The panel merges the proposals (the runner never touches marks).
    """

    finished = Signal(object)
    message = Signal(str)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._parent = parent
        self.task: BackgroundTask | None = None

    def start(
        self,
        path: Path,
        *,
        container_fps: float | None,
        capture_fps: float | None,
        frame_count: int,
        cache_dir: Path,
        timebase: object = None,
    ) -> BackgroundTask | None:
        """Start detection; ``timebase`` (the recording's clock) times the keypoints."""
        from app.analysis.detect_job import detection_job

        if self.task is not None:
            return None
        job = detection_job(
            path,
            container_fps=container_fps,
            capture_fps=capture_fps,
            frame_count=frame_count,
            cache_dir=cache_dir,
            timebase=timebase,  # type: ignore[arg-type]
        )
        task = BackgroundTask(
            job,
            parent=self._parent,
            title="Detecting contacts",
            label="Finding the runner's legs in every frame (on this computer, offline)…",
        )
        task.finished.connect(self._done)
        task.failed.connect(self._failed)
        task.cancelled.connect(self._cancelled)
        self.task = task
        return task.start()

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task.wait(10000)

    def _done(self, result: object) -> None:
        self.task = None
        self.finished.emit(result)

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        QMessageBox.warning(self._parent, "Automatic detection", user_message(exc))

    def _cancelled(self) -> None:
        self.task = None
        self.message.emit("Automatic detection cancelled; nothing was changed.")
