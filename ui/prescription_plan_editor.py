"""The Prescribe panel's plan editor: the "Plan and dose", "Faded feedback" and "Patient
wording" tabs, filled from a plan and read back with the clinician's edits.

:class:`PlanEditor` holds the widgets and knows nothing of the target computation; the panel
(:class:`ui.prescription_panel.PrescriptionPanel`) fills it and reads it, and redraws the home
program preview when it emits ``edited``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.prescription.plan import (
    SOURCE_DOSE,
    SOURCE_FADING_SPLIT,
    CadencePlan,
    FeedbackPhase,
    PatientWording,
    PlanStep,
    PracticeDose,
    default_feedback_schedule,
)
from app.prescription.rules import SOURCE_PROGRESSION


class PlanEditor(QTabWidget):
    """Progression steps, practice dose, faded-feedback schedule and patient wording."""

    edited = Signal()
    """Something the home program shows was edited (the preview follows)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.phases: list[FeedbackPhase] = default_feedback_schedule()
        self.addTab(self._build_plan_tab(), "Plan and dose")
        self.addTab(self._build_feedback_tab(), "Faded feedback")
        self.addTab(self._build_wording_tab(), "Patient wording")

    # -- building ---------------------------------------------------------------------------------
    def _build_plan_tab(self) -> QWidget:
        w = QWidget(self)
        v = QVBoxLayout(w)
        v.addWidget(QLabel("Progression steps (edit the “when” column if needed)", w))
        self.steps_table = QTableWidget(0, 3, w)
        self.steps_table.setHorizontalHeaderLabels(["Increase", "Target (spm)", "When"])
        self.steps_table.verticalHeader().hide()
        self.steps_table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.steps_table.setToolTip(SOURCE_PROGRESSION)
        self.steps_table.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.steps_table.setMaximumHeight(150)
        v.addWidget(self.steps_table)
        dose_box = QGroupBox("Practice dose with the metronome", w)
        dose_box.setToolTip(SOURCE_DOSE)
        form = QFormLayout(dose_box)
        d = PracticeDose()
        self.runs_min = self._spin(1, 14, d.runs_per_week_min)
        self.runs_max = self._spin(1, 14, d.runs_per_week_max)
        self.weeks = self._spin(1, 52, d.weeks)
        self.minutes = self._spin(1, 240, d.minutes_max, " min")
        runs = QHBoxLayout()
        runs.addWidget(self.runs_min)
        runs.addWidget(QLabel("to", w))
        runs.addWidget(self.runs_max)
        runs.addStretch()
        form.addRow("Runs per week", runs)
        form.addRow("For (weeks)", self.weeks)
        form.addRow("Up to", self.minutes)
        v.addWidget(dose_box)
        preview_box = QGroupBox("Home program preview", w)
        self.preview_label = QLabel(preview_box)
        self.preview_label.setWordWrap(True)
        self.preview_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.preview_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        QVBoxLayout(preview_box).addWidget(self.preview_label)
        v.addWidget(preview_box, 1)
        for spin in (self.runs_min, self.runs_max, self.weeks, self.minutes):
            spin.valueChanged.connect(self.edited)
        self.steps_table.itemChanged.connect(self.edited)
        return w

    def _spin(self, lo: int, hi: int, value: int, suffix: str = "") -> QSpinBox:
        s = QSpinBox(self)
        s.setRange(lo, hi)
        s.setValue(value)
        s.setSuffix(suffix)
        s.setMinimumWidth(90)
        s.setMaximumWidth(120)
        s.setToolTip(SOURCE_DOSE)
        return s

    def _build_feedback_tab(self) -> QWidget:
        w = QWidget(self)
        v = QVBoxLayout(w)
        v.addWidget(QLabel("When to use the metronome as feedback fades (editable)", w))
        self.feedback_table = QTableWidget(0, 2, w)
        self.feedback_table.setHorizontalHeaderLabels(["Sessions", "Metronome use"])
        self.feedback_table.verticalHeader().hide()
        self.feedback_table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.Stretch
        )
        v.addWidget(self.feedback_table, 1)
        self.feedback_table.itemChanged.connect(self.edited)
        note = QLabel("Source: " + SOURCE_FADING_SPLIT + ".", w)
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")
        v.addWidget(note)
        self.fill_feedback(self.phases)
        return w

    def _build_wording_tab(self) -> QWidget:
        w = QWidget(self)
        form = QFormLayout(w)
        wording = PatientWording()
        self.cues_edit = QPlainTextEdit(w)
        self.cues_edit.setToolTip(wording.cues_source)
        self.costs_edit = QPlainTextEdit(w)
        self.costs_edit.setToolTip(wording.costs_source)
        form.addRow("Cues (one per line)", self.cues_edit)
        form.addRow("What to expect", self.costs_edit)
        self.cues_edit.textChanged.connect(self.edited)
        self.costs_edit.textChanged.connect(self.edited)
        self.set_wording(wording)
        return w

    # -- filling ----------------------------------------------------------------------------------
    def set_dose(self, d: PracticeDose) -> None:
        self.runs_min.setValue(d.runs_per_week_min)
        self.runs_max.setValue(d.runs_per_week_max)
        self.weeks.setValue(d.weeks)
        self.minutes.setValue(d.minutes_max)

    def set_wording(self, w: PatientWording) -> None:
        self.cues_edit.setPlainText("\n".join(w.cues))
        self.costs_edit.setPlainText("\n".join(w.costs))

    def fill_feedback(self, phases: list[FeedbackPhase]) -> None:
        self.phases = phases
        t = self.feedback_table
        t.blockSignals(True)
        t.setRowCount(len(phases))
        for r, ph in enumerate(phases):
            a = QTableWidgetItem(ph.sessions_text)
            a.setFlags(a.flags() & ~Qt.ItemFlag.ItemIsEditable)
            b = QTableWidgetItem(ph.metronome_use)
            for item in (a, b):
                item.setToolTip(ph.source)
            t.setItem(r, 0, a)
            t.setItem(r, 1, b)
        t.resizeColumnToContents(0)
        t.blockSignals(False)

    def fill_steps(self, steps: list[PlanStep]) -> None:
        t = self.steps_table
        t.blockSignals(True)
        t.setRowCount(len(steps))
        for r, s in enumerate(steps):
            items = [
                QTableWidgetItem(f"+{s.percent:g} %"),
                QTableWidgetItem(str(s.target_spm)),
                QTableWidgetItem(s.when),
            ]
            for c, item in enumerate(items):
                item.setToolTip(s.source)
                if c < 2:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                t.setItem(r, c, item)
        t.resizeColumnsToContents()
        t.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        t.blockSignals(False)

    def load(self, plan: CadencePlan) -> None:
        """Show a saved plan's dose, feedback schedule and wording."""
        self.set_dose(plan.dose)
        self.fill_feedback(plan.feedback)
        self.set_wording(plan.wording)

    def reset(self) -> None:
        """Today's defaults (a new prescription)."""
        self.fill_feedback(default_feedback_schedule())
        self.set_dose(PracticeDose())
        self.set_wording(PatientWording())

    # -- reading the edits ------------------------------------------------------------------------
    def read_into(self, plan: CadencePlan) -> CadencePlan:
        """``plan`` with the clinician's edits: step timing, dose, feedback use, wording."""
        for r, s in enumerate(plan.steps):
            item = self.steps_table.item(r, 2)
            if item is not None:
                s.when = item.text()
        plan.dose = PracticeDose(
            self.runs_min.value(), self.runs_max.value(), self.weeks.value(), self.minutes.value()
        )
        phases = []
        for r, ph in enumerate(self.phases):
            item = self.feedback_table.item(r, 1)
            phases.append(
                FeedbackPhase(
                    ph.first_session,
                    ph.last_session,
                    item.text() if item else ph.metronome_use,
                    ph.source,
                )
            )
        plan.feedback = phases
        lines = lambda e: [x.strip() for x in e.toPlainText().splitlines() if x.strip()]  # noqa: E731
        plan.wording = PatientWording(cues=lines(self.cues_edit), costs=lines(self.costs_edit))
        return plan
