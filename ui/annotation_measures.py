"""Measurement side of the marking panel: overlays, calibration, frame export, keypoints.

A mixin of :class:`ui.annotation_panel.AnnotationPanel` (it uses the panel's view, clinic,
recording and event state), kept apart so each file stays readable.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from app.analysis.events import EventType
from app.outputs import OutputError, check_png, rules_for_clinic, writing
from app.records import recordings as rec_store
from app.safety.audit import log_action

log = logging.getLogger(__name__)


class MeasurementsMixin:
    def _load_cached_keypoints(self, path: Path) -> None:
        """Keypoints from an earlier automatic detection of this file (instant; never runs the model)."""
        from app.analysis.pose import load_cached_pose

        try:
            track = load_cached_pose(path, self.clinic.folder.cache)
            if track is not None and "direction" not in track.meta:
                from app.analysis.contacts import detect_contacts

                track.meta["direction"] = detect_contacts(track).direction
        except Exception:  # an unusable cache just means "not analysed yet"
            track = None
        self.set_keypoints(track)

    def set_keypoints(self, track) -> None:  # type: ignore[no-untyped-def]
        """Use a keypoint track (capture-time seconds) for the skeleton and landing measures."""
        if track is not None and self.server is not None:
            container, capture = self.server.info.container_fps, self.capture_fps.value()
            if (
                container
                and capture
                and abs(container - capture) > 1e-6
                and not track.meta.get("retimed")
            ):
                track.times = track.times * (container / capture)
                track.meta["retimed"] = True
        self.keypoints = track
        self.skeleton_box.setEnabled(track is not None)
        if track is not None and track.meta.get("direction") in ("left", "right"):
            self.set_direction(-1 if track.meta["direction"] == "left" else 1)

    def _refresh_landing(self) -> None:
        track = self.keypoints
        ics = [e for e in self.events if e.type is EventType.INITIAL_CONTACT]
        if track is None or not ics:
            self.sidebar.landing.show_landing(None, [], None, "right")
            return
        from app.analysis.metrics import landing_metrics

        direction = "right" if self.direction > 0 else "left"
        try:
            m = landing_metrics(self.events, track, direction, cm_per_px=self.cm_per_px)
        except Exception:  # landing measures must never break marking
            log.exception("landing metrics failed")
            m = None
        self.sidebar.landing.show_landing(m, self.events, track, direction)

    # ------------------------------------------------------------------ overlays
    def _tool_toggled(self, kind: str, on: bool) -> None:
        if on:
            for k, b in self.tool_buttons.items():
                if k != kind and b.isChecked():
                    b.blockSignals(True)
                    b.setChecked(False)
                    b.blockSignals(False)
            self.view.set_tool(kind)
        elif all(not b.isChecked() for b in self.tool_buttons.values()):
            self.view.set_tool(None)

    def _view_tool_changed(self, kind: object) -> None:
        if kind is None:
            for b in self.tool_buttons.values():
                b.blockSignals(True)
                b.setChecked(False)
                b.blockSignals(False)

    def set_direction(self, direction: int) -> None:
        """Direction of travel in the image (+1 right, -1 left): signs shank angles and overstride."""
        self.direction = 1 if direction >= 0 else -1
        self.view.set_direction(self.direction)
        self.direction_action.setText("Runner faces →" if self.direction > 0 else "Runner faces ←")
        if self.keypoints is not None:
            self._refresh_landing()

    def _overlay_created(self, item: dict) -> None:
        kind = item.get("kind")
        for b in self.tool_buttons.values():
            b.blockSignals(True)
            b.setChecked(False)
            b.blockSignals(False)
        self.view.set_tool(None)
        if kind == "calibration":
            self._calibrate(item)
            return
        item = dict(item, frame=self.current)
        self.overlays.append(item)
        self._save_overlays()
        self.view.set_overlays([o for o in self.overlays if o.get("frame") == self.current])

    def _calibrate(self, item: dict) -> None:
        from app.annotation.geometry import GeometryError, calibrate

        length, ok = QInputDialog.getDouble(
            self,
            "Calibrate",
            "Real length of the line you drew, in cm\n(an object in the runner's plane):",
            100.0,
            1.0,
            500.0,
            1,
        )
        if not ok or self.recording_id is None:
            return
        (x1, y1), (x2, y2) = item["points"][:2]
        try:
            cm_per_px = calibrate((x1, y1), (x2, y2), length)
        except GeometryError as exc:
            QMessageBox.warning(
                self, "Calibration", exc.message if hasattr(exc, "message") else str(exc)
            )
            return
        with self.clinic.db.session() as s:
            rec_store.set_calibration(
                s,
                self.recording_id,
                cm_per_px,
                {"points": item["points"], "length_cm": length, "frame": self.current},
            )
        self.view.set_calibration(cm_per_px)
        self.cm_per_px = cm_per_px
        self._refresh_landing()
        self.status_message.emit(f"Calibrated: {cm_per_px * 10:.2f} mm per pixel.")

    def _overlay_delete(self, index: int) -> None:
        here = [o for o in self.overlays if o.get("frame") == self.current]
        if 0 <= index < len(here):
            self.overlays.remove(here[index])
            self._save_overlays()
            self.view.set_overlays([o for o in self.overlays if o.get("frame") == self.current])

    def _save_overlays(self) -> None:
        if self.recording_id is None:
            return
        with self.clinic.db.session() as s:
            rec_store.replace_overlays(s, self.recording_id, self.overlays)

    def export_frame(self, path: Path) -> bool:
        image = self.view.render_current(with_overlays=True)
        ok = bool(image and not image.isNull()) and _save_still(self.clinic, image, Path(path))
        if ok:
            log_action(
                self.clinic.db,
                "export",
                self.patient_id,
                detail=f"video still, recording {self.recording_id}",
            )
        return ok

    def export_frame_dialog(self) -> None:
        if self.server is None:
            return
        default = (
            self.clinic.folder.stills / f"recording{self.recording_id}_frame{self.current}.png"
        )
        name, _ = QFileDialog.getSaveFileName(
            self, "Export frame", str(default), "PNG picture (*.png)"
        )
        if name:
            ok = self.export_frame(Path(name))
            self.status_message.emit(f"Saved {name}" if ok else f"Could not save {name}")

    # ------------------------------------------------------------------ skeleton
    def _show_skeleton(self) -> None:
        track = self.keypoints
        if (
            track is None
            or not self.skeleton_box.isChecked()
            or not 0 <= self.current < len(track.times)
        ):
            self.view.set_skeleton(None)
            return
        from app.analysis.keypoints import JOINTS

        pts = {}
        for s, side in enumerate(("left", "right")):
            for j, joint in enumerate(JOINTS):
                x, y = track.xy[self.current, s, j]
                if np.isfinite(x) and np.isfinite(y):
                    pts[f"{side}_{joint}"] = (float(x), float(y))
        self.view.set_skeleton(pts or None)


def _save_still(clinic, image, path: Path) -> bool:  # type: ignore[no-untyped-def]
    """Write a still through :mod:`app.outputs`: owner-only (it shows the patient), complete
    (PNG end chunk checked) and never over anything but an earlier PNG; the program's stills
    and media folders are its own, the rest of the data folder stays protected."""
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
