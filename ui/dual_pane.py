"""One side of the dual player: a recording's frames with its own overlays (skeleton, drawings)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from app import video
from app.video.timebase import Timebase
from ui.annotation_measures import load_cached_keypoints, skeleton_points
from ui.video_view import VideoView

if TYPE_CHECKING:
    from app.video.dual_sources import SideSource

log = logging.getLogger(__name__)


class DualPane(QFrame):
    """Title, picture and position of one recording; click it to make it the active side."""

    activated = Signal()

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.source: SideSource | None = None
        self.server: video.FrameServer | None = None
        self.timebase: Timebase | None = None
        self.keypoints = None
        self.show_skeleton = True
        self.show_drawings = True
        self.wanted = 0
        self.shown = -1
        self.frame_rgb: np.ndarray | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("dualPane")
        self.title = QLabel(name)
        self.title.setWordWrap(True)
        self.view = VideoView()
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.position = QLabel("")
        self.position.setObjectName("muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.position)
        self.view.viewport().installEventFilter(self)

    # ------------------------------------------------------------------ opening
    def open(self, source: SideSource, *, budget_mb: float, cache_dir) -> bool:  # type: ignore[no-untyped-def]
        """Open the recording; False (with the reason shown on the pane) when it cannot."""
        self.close()
        self.source = source
        self.title.setText(f"{self.name}: {source.label}")
        # When the marking panel (or the other side) has this file open, both servers share
        # its one disk store (app.video.store.DiskStore.open) and the one memory budget.
        try:
            self.server = video.open(
                source.path, capture_fps=source.capture_fps, memory_budget_mb=budget_mb,
                cache_dir=cache_dir,
            )  # fmt: skip
            times = self.server.times_s()
            self.timebase = Timebase(
                np.asarray(times) * 1.0, self.server.info.container_fps, None
            ) if len(times) > 1 and np.all(np.diff(times) > 0) else Timebase.uniform(
                max(1, self.server.frame_count), self.server.capture_fps or 30.0
            )  # fmt: skip
        except video.VideoError as exc:
            self.server = None
            self.timebase = None
            self.view.set_message(exc.message)
            return False
        self.view.set_message(None)
        self.keypoints = load_cached_keypoints(source.path, cache_dir)
        return True

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        self.shown = -1
        self.frame_rgb = None

    @property
    def frame_count(self) -> int:
        return self.server.frame_count if self.server is not None else 0

    @property
    def display_fps(self) -> float:
        return (self.server.info.container_fps if self.server else None) or 30.0

    # ------------------------------------------------------------------ frames
    def want(
        self, frame: int, direction: int = 0, out_of_range: bool = False, step: int | None = None
    ) -> None:
        """Show ``frame`` as soon as it is decoded (now, if it is ready).

        ``direction`` and ``step`` (frames per key press) steer the prefetch; without the step
        the server keeps the stride of an earlier jump and prefetches the wrong frames."""
        if self.server is None:
            return
        self.wanted = frame
        self.server.set_position_hint(frame, direction, step)
        t = self.timebase.time_of(frame) if self.timebase is not None else 0.0
        note = "  ·  outside this recording (its last or first frame shown)" if out_of_range else ""
        self.position.setText(f"frame {frame} / {self.frame_count - 1}   t = {t:.3f} s{note}")
        self.poll()

    def poll(self) -> bool:
        """Show the wanted frame if it is ready; True when it is on screen."""
        if self.server is None:
            return False
        if self.shown == self.wanted:
            return True
        rgb = self.server.try_get(self.wanted)
        if rgb is None:
            return False
        self.frame_rgb = rgb
        self.view.set_frame(rgb)
        self.shown = self.wanted
        self.refresh_overlays()
        return True

    def refresh_overlays(self) -> None:
        src = self.source
        frame = self.shown if self.shown >= 0 else self.wanted
        self.view.set_overlays(src.drawings_on(frame) if src and self.show_drawings else [])
        self.view.set_skeleton(self.skeleton(frame) if self.show_skeleton else None)

    def skeleton(self, frame: int) -> dict[str, tuple[float, float]] | None:
        return skeleton_points(self.keypoints, frame)

    def set_active(self, on: bool) -> None:
        self.setStyleSheet("#dualPane { border: 2px solid #2f7fc1; }" if on else "")

    def eventFilter(self, watched, event) -> bool:  # type: ignore[no-untyped-def]  # noqa: N802
        from PySide6.QtCore import QEvent

        if event.type() == QEvent.Type.MouseButtonPress:
            self.activated.emit()
        return super().eventFilter(watched, event)

