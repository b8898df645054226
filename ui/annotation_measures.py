"""Measurement tools of the marking panel: tool buttons, calibration, frame export, skeleton.

An explicit helper (not a mixin): it owns the measurement tool actions of a tool bar and works
only on what it is given (the video view, a keypoint track, a frame), so the panel stays a thin
view over :class:`app.annotation.session.MarkingSession`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QInputDialog, QLabel, QMessageBox, QToolBar, QWidget

from app.annotation.geometry import FRONTAL_POINTS
from ui.video_view import VideoView

#: Side-view tools that mean nothing on a rear view.
SIDE_ONLY = frozenset({"shank", "angle"})

log = logging.getLogger(__name__)

TOOLS: tuple[tuple[str, str, str], ...] = (
    ("vline", "Vertical line", "Click once: a vertical reference line (e.g. through the hip)"),
    ("shank", "Shank angle", "Click the knee, then the ankle: shank angle against vertical"),
    ("angle", "Knee angle", "Click hip, knee, ankle: knee flexion"),
    # Rear view (camera behind the runner: the runner's left is image-left).
    ("pelvic_drop", "Pelvic drop", "Rear view: click the left hip, then the right hip"),
    ("fppa_left", "Knee FPPA L", "Rear view: click the left hip, knee, ankle (valgus +)"),
    ("fppa_right", "Knee FPPA R", "Rear view: click the right hip, knee, ankle (valgus +)"),
    (
        "step_width_left",
        "Step width L",
        "Rear view: click the midline (between the hips), then the landing left foot "
        "(negative: crossover)",
    ),
    (
        "step_width_right",
        "Step width R",
        "Rear view: click the midline (between the hips), then the landing right foot "
        "(negative: crossover)",
    ),
    ("distance", "Distance", "Click two points: distance (cm once calibrated)"),
    (
        "calibration",
        "Calibrate…",
        "Click both ends of an object of known length in the runner's plane",
    ),
)


class MeasureTools(QObject):
    """The tool actions of one video view; ``drawn`` carries each finished drawing (dict)."""

    drawn = Signal(dict)
    calibration_drawn = Signal(dict)

    def __init__(self, view: VideoView, toolbar: QToolBar, parent: QWidget) -> None:
        super().__init__(parent)
        self.view = view
        self._parent = parent
        self.buttons: dict[str, QAction] = {}
        for kind, text, tip in TOOLS:
            a = QAction(text, parent)
            a.setCheckable(True)
            a.setToolTip(tip)
            a.toggled.connect(lambda on, k=kind: self._toggled(k, on))
            toolbar.addAction(a)
            self.buttons[kind] = a
        view.tool_changed.connect(self._view_tool_changed)
        view.overlay_created.connect(self._created)

    def set_enabled(self, on: bool) -> None:
        for b in self.buttons.values():
            b.setEnabled(on)

    def set_view(self, view: str) -> None:
        """Offer the tools of the camera's view: side (shank, knee angle) or rear (frontal)."""
        rear = view == "rear"
        for kind, b in self.buttons.items():
            if kind in SIDE_ONLY or kind in FRONTAL_POINTS:
                show = (kind in FRONTAL_POINTS) == rear
                if not show and b.isChecked():
                    b.setChecked(False)
                b.setVisible(show)

    def _uncheck_all(self) -> None:
        for b in self.buttons.values():
            b.blockSignals(True)
            b.setChecked(False)
            b.blockSignals(False)

    def _toggled(self, kind: str, on: bool) -> None:
        if on:
            for k, b in self.buttons.items():
                if k != kind and b.isChecked():
                    b.blockSignals(True)
                    b.setChecked(False)
                    b.blockSignals(False)
            self.view.set_tool(kind)
        elif all(not b.isChecked() for b in self.buttons.values()):
            self.view.set_tool(None)

    def _view_tool_changed(self, kind: object) -> None:
        if kind is None:
            self._uncheck_all()

    def _created(self, item: dict) -> None:
        self._uncheck_all()
        self.view.set_tool(None)
        if item.get("kind") == "calibration":
            self.calibration_drawn.emit(item)
        else:
            self.drawn.emit(item)

    def ask_calibration(self, item: dict) -> tuple[float, dict[str, Any]] | None:
        """Ask the real length of a drawn calibration line: (cm per pixel, detail) or None."""
        from app.annotation.geometry import GeometryError, calibrate

        length, ok = QInputDialog.getDouble(
            self._parent,
            "Calibrate",
            "Real length of the line you drew, in cm\n(an object in the runner's plane):",
            100.0,
            1.0,
            500.0,
            1,
        )
        if not ok:
            return None
        (x1, y1), (x2, y2) = item["points"][:2]
        try:
            cm_per_px = calibrate((x1, y1), (x2, y2), length)
        except GeometryError as exc:
            QMessageBox.warning(self._parent, "Calibration", getattr(exc, "message", str(exc)))
            return None
        points = [[float(x), float(y)] for x, y in item["points"]]
        return cm_per_px, {"points": points, "length_cm": length}

    def ask_export_path(self, default: Path) -> Path | None:
        """Where to save the exported frame (None when the clinician cancels)."""
        from PySide6.QtWidgets import QFileDialog

        chosen, _ = QFileDialog.getSaveFileName(
            self._parent, "Export frame", str(default), "PNG picture (*.png)"
        )
        return Path(chosen) if chosen else None

    def export_frame(self, path: Path, clinic: Any) -> bool:
        """Save the shown frame with its drawings as a PNG; True when written."""
        image = self.view.render_current(with_overlays=True)
        return bool(image and not image.isNull()) and save_still(clinic, image, Path(path))


