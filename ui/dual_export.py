"""Export video… of the dual player: choose what and how fast, write it in the background.

The file is written by :func:`app.video.export.export_video` on a :class:`ui.tasks.BackgroundTask`
(progress, cancel) into the visit's folder (``<visit videos folder>/exports/``, removed with the
visit like its videos), with the overlays painted exactly as on screen. "Copy for the patient…"
then saves a copy wherever the clinician chooses (a USB stick, a shared folder).

One recording from the marking panel ("Export video…" on its toolbar): :class:`SingleExport`,
a small window with the same dialog, task, progress, cancel and copy, for that recording alone.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.video.export import ExportPlan, ExportSide, default_name, export_video, free_name
from app.video.sync import DualSync
from ui.video_overlays import paint_overlays, paint_skeleton

if TYPE_CHECKING:
    from app.video.dual_sources import SideSource
    from ui.dual_pane import DualPane
    from ui.dual_player import DualPlayer

log = logging.getLogger(__name__)

WHAT = ("Both side by side", "A only", "B only")
SPEED_CHOICES = (("Real time", 1.0), ("¼ speed", 0.25), ("⅛ speed", 0.125))


def overlay_painter(pane: DualPane, skeleton: bool, drawings: bool):  # type: ignore[no-untyped-def]
    """``decorate(frame, rgb)`` painting the pane's skeleton and drawings at frame resolution
    (safe on a worker thread: it paints on a QImage only)."""
    source = pane.source
    track = pane.keypoints

    def decorate(frame: int, rgb: np.ndarray) -> np.ndarray:
        from ui.annotation_measures import skeleton_points

        items = source.drawings_on(frame) if (drawings and source is not None) else []
        pts = skeleton_points(track, frame) if skeleton else None
        if not items and not pts:
            return rgb
        arr = np.ascontiguousarray(rgb).copy()
        h, w = arr.shape[:2]
        image = QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB888)
        ui = max(1.0, min(w, h) / 600.0)

        def ident(x: float, y: float) -> QPointF:
            return QPointF(x, y)

        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if pts:
            paint_skeleton(painter, pts, ident, ui)
        if items:
            paint_overlays(painter, items, ident, float(h), ui)
        painter.end()
        return arr

    return decorate


def caption(source: SideSource) -> str:
    parts = [source.initials or "patient"]
    if source.date is not None:
        parts.append(f"{source.date:%d %b %Y}")
    cadence = source.cadence_spm()
    if cadence is not None:
        parts.append(f"{cadence:.0f} steps/min")
    return " · ".join(parts)


class ExportDialog(QDialog):
    """What to export; OK starts the background task (the player keeps the result)."""

    def __init__(self, player: DualPlayer | SingleExport) -> None:
        super().__init__(player)
        self.setWindowTitle("Export video")
        self.player = player
        self.single = len(player.sources) == 1
        self.what = QComboBox()
        self.what.addItems(["This recording"] if self.single else list(WHAT))
        self.speed = QComboBox()
        for text, value in SPEED_CHOICES:
            self.speed.addItem(text, value)
        self.speed.setCurrentIndex(1)
        self.title_box = QCheckBox("Short title card first")
        self.title_box.setChecked(True)
        self.overlays_box = QCheckBox("Skeleton and drawings as shown")
        self.overlays_box.setChecked(True)
        note = QLabel(
            ("H.264 MP4 (plays on computers and phones), the whole recording. " if self.single
             else "H.264 MP4 (plays on computers and phones), from the first instant both "
             "recordings have to the last. ") + "Caption: patient initials, date and cadence only. Saved with the "
            "visit; afterwards you can copy it for the patient."
        )
        note.setWordWrap(True)
        note.setObjectName("muted")
        form = QFormLayout()
        form.addRow("Export", self.what)
        form.addRow("Speed", self.speed)
        form.addRow(self.title_box)
        form.addRow(self.overlays_box)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self._start)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def _start(self) -> None:
        self.accept()
        what = 1 if self.single else self.what.currentIndex()  # 1: the first recording only
        start_export(self.player, what, self.speed.currentData(),
                     title=self.title_box.isChecked(), overlays=self.overlays_box.isChecked())  # fmt: skip


def plan_for(player: DualPlayer, what: int, speed: float, *, title: bool, overlays: bool) -> ExportPlan:
    sync = player.sync
    assert sync is not None
    skel, draw = player.skeleton_box.isChecked() and overlays, player.drawings_box.isChecked() and overlays
    chosen = [0, 1] if what == 0 else [what - 1]
    sides = [
        ExportSide(player.sources[i].path, caption(player.sources[i]),
                   overlay_painter(player.panes[i], skel, draw) if overlays else None)
        for i in chosen
    ]  # fmt: skip
    if len(chosen) == 1:
        tb = sync.tbs[chosen[0]]
        one = DualSync(tb, tb)
        plan = ExportPlan(sides, one, speed, 0.0, float(tb.times_s[-1]))
    else:
        plan = ExportPlan(sides, sync, speed)
    if title:
        srcs = [player.sources[i] for i in chosen]
        dates = " and ".join(f"{s.date:%d %b %Y}" for s in srcs if s.date) or ""
        speed_text = {1.0: "real time", 0.25: "1/4 speed", 0.125: "1/8 speed"}[speed]
        plan.title = [l for l in ("Your running", srcs[0].initials, dates, speed_text) if l]  # noqa: E741
    return plan


def target_for(player: DualPlayer, what: int, speed: float) -> Path:
    """Where the export goes: the exports folder of the (later) visit shown."""
    from app.records.media import visit_folder

    src = player.sources[1] if what in (0, 2) else player.sources[0]
    clinic = player.clinic
    with clinic.db.session() as s:
        folder = visit_folder(s, clinic.videos_root, src.visit_id) / "exports"
    date = f"{src.date:%Y-%m-%d}" if src.date else "undated"
    return free_name(folder, default_name(src.initials, date, what == 0, speed))


def start_export(player: DualPlayer, what: int, speed: float, *, title: bool = True,
                 overlays: bool = True, target: Path | None = None):  # type: ignore[no-untyped-def]  # fmt: skip
    """Start the export task (returns it; the player keeps a reference while it runs)."""
    from app.outputs import rules_for_clinic
    from ui.tasks import BackgroundTask, user_message

    if player._export_task is not None:
        player.status_message.emit("An export is already running.")
        return None
    plan = plan_for(player, what, speed, title=title, overlays=overlays)
    target = target or target_for(player, what, speed)
    clinic = player.clinic
    rules = rules_for_clinic(clinic, inputs=[s.path for s in plan.sides],
                             managed=[clinic.videos_root], parents=True)  # fmt: skip

    def job(progress, cancelled):  # type: ignore[no-untyped-def]
        return export_video(plan, target, rules, progress=progress, cancelled=cancelled)

    task = BackgroundTask(job, parent=player, title="Export video",
                          label=f"Writing {target.name}…")  # fmt: skip
    player._export_task = task

    def done(result) -> None:  # type: ignore[no-untyped-def]
        from app.safety.audit import log_action

        player._export_task = None
        player.last_export = result
        patient = _patient_of(player)
        log_action(clinic.db, "export", patient, detail=f"video {result.path.name}")
        text = (f"Video saved with the visit: {result.path} ({result.frames / result.fps:.1f} s). "
                "“Copy for the patient…” saves a copy elsewhere.")  # fmt: skip
        player.note.setText(text)
        player.copy_btn.setEnabled(True)
        player.status_message.emit(text)

    def failed(exc: BaseException) -> None:
        player._export_task = None
        player.last_error = user_message(exc)
        player.note.setText("⚠ The video was not saved: " + player.last_error)
        player.status_message.emit(player.last_error)

    def cancelled() -> None:
        player._export_task = None
        player.note.setText("Export cancelled: no file was written.")

    task.finished.connect(done)
    task.failed.connect(failed)
    task.cancelled.connect(cancelled)
    task.start()
    return task


def _patient_of(player: DualPlayer) -> int | None:
    from app.db.models import Visit

    with player.clinic.db.session() as s:
        visit = s.get(Visit, player.sources[0].visit_id)
        return visit.patient_id if visit else None


def copy_for_patient(player: DualPlayer, dest: Path | None = None) -> Path | None:
    """Save a copy of the last export where the clinician chooses (None when cancelled)."""
    from app.outputs import OutputError, rules_for_clinic, writing
    from app.video.export import check_mp4

    result = getattr(player, "last_export", None)
    if result is None:
        return None
    if dest is None:
        chosen, _ = QFileDialog.getSaveFileName(player, "Copy the video for the patient",
                                                str(Path.home() / result.path.name),
                                                "MP4 video (*.mp4)")  # fmt: skip
        if not chosen:
            return None
        dest = Path(chosen)
    rules = rules_for_clinic(player.clinic, inputs=[result.path], force=True)
    try:
        with writing(dest, rules, check=check_mp4(result.frames)) as out:
            out.temp.write_bytes(result.path.read_bytes())
    except OutputError as exc:
        player.note.setText("⚠ " + exc.message)
        return None
    player.note.setText(f"Copied for the patient: {dest}")
    return dest


class SingleExport(QDialog):
    """Export video… for one recording (opened from the marking panel): what the dual player's
    export needs of a player, for one side. Not modal; the export runs on a BackgroundTask
    (progress, cancel) and is stored with the visit, then "Copy for the patient…"."""

    status_message = Signal(str)

    def __init__(self, clinic, source: SideSource, timebase, keypoints=None,  # type: ignore[no-untyped-def]
                 parent: QWidget | None = None) -> None:  # fmt: skip
        from types import SimpleNamespace

        super().__init__(parent)
        self.setWindowTitle("Export video")
        self.clinic = clinic
        self.sources = (source,)
        self.panes = (SimpleNamespace(source=source, keypoints=keypoints),)
        self.sync = DualSync(timebase, timebase)
        self._export_task = None
        self.last_export = None
        self.last_error = ""
        self.skeleton_box = QCheckBox("Skeleton")
        self.skeleton_box.setChecked(keypoints is not None)
        self.skeleton_box.setEnabled(keypoints is not None)
        self.drawings_box = QCheckBox("Drawings")
        self.drawings_box.setChecked(True)
        self.export_btn = QPushButton("Export video…")
        self.export_btn.clicked.connect(self.choose)
        self.copy_btn = QPushButton("Copy for the patient…")
        self.copy_btn.setEnabled(False)
        self.copy_btn.clicked.connect(lambda: copy_for_patient(self))
        self.note = QLabel(f"{source.label}: the overlays shown are burnt into the video.")
        self.note.setWordWrap(True)
        self.note.setObjectName("muted")
        row = QHBoxLayout()
        for w in (self.skeleton_box, self.drawings_box, self.export_btn, self.copy_btn):
            row.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.note)

    def choose(self) -> ExportDialog:
        """The export dialog (what speed, title card, overlays); OK starts the export."""
        dialog = ExportDialog(self)
        dialog.open()
        return dialog

    def export(self, speed: float = 0.25, **options):  # type: ignore[no-untyped-def]
        """Start exporting without the dialog; returns the task (None if one is running)."""
        return start_export(self, 1, speed, **options)

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        if self._export_task is not None:
            self._export_task.cancel()
        super().closeEvent(event)


def open_single_export(panel) -> SingleExport | None:  # type: ignore[no-untyped-def]
    """The marking panel's "Export video…": the recording it shows (None, with a message in
    the panel's banner, when no video is open)."""
    from app.video.dual_sources import load_side
    from ui.annotation_measures import load_cached_keypoints

    clinic, server, rid = panel.clinic, panel.server, panel.recording_id
    if rid is None or server is None:
        panel._show_banner("Open a recording with its video first, then export it.")
        return None
    source = load_side(clinic.db, clinic.videos_root, rid)
    if source is None:
        panel._show_banner("This recording no longer exists.")
        return None
    window = SingleExport(clinic, source, server.timebase(),
                          load_cached_keypoints(source.path, clinic.folder.cache), panel)  # fmt: skip
    window.status_message.connect(lambda text: panel._show_banner(text))
    panel._single_export = window  # kept while shown
    window.show()
    return window
