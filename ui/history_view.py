"""The History tab: the patient's visits, trend plots against measurement noise, outcome
measures, a two-visit comparison and exports."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.history.export import ExportError, export_patient_history, research_export
from app.history.landing import DeferredLanding
from app.history.outcomes import DISABILITY_SCALES, disability_scale, psfs_mean
from app.history.trends import (
    PatientHistory,
    VisitRow,
    apply_landing,
    load_history,
    pose_cache_landing,
)
from app.safety.audit import log_action
from ui import gc_pin
from ui.history_plots import HistoryPlots
from ui.practice_history import PracticeHistoryBox  # practice sessions (issue 19), loaded here
from ui.visit_labels import visit_labels

if TYPE_CHECKING:
    from app.clinic import Clinic


#: How the landing plots' titles begin (HistoryPlots), for the "not measured" note.
_LANDING_TITLES = ("Overstride", "Shank", "Knee")


def _dash(v: object) -> str:
    return "—" if v is None else str(v)


class HistoryView(QWidget):
    """``set_patient(id)`` loads and draws; ``shutdown()`` stops a running research export."""

    status_message = Signal(str)
    outcomes_saved = Signal(int)  # visit id: the patient view may want to refresh pain scores

    COLUMNS = ("Date", "Clinician", "Measured", "Cadence", "Target", "Pain now / 24 h / run",
               "Disability", "PSFS", "Home program")  # fmt: skip

    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.patient_id: int | None = None
        self.history: PatientHistory | None = None
        self._task = None
        #: The background computation of landing figures not remembered at first paint.
        self._landing_task = None
        self._landing_pending = 0

        self.title = QLabel("History")
        self.title.setObjectName("sectionTitle")
        self.outcomes_btn = QPushButton("Outcome measures…")
        self.outcomes_btn.setToolTip(
            "Enter pain, disability and PSFS scores for the selected visit (none selected: the "
            "latest visit)"
        )
        self.outcomes_btn.clicked.connect(lambda: self.edit_outcomes())
        self.compare_btn = QPushButton("Compare visits…")
        self.compare_btn.clicked.connect(lambda: self.compare())
        self.export_btn = QToolButton()
        self.export_btn.setText("Export")
        self.export_btn.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_btn)
        menu.addAction("This patient's history (Excel + CSV)…", lambda: self.export_history())
        menu.addAction(
            "Research export of all patients (no names)…", lambda: self.export_research()
        )
        self.export_btn.setMenu(menu)
        bar = QHBoxLayout()
        bar.addWidget(self.title, 1)
        for w in (self.outcomes_btn, self.compare_btn, self.export_btn):
            bar.addWidget(w)

        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        # Interactive + one resizeColumnsToContents() after filling: ResizeToContents would
        # re-measure every column on each setItem (3 s for 100 visits).
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(len(self.COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _i: self.edit_outcomes())
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.plots = HistoryPlots()
        # Shown while landing figures (pose-cached visits) are computed after the first paint.
        self.landing_state = QLabel()
        self.landing_state.setObjectName("muted")
        self.landing_state.setWordWrap(True)
        self.landing_state.hide()
        self.note = QLabel()
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        self.placeholder = QLabel()
        self.placeholder.setObjectName("placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        plot_box = QWidget()
        pv = QVBoxLayout(plot_box)
        pv.setContentsMargins(0, 0, 0, 0)
        pv.addWidget(self.placeholder)
        pv.addWidget(self.landing_state)
        pv.addWidget(self.plots, 1)
        pv.addWidget(self.note)
        self.practice_box = PracticeHistoryBox(clinic.db)
        pv.addWidget(self.practice_box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        # Always there: the plots keep one width whether they fit or not, so a history that
        # grows taller (landing plots arriving, a longer patient) is laid out once, not at the
        # width without the scroll bar and again at the width with it.
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(plot_box)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([170, 600])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)
        self.set_patient(None)

    # --- public -------------------------------------------------------------------------------
    def set_patient(self, patient_id: int | None) -> None:
        """Show this patient's history (None: an empty view)."""
        self.patient_id = patient_id
        self.refresh()

    def refresh(self) -> None:
        """Reload from the database (after marks, prescriptions or outcomes changed)."""
        # Loading and drawing a long history allocates some 100,000 short-lived objects: with
        # the cyclic collector running, a third of the opening time (about 100 ms of 300 for
        # 100 visits beside 10,000 listed patients) went into collections scanning every
        # long-lived object. Nothing here makes reference cycles worth collecting mid-way, so
        # collection waits until the view is drawn.
        paused = gc.isenabled()
        gc.disable()
        try:
            self._refresh()
        finally:
            if paused:
                gc.enable()
            # Nor should the program's collector (ui.gc_pin) run between this build and its
            # first paint: its next check waits an interval.
            gc_pin.postpone()

    def _refresh(self) -> None:
        self._stop_landing(wait=False)  # figures for an earlier load are not wanted any more
        self.history = None
        deferred = None
        if self.patient_id is not None:
            # Landing figures not remembered from an earlier opening are computed after the
            # first paint (reading 100 pose caches took most of a second): cadence, contact
            # time and the outcome scores are drawn at once.
            deferred = DeferredLanding(
                pose_cache_landing(self.clinic.folder.cache, self.clinic.videos_root)
            )
            try:
                with self.clinic.db.session() as s:
                    self.history = load_history(
                        s,
                        self.patient_id,
                        disability_scale=disability_scale(self.clinic.settings.extra),
                        landing=deferred,
                    )
            except LookupError:
                self.patient_id = None
        self._landing_pending = len(deferred.pending) if deferred and self.history else 0
        self._fill_table()
        self.practice_box.set_patient(self.patient_id)
        missing = self.plots.show_history(self.history)
        h = self.history
        # Texts before the plots are shown, so the plots are laid out once at their final size.
        self.note.setText(self._note(missing) if h and h.visits else "")
        self.title.setText(f"History · {len(h.visits)} visit(s)" if h else "History")
        if self._landing_pending and deferred is not None:
            self._start_landing(deferred)
        self._show_landing_state()
        if h is None:
            self._placeholder("Select a patient to see their history.")
        elif not h.visits:
            self._placeholder("No visits yet. Create a visit, film the runner and mark the "
                              "contacts: the trends appear here.")  # fmt: skip
        elif not self.plots.plots:
            self._placeholder("Nothing measured yet: mark heel strikes in “Mark video” or enter "
                              "outcome measures, and the trends appear here.")  # fmt: skip
        else:
            self.placeholder.hide()
            if self.plots.isHidden():
                # The table's new height first, so the plots come back at their final size:
                # shown at a passing size, every plot would lay out and draw its axes twice.
                QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            self.plots.show()
        self._update_buttons()

    def shutdown(self) -> None:
        self._stop_landing(wait=True)
        if self._task is not None:
            self._task.cancel()
            self._task.wait(10000)
            self._task = None

    def selected_visit_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.history.visits[r].visit_id for r in rows] if self.history else []

    # --- actions ------------------------------------------------------------------------------
    def edit_outcomes(self, visit_id: int | None = None) -> bool:
        from ui.outcomes_dialog import OutcomesDialog

        visits = self.history.visits if self.history else []
        if not visits:
            self.status_message.emit("This patient has no visit yet: create one first.")
            return False
        ids = self.selected_visit_ids()
        # Nothing selected: the latest visit, named in the dialog so the choice is visible.
        visit_id = visit_id if visit_id is not None else (ids[-1] if ids else visits[-1].visit_id)
        labels = dict(zip((v.visit_id for v in visits), self._labels(), strict=True))
        label = labels.get(visit_id, "")
        if label and visit_id == visits[-1].visit_id:
            label += " (latest visit)"
        dialog = OutcomesDialog(self.clinic, visit_id, self, visit_label=label)
        if dialog.exec() != OutcomesDialog.DialogCode.Accepted:
            return False
        self.refresh()
        self.outcomes_saved.emit(visit_id)
        self.status_message.emit("Outcome measures saved.")
        return True

    def compare(self) -> None:
        from ui.compare_dialog import CompareDialog

        if self.history is None or len(self.history.visits) < 2:
            self.status_message.emit("Comparing needs two visits.")
            return
        ids = self.selected_visit_ids()
        a, b = (ids[0], ids[-1]) if len(ids) >= 2 else (None, None)
        dialog = CompareDialog(self.history, self.clinic.folder.stills, a, b, self)
        from ui.dual_entry import add_play_button

        add_play_button(dialog, self.clinic)  # the two visits' videos in step (issue 20)
        dialog.exec()

    def export_history(self, folder: Path | None = None) -> list[Path]:
        if self.history is None or self.patient_id is None:
            return []
        if folder is None:
            name = QFileDialog.getExistingDirectory(self, "Export the history into folder")
            if not name:
                return []
            folder = Path(name)
        try:
            files = export_patient_history(
                self.clinic, self.patient_id, folder, history=self.history
            )
        except ExportError as exc:
            QMessageBox.warning(self, "Export failed", exc.message)
            return []
        log_action(self.clinic.db, "export", self.patient_id, detail=f"history, {len(files)} files")
        self.status_message.emit(f"Exported {len(files)} files to {folder}.")
        return files

    def export_research(self, folder: Path | None = None) -> None:
        from ui.tasks import BackgroundTask, user_message

        if self._task is not None:
            return
        if folder is None:
            name = QFileDialog.getExistingDirectory(self, "Research export into folder")
            if not name:
                return
            folder = Path(name)
        target = folder

        log_action(self.clinic.db, "export", None, detail="research export, pseudonymised")

        def job(progress, cancelled):  # type: ignore[no-untyped-def]
            return research_export(self.clinic, target, progress=progress, cancelled=cancelled)

        task = BackgroundTask(job, parent=self, title="Research export",
                              label="Writing all patients without names or birth dates…")  # fmt: skip
        self._task = task

        def done(files) -> None:  # type: ignore[no-untyped-def]
            self._task = None
            if files:
                self.status_message.emit(f"Research export: {len(files)} files in {target}.")

        def failed(exc: BaseException) -> None:
            self._task = None
            QMessageBox.warning(self, "Research export failed", user_message(exc))

        task.finished.connect(done)
        task.failed.connect(failed)
        task.cancelled.connect(lambda: setattr(self, "_task", None))
        task.start()

    @property
    def landing_computing(self) -> bool:
        """True while landing figures are being computed for the history shown."""
        return self._landing_task is not None

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self._stop_landing(wait=True)  # never destroy a running worker thread
        super().closeEvent(event)

    # --- landing figures after the first paint --------------------------------------------------
    def _start_landing(self, deferred: DeferredLanding) -> None:
        from ui.tasks import BackgroundTask

        def job(progress, cancelled):  # type: ignore[no-untyped-def]
            return deferred.compute_pending(progress, cancelled)

        task = BackgroundTask(job, parent=self, show_dialog=False)
        self._landing_task = task
        history = self.history

        def done(complete: object) -> None:
            if task is not self._landing_task:
                return  # a newer load (or none) is shown now
            self._landing_task = None
            if complete and self.history is history and history is not None:
                self._landing_ready(deferred)
            self._show_landing_state()

        def failed(_exc: BaseException) -> None:  # figures stay "not measured", nothing is lost
            if task is self._landing_task:
                self._landing_task = None
                self._landing_pending = 0
                self._show_landing_state()

        def stopped() -> None:
            if task is self._landing_task:
                self._landing_task = None

        task.finished.connect(done)
        task.failed.connect(failed)
        task.cancelled.connect(stopped)
        for signal in (task.finished, task.failed, task.cancelled):
            signal.connect(task.deleteLater)  # its thread has ended by then
        task.progress.connect(lambda f: task is self._landing_task and self._show_landing_state(f))
        task.start()

    def _landing_ready(self, deferred: DeferredLanding) -> None:
        paused = gc.isenabled()
        gc.disable()  # as in refresh(): many short-lived objects, no cycles worth collecting
        try:
            self.history = h = apply_landing(self.history, deferred)  # type: ignore[arg-type]
            self._landing_pending = 0
            missing = self.plots.show_history(h)
            self.note.setText(self._note(missing) if h.visits else "")
        finally:
            if paused:
                gc.enable()

    def _stop_landing(self, *, wait: bool) -> None:
        task, self._landing_task = self._landing_task, None
        self._landing_pending = 0
        if task is not None:
            task.cancel()
            if wait:
                task.wait(10000)

    def _show_landing_state(self, fraction: float | None = None) -> None:
        if self._landing_task is None:
            self.landing_state.hide()
            return
        n = self._landing_pending
        done = f" ({100 * fraction:.0f} %)" if fraction else ""
        self.landing_state.setText(
            f"Computing landing figures (overstride, shank angle, knee flexion) from the "
            f"pose cache of {n} visit{'s' if n != 1 else ''}…{done} Cadence and the other "
            "figures are final."
        )
        self.landing_state.show()

    # --- internals ----------------------------------------------------------------------------
    def _placeholder(self, text: str) -> None:
        self.plots.hide()  # first: the plots are not squeezed by the placeholder on their way out
        self.placeholder.setText(text)
        self.placeholder.show()

    def _note(self, missing: list[str]) -> str:
        parts = []
        if self._landing_pending:  # being computed: not "not measured"
            missing = [m for m in missing if not m.startswith(_LANDING_TITLES)]
        if missing:
            parts.append("Not measured for this patient: " + ", ".join(missing) + ".")
        if any(m.startswith(_LANDING_TITLES) for m in missing):
            parts.append("Landing measures need keypoints: run automatic detection on a visit's "
                         "recording in “Mark video”.")  # fmt: skip
        parts.append("Shaded bands: measurement noise (gait) or smallest important change "
                     "(questionnaires) around the first visit — a point inside the band has not "
                     "really changed. Error bars: ± 1 SD over the steps. Hover a point for n.")  # fmt: skip
        return " ".join(parts)

    def _fill_table(self) -> None:
        visits = self.history.visits if self.history else []
        self.table.setRowCount(len(visits))
        cadence = self.history.series["cadence"] if self.history else None
        scale = self.history.disability_scale if self.history else "rmdq"
        self.table.setUpdatesEnabled(False)
        labels = self._labels()
        for r, v in enumerate(visits):
            nan = float("nan")
            self._row(r, v, cadence.mean[r] if cadence is not None else nan, scale, labels[r])
        self.table.resizeColumnsToContents()
        self.table.setUpdatesEnabled(True)
        # As tall as the visits need (up to about eight rows), so the plots get the space.
        rows = max(1, min(len(visits), 8))
        height = self.table.horizontalHeader().height() + 2 * self.table.frameWidth() + 4
        self.table.setMaximumHeight(
            height + rows * self.table.verticalHeader().defaultSectionSize()
        )
        if visits:
            self.table.scrollToBottom()

    def _labels(self) -> list[str]:
        return visit_labels([v.date for v in self.history.visits]) if self.history else []

    def _row(self, r: int, v: VisitRow, cadence: float, scale: str, label: str) -> None:
        dis = v.odi if scale == "odi" else v.rmdq
        psfs = psfs_mean(v.psfs)
        cells = (
            label,
            v.clinician,
            v.measured,
            f"{cadence:.0f}" if cadence == cadence else "—",
            _dash(v.target_spm),
            " / ".join(_dash(p) for p in v.pain),
            f"{dis} / {DISABILITY_SCALES[scale][1]}" if dis is not None else "—",
            f"{psfs:.1f}" if psfs is not None else "—",
            f"printed {v.printed:%d %b}" if v.printed else "—",
        )
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if c == 2 and v.warnings:
                item.setToolTip("\n".join(v.warnings))
            self.table.setItem(r, c, item)

    def _update_buttons(self) -> None:
        has = self.history is not None and bool(self.history.visits)
        self.outcomes_btn.setEnabled(has)
        self.compare_btn.setEnabled(has and len(self.history.visits) >= 2)  # type: ignore[union-attr]
        self.export_btn.setEnabled(self.history is not None)
