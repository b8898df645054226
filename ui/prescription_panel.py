"""Cadence prescription panel for the selected visit.

Receives plain data through :meth:`PrescriptionPanel.set_context`, lets the clinician choose the
increase and edit the plan (every default carries its source in a tooltip), shows guard-rail
warnings live (never blocking) and the follow-up against a previous target, embeds the
metronome, exports metronome audio in the background, and emits ``prescription_saved(dict)``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.prescription.plan import (
    SOURCE_METRONOME,
    CadencePlan,
    build_plan,
)
from app.prescription.rules import (
    PRESET_PERCENTS,
    SOURCE_CONTACTS,
    SOURCE_PROGRESSION,
    SOURCE_SANITY,
    SOURCE_TARGET,
    Baseline,
    FollowUp,
    FollowUpStatus,
    PrescriptionError,
    PrescriptionSettings,
    assess_follow_up,
    baseline_from_measurement,
    baseline_typed,
    prescribe,
    target_spm,
    unreviewed_note,
)
from ui.metronome_widget import AudioFactory, MetronomeWidget
from ui.prescription_export import MetronomeExport
from ui.prescription_plan_editor import PlanEditor

WARN_STYLE = "QLabel { background: #fff3cd; color: #664d03; padding: 6px; border-radius: 4px; }"
ERROR_STYLE = "QLabel { background: #f8d7da; color: #58151c; padding: 6px; border-radius: 4px; }"
INFO_STYLE = "QLabel { background: #e7f1ff; color: #052c65; padding: 6px; border-radius: 4px; }"
ROUNDING_NOTE = "Rounded to whole steps per minute, halves upwards (178.5 → 179)."


def _baseline_text(b: Baseline) -> str:
    """How a baseline is shown in the field: measured to 0.1 spm, typed as typed."""
    return f"{b.spm:.1f}" if b.measured else f"{b.spm:g}"


class PrescriptionPanel(QWidget):
    """Prescription for one visit: target, plan, dose, fading, wording, metronome."""

    prescription_saved = Signal(dict)
    export_progress = Signal(int)
    export_finished = Signal(str)
    export_failed = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        settings: PrescriptionSettings | None = None,
        audio_factory: AudioFactory | None = None,
    ):
        super().__init__(parent)
        self._settings = settings or PrescriptionSettings()
        self._measured: tuple[float, tuple[int, int] | None] | None = None
        self._speed: float | None = None
        self._previous_target: int | None = None
        self._sd: float | None = None
        self._fps: float | None = None
        self._follow_up: FollowUp | None = None
        self._plan: CadencePlan | None = None
        self._loading = False
        self._saved_when: dict[float, str] = {}
        self._unreviewed = 0
        self._saved_baseline: Baseline | None = None
        self._no_review_note = ""

        self.metronome = MetronomeWidget(self, audio_factory=audio_factory)
        left = QVBoxLayout()
        left.addWidget(self._build_baseline_box())
        left.addWidget(self._build_target_box())
        self.error_label = self._note(ERROR_STYLE)
        self.warnings_label = self._note(WARN_STYLE)
        self.follow_up_label = self._note(INFO_STYLE)
        left.addWidget(self.error_label)
        left.addWidget(self.warnings_label)
        left.addWidget(self.follow_up_label)
        mbox = QGroupBox("Metronome (practice in the clinic)", self)
        mbox.setToolTip(SOURCE_METRONOME)
        QVBoxLayout(mbox).addWidget(self.metronome)
        left.addWidget(mbox, 1)

        self.tabs = self.editor = PlanEditor(self)
        self.editor.edited.connect(self._update_preview)
        e = self.editor  # its widgets, under the names the panel has always had
        self.steps_table, self.feedback_table = e.steps_table, e.feedback_table
        self.runs_min, self.runs_max, self.weeks, self.minutes = (
            e.runs_min, e.runs_max, e.weeks, e.minutes,
        )  # fmt: skip
        self.cues_edit, self.costs_edit, self.preview_label = (
            e.cues_edit, e.costs_edit, e.preview_label,
        )  # fmt: skip

        self.exporter = MetronomeExport(self, self.metronome, lambda: self.minutes.value())
        self.exporter.progress.connect(self.export_progress)
        self.exporter.finished.connect(self.export_finished)
        self.exporter.failed.connect(self.export_failed)
        self.export_button = self.exporter.button
        self.export_bar = self.exporter.bar
        self.export_status = self.exporter.status
        self.save_button = QPushButton("Save prescription", self)
        self.save_button.setDefault(True)
        self.save_button.setMinimumHeight(36)
        self.save_button.clicked.connect(self.save)
        bottom = QHBoxLayout()
        bottom.addWidget(self.export_button)
        bottom.addWidget(self.export_bar, 1)
        bottom.addWidget(self.export_status, 2)
        bottom.addStretch()
        bottom.addWidget(self.save_button)

        right = QVBoxLayout()
        right.addWidget(self.tabs, 1)
        right.addLayout(bottom)
        top = QHBoxLayout(self)
        top.setSpacing(16)
        top.addLayout(left, 2)
        top.addLayout(right, 3)
        self._recompute()

    # -- building ---------------------------------------------------------------------------------
    def _note(self, style: str) -> QLabel:
        label = QLabel(self)
        label.setWordWrap(True)
        label.setStyleSheet(style)
        label.hide()
        return label

    def _build_baseline_box(self) -> QGroupBox:
        box = QGroupBox("Baseline cadence", self)
        form = QFormLayout(box)
        self.baseline_edit = QLineEdit(self)
        self.baseline_edit.setPlaceholderText("e.g. 165 (from video or the runner's watch)")
        self.baseline_edit.setToolTip(f"Steps per minute. {SOURCE_CONTACTS}. {SOURCE_SANITY}.")
        self.baseline_edit.textChanged.connect(self._on_baseline_edited)
        self.baseline_source = QLabel("typed in", self)
        self.baseline_source.setWordWrap(True)
        self.baseline_source.setToolTip(
            "Measured baselines use reviewed marks only: automatic proposals are not counted "
            "until you accept them in Mark video."
        )
        self.speed_label = QLabel("—", self)
        self.speed_label.setToolTip(
            "For context: cadence rises only ~3 spm for +15 % speed (Eur J Sport Sci 2019)"
        )
        form.addRow("Baseline (spm)", self.baseline_edit)
        form.addRow("Source", self.baseline_source)
        form.addRow("Treadmill speed", self.speed_label)
        return box

    def _build_target_box(self) -> QGroupBox:
        box = QGroupBox("Target cadence", self)
        box.setToolTip(SOURCE_TARGET)
        v = QVBoxLayout(box)
        row = QHBoxLayout()
        self.percent_group = QButtonGroup(self)
        self.preset_buttons: dict[float, QRadioButton] = {}
        for i, p in enumerate(PRESET_PERCENTS):
            b = QRadioButton(f"+{p:g} %", self)
            b.setToolTip(SOURCE_PROGRESSION if p > 5 else SOURCE_TARGET)
            self.percent_group.addButton(b, i)
            self.preset_buttons[p] = b
            row.addWidget(b)
        self.custom_button = QRadioButton("Custom", self)
        self.percent_group.addButton(self.custom_button, len(PRESET_PERCENTS))
        self.custom_spin = QDoubleSpinBox(self)
        self.custom_spin.setRange(-50.0, 50.0)
        self.custom_spin.setDecimals(1)
        self.custom_spin.setSingleStep(0.5)
        self.custom_spin.setSuffix(" %")
        self.custom_spin.setValue(6.0)
        self.custom_spin.setToolTip(
            "Any increase; 5–10 % is the studied range (" + SOURCE_TARGET + ")"
        )
        row.addWidget(self.custom_button)
        row.addWidget(self.custom_spin)
        row.addStretch()
        self.preset_buttons[5.0].setChecked(True)
        self.percent_group.idToggled.connect(lambda _i, on: on and self._recompute())
        self.custom_spin.valueChanged.connect(self._on_custom_changed)
        self.target_label = QLabel("—", self)
        f = self.target_label.font()
        f.setPointSizeF(f.pointSizeF() * 1.8)
        f.setBold(True)
        self.target_label.setFont(f)
        self.target_label.setToolTip(
            ROUNDING_NOTE + " Metronome beats per minute = target steps per minute."
        )
        v.addLayout(row)
        v.addWidget(self.target_label)
        return box

    def _update_preview(self, *_args: object) -> None:
        if self._loading or self._plan is None or not hasattr(self, "exporter"):
            self.preview_label.setText("")
            return
        plan = self.current_plan()
        self.preview_label.setText("\n".join(plan.home_program_lines()) if plan else "")

    # -- context ----------------------------------------------------------------------------------
    def set_context(
        self,
        baseline_spm: float | None,
        contacts_per_side: tuple[int, int] | None,
        treadmill_speed_kmh: float | None,
        previous_target: int | None,
        existing: dict | None,
        *,
        baseline_sd_spm: float | None = None,
        frame_rate_hz: float | None = None,
        unreviewed: int = 0,
    ) -> None:
        """Show the selected visit: measured baseline, speed, previous target, saved prescription.

        ``baseline_spm`` / ``contacts_per_side`` come from the visit's reviewed marks (the review
        rule); ``unreviewed`` is the number of automatic proposals left out, said with the source.
        """
        self._loading = True
        try:
            self._measured = (
                (float(baseline_spm), contacts_per_side) if baseline_spm is not None else None
            )
            self._unreviewed = max(0, int(unreviewed))
            self._saved_baseline = None
            self._no_review_note = ""
            self._speed = treadmill_speed_kmh
            self._previous_target = previous_target
            self._sd, self._fps = baseline_sd_spm, frame_rate_hz
            self.speed_label.setText(
                "—" if treadmill_speed_kmh is None else f"{treadmill_speed_kmh:g} km/h"
            )
            self._saved_when = {}
            plan: CadencePlan | None = None
            load_error = ""
            if existing:
                try:
                    plan = CadencePlan.from_dict(existing)
                except PrescriptionError as e:
                    load_error = str(e)
            if plan is not None:
                self._load_plan(plan)
            else:
                self.baseline_edit.setText("" if baseline_spm is None else f"{baseline_spm:.1f}")
                if baseline_spm is None and self._unreviewed:
                    self._no_review_note = (
                        f"No reviewed marks yet{unreviewed_note(self._unreviewed)}: review them "
                        "in Mark video, or type the baseline."
                    )
                self.preset_buttons[5.0].setChecked(True)
                self._keep_unreached_target(baseline_spm, previous_target)
                self.editor.reset()
        finally:
            self._loading = False
        self._recompute()
        if load_error:
            self._show(self.error_label, load_error + " A new prescription was started.")

    def _keep_unreached_target(self, baseline: float | None, previous: int | None) -> None:
        """At a follow-up where the last target was not reached, propose that target again.

        Barton 2016: move on only when the current step feels automatic, so the default is the
        same target, not +5 % on top of today's cadence. The clinician can still choose another.
        """
        if baseline is None or previous is None:
            return
        try:
            fu = assess_follow_up(previous, baseline, sd_spm=self._sd, frame_rate_hz=self._fps)
        except PrescriptionError:
            return
        if fu.status is not FollowUpStatus.BELOW:
            return
        pct = 100.0 * (previous / baseline - 1.0)
        for candidate in (round(pct, 1), round(pct, 1) + 0.1, round(pct, 1) - 0.1):
            if target_spm(baseline, candidate) == previous:
                self.custom_spin.setValue(candidate)
                self.custom_button.setChecked(True)
                return

    def _load_plan(self, plan: CadencePlan) -> None:
        # The saved baseline keeps its stored source (reviewed marks / typed in) after a restart,
        # even when the visit's marks have changed since.
        self._saved_baseline = plan.baseline
        self.baseline_edit.setText(_baseline_text(plan.baseline))
        preset = next(
            (b for p, b in self.preset_buttons.items() if abs(p - plan.percent) < 1e-9), None
        )
        if preset is not None and not plan.custom:
            preset.setChecked(True)
        else:
            self.custom_spin.setValue(plan.percent)
            self.custom_button.setChecked(True)
        self.editor.load(plan)
        self._saved_when = {s.percent: s.when for s in plan.steps}

    # -- computing ---------------------------------------------------------------------------------
    def _on_baseline_edited(self, _text: str) -> None:
        if not self._loading:
            self._recompute()

    def _on_custom_changed(self, _v: float) -> None:
        if not self._loading:
            self.custom_button.setChecked(True)
            self._recompute()

    def _baseline(self) -> Baseline:
        """The baseline as typed; the measured or saved one when the text is still its value."""
        text = self.baseline_edit.text()
        try:
            typed: float | None = float(text.strip().replace(",", "."))
        except ValueError:
            typed = None
        candidates: list[Baseline] = []
        if self._saved_baseline is not None:
            candidates.append(self._saved_baseline)
        if self._measured is not None:
            spm, contacts = self._measured
            if contacts:
                with contextlib.suppress(PrescriptionError):
                    candidates.append(
                        baseline_from_measurement(spm, contacts, unreviewed=self._unreviewed)
                    )
        for b in candidates:
            # still that value (as displayed): keep its source and contact count
            if typed is not None and abs(typed - float(_baseline_text(b))) < 1e-6:
                return b
        return baseline_typed(text)

    def _percent(self) -> float:
        if self.custom_button.isChecked():
            return float(self.custom_spin.value())
        for p, b in self.preset_buttons.items():
            if b.isChecked():
                return p
        return PRESET_PERCENTS[0]

    def _show(self, label: QLabel, text: str) -> None:
        label.setText(text)
        label.setVisible(bool(text))

    def _recompute(self) -> None:
        if self._loading:
            return
        self._follow_up = None
        self._show(self.error_label, "")
        try:
            baseline = self._baseline()
            pr = prescribe(baseline, self._percent(), settings=self._settings)
        except PrescriptionError as e:
            self._plan = None
            self.target_label.setText("Target: —")
            self.baseline_source.setText(
                self._no_review_note if not self.baseline_edit.text().strip() else ""
            )
            self._show(self.error_label, str(e) if self.baseline_edit.text().strip() else "")
            self._show(self.warnings_label, "")
            self._update_follow_up()
            self.save_button.setEnabled(False)
            self.steps_table.setRowCount(0)
            self._update_preview()
            return
        self.baseline_source.setText(baseline.source_text)
        self._update_follow_up()
        self._plan = build_plan(pr, follow_up=self._follow_up, treadmill_speed_kmh=self._speed)
        for s in self._plan.steps:
            s.when = self._saved_when.get(s.percent, s.when)
        self.target_label.setText(f"Target: {pr.target_spm} spm  ({pr.percent:+.1f} %)")
        self._show(self.warnings_label, "\n".join("⚠ " + w.message for w in pr.warnings))
        self._fill_steps()
        self.metronome.set_bpm(pr.target_spm)
        self.save_button.setEnabled(True)

    def _update_follow_up(self) -> None:
        if self._previous_target is None or self._measured is None:
            self._show(self.follow_up_label, "")
            return
        spm, contacts = self._measured
        try:
            self._follow_up = assess_follow_up(
                self._previous_target,
                spm,
                sd_spm=self._sd,
                n_contacts=sum(contacts) if contacts else None,
                frame_rate_hz=self._fps,
                settings=self._settings,
            )
        except PrescriptionError as e:
            self._show(self.follow_up_label, f"Follow-up: {e}")
            return
        text = "Follow-up: " + self._follow_up.message
        if self._sd is None and self._fps is None:
            text += f" (±{self._settings.default_tolerance_spm:g} spm tolerance is a clinical heuristic.)"
        self._show(self.follow_up_label, text)

    def _fill_steps(self) -> None:
        assert self._plan is not None
        self.editor.fill_steps(self._plan.steps)
        self._update_preview()

    # -- reading the edits ---------------------------------------------------------------------------
    def current_plan(self) -> CadencePlan | None:
        """The plan as currently shown, with the clinician's edits; None if the input is invalid."""
        if self._plan is None:
            return None
        return self.editor.read_into(self._plan)

    def warnings(self) -> list[str]:
        return [w["message"] for w in self._plan.warnings] if self._plan else []

    def save(self) -> dict | None:
        """Validate and emit ``prescription_saved``; returns the dict, or None (error shown)."""
        plan = self.current_plan()
        if plan is None:
            self._show(
                self.error_label, self.error_label.text() or "Enter the baseline cadence first."
            )
            return None
        try:
            plan.dose.validate()
        except PrescriptionError as e:
            self._show(self.error_label, str(e))
            return None
        data = plan.to_dict()
        data["home_program"] = plan.home_program_lines()
        self.prescription_saved.emit(data)
        return data

    # -- export (ui.prescription_export) ----------------------------------------------------------
    def export_running(self) -> bool:
        return self.exporter.running()

    def start_export(self, path: str | Path, minutes: float | None = None) -> None:
        """Export the metronome at the current tempo in the background (length: dose minutes)."""
        self.exporter.start(path, minutes)

    def cancel_export(self) -> None:
        self.exporter.cancel()

    def shutdown(self) -> None:
        """Stop the metronome and any export (also done on close)."""
        self.cancel_export()
        self.metronome.stop()

    def closeEvent(self, event) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)