class MarkingToolBar(QToolBar):
    """The marking panel's tool bar: measurement tools, drawing span, direction, skeleton, export.

    A tool bar folds what does not fit into a » menu, so the panel works on a 1280 px laptop.
    """

    def __init__(self, view: VideoView, parent: QWidget) -> None:
        super().__init__(parent)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addWidget(QLabel("Measure: "))
        self.measure = MeasureTools(view, self, parent)
        self.span_box = QCheckBox("Show on all frames")
        self.span_box.setToolTip(
            "New drawings stay on every frame (e.g. a reference line through the hip); "
            "otherwise a drawing shows only on the frame it was drawn on. Right-click a drawing "
            "for “Show on frames…” (a from–to range); drag it to move it."
        )
        self.addWidget(self.span_box)
        self.addSeparator()
        self.direction_action = QAction("Runner faces →", parent)
        self.direction_action.setToolTip(
            "Direction the runner faces in the picture; sets the sign of shank angles "
            "(detected automatically by “Detect contacts”)."
        )
        self.addAction(self.direction_action)
        self.skeleton_box = QCheckBox("Skeleton")
        self.skeleton_box.setToolTip(
            "Show the pose model's leg keypoints (after automatic detection); remembered"
        )
        self.skeleton_box.setEnabled(False)
        self.addWidget(self.skeleton_box)
        self.addSeparator()
        fit = QAction("Fit", parent)
        fit.setToolTip("Fit the frame to the window (zoom with the mouse wheel, drag to pan)")
        fit.triggered.connect(view.fit_to_window)
        self.export_action = QAction("Export frame…", parent)
        self.export_action.setToolTip("Save this frame with its measurement lines as a PNG picture")
        self.addAction(fit)
        self.addAction(self.export_action)
        for w in self.findChildren(QWidget):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with frame stepping


def load_cached_keypoints(path: Path, cache_dir: Path) -> Any:
    """Keypoints of an earlier automatic detection of this file (instant; never runs the model)."""
    from app.analysis.pose import load_cached_pose

    try:
        track = load_cached_pose(path, cache_dir)
        if track is not None and "direction" not in track.meta:
            from app.analysis.contacts import detect_contacts

            track.meta["direction"] = detect_contacts(track).direction
    except Exception:  # an unusable cache just means "not analysed yet"
        return None
    return track


def skeleton_points(track: Any, frame: int) -> dict[str, tuple[float, float]] | None:
    """The leg keypoints of one frame for the video view, or None."""
    if track is None or not 0 <= frame < len(track.times):
        return None
    from app.analysis.keypoints import JOINTS

    pts = {}
    for s, side in enumerate(("left", "right")):
        for j, joint in enumerate(JOINTS):
            x, y = track.xy[frame, s, j]
            if np.isfinite(x) and np.isfinite(y):
                pts[f"{side}_{joint}"] = (float(x), float(y))
    return pts or None


def landing(events: list, track: Any, direction: int, cm_per_px: float | None) -> Any:
    """Landing measures of the reviewed contacts, or None (never breaks marking)."""
    from app.analysis.events import EventType
    from app.analysis.metrics import landing_metrics

    if track is None or not any(e.type is EventType.INITIAL_CONTACT for e in events):
        return None
    try:
        return landing_metrics(
            events, track, "right" if direction > 0 else "left", cm_per_px=cm_per_px
        )
    except Exception:
        log.exception("landing metrics failed")
        return None


def open_large_landing(parent: QWidget, m: Any, events: list, track: Any, direction: str) -> Any:
    """The landing table and plots in their own resizable window, large enough that no value is
    cut and the plot titles and axes fit (the sidebar is narrow on a laptop)."""
    from PySide6.QtWidgets import QDialog, QVBoxLayout

    from ui.landing_view import LandingView

    dialog = QDialog(parent)
    dialog.setWindowTitle("Landing at initial contact")
    view = LandingView(dialog)
    view.table.setMaximumHeight(16777215)
    layout = QVBoxLayout(dialog)
    layout.addWidget(view)
    view.show_landing(m, events, track, direction)
    dialog.resize(1100, 820)
    dialog.show()
    return dialog


def save_still(clinic: Any, image: Any, path: Path) -> bool:
    """Write a still through :mod:`app.outputs`: owner-only (it shows the patient), complete
    (PNG end chunk checked) and never over anything but an earlier PNG; the program's stills
    and media folders are its own, the rest of the data folder stays protected."""
    from app.outputs import OutputError, check_png, rules_for_clinic, writing

    rules = rules_for_clinic(
        clinic,
        managed=[clinic.folder.stills, clinic.videos_root],
        force=path.suffix.lower() == ".png",  # the dialog asked; a video is never replaced
        parents=True,
    )
    try:
        with writing(path, rules, private=True, check=check_png) as out:
            if not image.save(str(out.temp), "PNG"):
                raise OutputError(f"The picture could not be saved as {path.name}.")
    except OutputError as exc:
        log.warning("still not saved: %s", exc.message)
        return False
    return True
