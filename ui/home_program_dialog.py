"""The home-program editor: texts, exercises and doses, then preview, print or save as PDF.

Rendering lives in :mod:`ui.home_program`; this module is the dialog around it, and
:mod:`ui.home_program_open` opens it on a patient's default program or on an earlier one (its
two functions are importable from here too).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtPrintSupport import QPrintDialog
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.filenames import safe_file_name
from app.outputs import OutputError, rules_for_clinic
from app.reports.exercises import ExerciseLibrary, ExerciseLibraryError, SelectedExercise
from app.reports.home_program import (
    HomeProgramContent,
    HomeProgramError,
    PainZone,
    record_program,
    template_exercise_ids,
)
from app.reports.stills import crop_stills
from app.reports.templates import TemplateError, TemplateStore
from app.safety.audit import log_action
from ui.exercise_library import ExerciseSelectionTable
from ui.home_program_open import _templates_or_starter, open_home_program, open_past_program
from ui.unsaved import GuardedDialog

if TYPE_CHECKING:
    from app.clinic import Clinic
from ui.home_program import (
    PAGE_SIZES,
    ProgramRenderer,
    RenderError,
    export_pdf,
    make_preview_dialog,
    make_printer,
    printers_available,
)


def _lines(edit: QPlainTextEdit) -> list[str]:
    return [x.strip() for x in edit.toPlainText().splitlines() if x.strip()]


def _text(error: Exception) -> str:
    return getattr(error, "message", None) or str(error)


class HomeProgramDialog(GuardedDialog):
    """Edit every text of a home program, then preview, print or save it as PDF.

    Each print or export is recorded with the visit (content + PDF copy) through
    :func:`app.reports.home_program.record_program`; ``recorded`` carries the new row's id.
    """

    recorded = Signal(int)

    def __init__(
        self,
        clinic: Clinic,
        content: HomeProgramContent,
        parent: QWidget | None = None,
        *,
        library: ExerciseLibrary | None = None,
        templates: TemplateStore | None = None,
    ) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self._content = content
        self.library = library or ExerciseLibrary.for_data_folder(clinic.folder.root)
        self.templates = templates or _templates_or_starter(clinic)
        self.setWindowTitle(f"Home program – {content.patient_name}")
        self.tabs = QTabWidget()
        self.tabs.addTab(self._tab_general(), "Patient and clinic")
        self.tabs.addTab(self._tab_cadence(), "Cadence")
        self.tabs.addTab(self._tab_running(), "Running and pain")
        self.exercise_table = ExerciseSelectionTable(self.library, content.exercises)
        self.tabs.addTab(self.exercise_table, "Exercises")
        self.tabs.addTab(self._tab_stills(), "Pictures")
        self.page_size = QComboBox()
        self.page_size.addItems(list(PAGE_SIZES))
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("Paper:"))
        buttons.addWidget(self.page_size)
        buttons.addStretch(1)
        for text, slot in (
            ("Exercise library…", self.edit_library),
            ("Preview…", self.preview),
            ("Print…", self.print_program),
            ("Save as PDF…", self.save_pdf),
            ("Close", self.reject),  # asks first when edited and not printed (ui.unsaved)
        ):
            b = QPushButton(text)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        if content.warnings:
            warn = QLabel("\n".join(content.warnings))
            warn.setObjectName("warning")
            warn.setWordWrap(True)
            layout.addWidget(warn)
        layout.addWidget(self.tabs)
        layout.addLayout(buttons)
        self.resize(820, 640)
        self.unsaved_what = "the home program (not printed or saved as PDF since)"
        self.guard()
        # A printed or exported program is kept with the visit: nothing left to lose.
        self.recorded.connect(lambda _id: self._snapshot.mark_clean())

    def save_changes(self) -> bool:
        """ "Save" in the unsaved-changes question: save as PDF (kept with the visit)."""
        if self.save_pdf() is None:
            return False
        self.accept()
        return True

    # -- tabs --
    def _form(self) -> tuple[QWidget, QFormLayout]:
        w = QWidget()
        form = QFormLayout(w)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        return w, form

    def _text(self, value: str, lines: int = 3) -> QPlainTextEdit:
        edit = QPlainTextEdit(value)
        edit.setFixedHeight(edit.fontMetrics().lineSpacing() * lines + 14)
        return edit

    def _tab_general(self) -> QWidget:
        c = self._content
        w, form = self._form()
        self.title_edit = QLineEdit(c.title)
        self.clinic_edit = QLineEdit(c.clinic_name)
        self.contact_edit = self._text(c.clinic_contact, 2)
        self.patient_edit = QLineEdit(c.patient_name)
        self.clinician_edit = QLineEdit(c.clinician_name)
        self.date_edit = QLineEdit(c.date_text)
        self.appointment_edit = QLineEdit(c.next_appointment)
        self.appointment_edit.setPlaceholderText(
            "e.g. Tuesday 3 December, 10:30 (empty: a line to write on)"
        )
        self.note_edit = self._text(c.clinician_note, 5)
        self.note_edit.setPlaceholderText("Your note for the runner (empty: lines to write on)")
        for label, widget in (
            ("Title", self.title_edit),
            ("Clinic", self.clinic_edit),
            ("Contact", self.contact_edit),
            ("Patient", self.patient_edit),
            ("Physiotherapist", self.clinician_edit),
            ("Date", self.date_edit),
            ("Next appointment", self.appointment_edit),
            ("Note", self.note_edit),
        ):
            form.addRow(label, widget)
        return w

    def _tab_cadence(self) -> QWidget:
        cad = self._content.cadence
        w, form = self._form()
        self.cadence_box = QCheckBox("Print the cadence section")
        self.cadence_box.setChecked(cad is not None)
        self.cadence_box.setEnabled(cad is not None)
        if cad is None:
            form.addRow(QLabel("This patient has no prescription: there is no cadence to print."))
        self.intro_edit = self._text(cad.intro if cad else "")
        sched = "\n".join(f"{a}: {b}" for a, b, *_ in (cad.schedule if cad else []))
        self.schedule_edit = self._text(sched, 4)
        self.schedule_edit.setToolTip("One line per step: 'when: how to use the metronome'.")
        self.practice_edit = QLineEdit(cad.practice if cad else "")
        self.cues_edit = self._text("\n".join(cad.cues) if cad else "", 2)
        self.expect_edit = self._text("\n".join(cad.expect) if cad else "", 2)
        self.next_edit = self._text(cad.next_steps if cad else "", 2)
        form.addRow(self.cadence_box)
        for label, widget in (
            ("How to use it", self.intro_edit),
            ("Metronome plan", self.schedule_edit),
            ("Practice", self.practice_edit),
            ("Cues (one a line)", self.cues_edit),
            ("What to expect", self.expect_edit),
            ("Next steps", self.next_edit),
        ):
            widget.setEnabled(cad is not None)
            form.addRow(label, widget)
        return w

    def _tab_running(self) -> QWidget:
        c = self._content
        w, form = self._form()
        self.run_plan_edit = self._text("\n".join(c.run_plan), 4)
        self.log_rows = QSpinBox()
        self.log_rows.setRange(0, 16)
        self.log_rows.setValue(c.run_log_rows)
        self.log_rows.setToolTip(
            "Rows of the table where the runner ticks off each run (0 = none)."
        )
        self.pain_intro_edit = self._text(c.pain_intro, 2)
        self.zones = QTableWidget(len(c.pain_zones), 3)
        self.zones.setHorizontalHeaderLabels(["Scores", "Label", "What to do"])
        self.zones.horizontalHeader().setStretchLastSection(True)
        for r, z in enumerate(c.pain_zones):
            for col, v in enumerate((z.scores, z.label, z.meaning)):
                self.zones.setItem(r, col, QTableWidgetItem(v))
        self.zones.setFixedHeight(self.zones.verticalHeader().length() + 40)
        self.pain_rules_edit = self._text("\n".join(c.pain_rules), 5)
        self.template_combo = QComboBox()
        for t in self.templates.templates():
            self.template_combo.addItem(t.name, t.id)
            self.template_combo.setItemData(
                self.template_combo.count() - 1, "Sources:\n• " + "\n• ".join(t.sources),
                Qt.ItemDataRole.ToolTipRole,
            )  # fmt: skip
        at = self.template_combo.findData(c.template_id)
        self.template_combo.setCurrentIndex(max(at, 0) if c.template_id else -1)
        self._template_index = self.template_combo.currentIndex()
        self.template_combo.currentIndexChanged.connect(self._template_chosen)
        self.advice_edit = self._text("\n".join(c.advice), 4)
        save_template = QPushButton("Keep as the clinic's template")
        save_template.setToolTip(
            "Store this advice and the ticked exercises as the clinic's version of the chosen "
            "template (used for every new program with this complaint)."
        )
        save_template.clicked.connect(self.save_template)
        template_row = QHBoxLayout()
        template_row.addWidget(self.template_combo, 1)
        template_row.addWidget(save_template)
        for label, widget in (
            ("Complaint template", template_row),
            ("Advice for the complaint (one a line)", self.advice_edit),
            ("Weekly running (one a line)", self.run_plan_edit),
            ("Run log rows", self.log_rows),
            ("Pain: introduction", self.pain_intro_edit),
            ("Pain zones", self.zones),
            ("Pain rules (one a line)", self.pain_rules_edit),
        ):
            form.addRow(label, widget)
        return w

    def _tab_stills(self) -> QWidget:
        c = self._content
        w, form = self._form()
        self.before_edit, self.after_edit = QLineEdit(c.before_still), QLineEdit(c.after_still)
        for label, edit in (("Before (PNG)", self.before_edit), ("Now (PNG)", self.after_edit)):
            row = QHBoxLayout()
            row.addWidget(edit)
            browse = QPushButton("Choose…")
            browse.clicked.connect(lambda _=False, e=edit: self._choose_still(e))
            row.addWidget(browse)
            form.addRow(label, row)
        self.before_caption = QLineEdit(c.before_caption)
        self.after_caption = QLineEdit(c.after_caption)
        self.stills_note = QLineEdit(c.stills_note)
        form.addRow("Caption before", self.before_caption)
        form.addRow("Caption now", self.after_caption)
        form.addRow("Explanation", self.stills_note)
        return w

    def _choose_still(self, edit: QLineEdit) -> None:
        start = str(self.clinic.folder.stills)
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a still", start, "Images (*.png *.jpg *.jpeg)"
        )
        if path:
            edit.setText(path)

    # -- content --
    def content(self) -> HomeProgramContent:
        """The program with all the clinician's edits (raises ExerciseLibraryError on bad doses)."""
        c = replace(self._content)
        c.title = self.title_edit.text().strip() or "Home program"
        c.clinic_name = self.clinic_edit.text().strip()
        c.clinic_contact = self.contact_edit.toPlainText().strip()
        c.patient_name = self.patient_edit.text().strip()
        c.clinician_name = self.clinician_edit.text().strip()
        c.date_text = self.date_edit.text().strip()
        c.next_appointment = self.appointment_edit.text().strip()
        c.clinician_note = self.note_edit.toPlainText().strip()
        if self._content.cadence is not None and self.cadence_box.isChecked():
            cad = replace(self._content.cadence)
            cad.intro = self.intro_edit.toPlainText().strip()
            cad.schedule = [
                [a.strip(), b.strip()]
                for a, _, b in (x.partition(":") for x in _lines(self.schedule_edit))
            ]
            cad.practice = self.practice_edit.text().strip()
            cad.cues = _lines(self.cues_edit)
            cad.expect = _lines(self.expect_edit)
            cad.next_steps = self.next_edit.toPlainText().strip()
            c.cadence = cad
        else:
            c.cadence = None
        c.run_plan = _lines(self.run_plan_edit)
        c.run_log_rows = self.log_rows.value()
        c.pain_intro = self.pain_intro_edit.toPlainText().strip()
        zones = []
        for r, z in enumerate(self._content.pain_zones):
            vals = [
                (self.zones.item(r, col).text() if self.zones.item(r, col) else "")
                for col in range(3)
            ]
            zones.append(PainZone(vals[0], vals[1], vals[2], z.colour))
        c.pain_zones = zones
        c.pain_rules = _lines(self.pain_rules_edit)
        c.advice = _lines(self.advice_edit)
        c.template_id = str(self.template_combo.currentData() or c.template_id)
        c.exercises = self.exercise_table.selected()
        c.before_still, c.after_still = (
            self.before_edit.text().strip(),
            self.after_edit.text().strip(),
        )
        c.before_caption, c.after_caption = self.before_caption.text(), self.after_caption.text()
        c.stills_note = self.stills_note.text().strip()
        self._crop(c)
        return c

    def _crop(self, c: HomeProgramContent) -> None:
        """Crop each still to the runner's legs (cached keypoints of that frame, else the lower
        half); recomputed only when a still changed, so a reprint keeps its saved crop."""
        same = (c.before_still, c.after_still) == (
            self._content.before_still,
            self._content.after_still,
        )
        if same and (c.before_crop or not c.before_still) and (c.after_crop or not c.after_still):
            return
        try:
            with self.clinic.db.session() as s:
                crop_stills(s, c, self.clinic.folder.cache, self.clinic.videos_root)
        except Exception:  # a database hiccup must not stop printing: whole pictures then
            c.before_crop, c.after_crop = [], []

    # -- complaint templates --
    def _template_defaults(self, template_id: str) -> tuple[list[str], list[str]]:
        t = self.templates.get(template_id)
        if t is None:
            return [], []
        ids = template_exercise_ids(t, with_cadence=self._content.cadence is not None)
        return list(t.advice), [i for i in ids if self.library.get(i) is not None]

    def _edited_since_template(self, template_id: str) -> bool:
        advice, ids = self._template_defaults(template_id)
        try:
            ticked = [x.exercise_id for x in self.exercise_table.selected()]
        except ExerciseLibraryError:
            return True
        return _lines(self.advice_edit) != advice or ticked != ids

    def _template_chosen(self, index: int) -> None:
        """Apply the chosen template's advice and exercises; ask first if that replaces edits."""
        new_id = str(self.template_combo.itemData(index) or "")
        old_id = str(self.template_combo.itemData(self._template_index) or "")
        if not new_id:
            return
        if old_id and self._edited_since_template(old_id):
            answer = QMessageBox.question(
                self, "Home program",
                f"Replace the advice and exercise ticks with the “{self.template_combo.itemText(index)}” "
                "template? Your changes to them would be lost.",
            )  # fmt: skip
            if answer != QMessageBox.StandardButton.Yes:
                self.template_combo.blockSignals(True)
                self.template_combo.setCurrentIndex(self._template_index)
                self.template_combo.blockSignals(False)
                return
        self._template_index = index
        advice, ids = self._template_defaults(new_id)
        self.advice_edit.setPlainText("\n".join(advice))
        chosen = [SelectedExercise.from_exercise(self.library, self.library.get(i)) for i in ids]  # type: ignore[arg-type]
        self.exercise_table.set_selection(chosen)

    def save_template(self) -> None:
        """Keep the advice and ticked exercises as the clinic's version of the template."""
        tid = str(self.template_combo.currentData() or "")
        t = self.templates.get(tid)
        if t is None:
            return
        try:
            ids = [x.exercise_id for x in self.exercise_table.selected()]
            self.templates.update(replace(t, advice=_lines(self.advice_edit), exercises=ids))
            self.templates.save()
        except (ExerciseLibraryError, TemplateError) as e:
            QMessageBox.warning(self, "Home program", str(e))
            return
        QMessageBox.information(
            self, "Home program",
            f"New home programs for “{t.name}” now start with this advice and these exercises.",
        )  # fmt: skip

    def _checked_content(self) -> HomeProgramContent | None:
        try:
            return self.content()
        except ExerciseLibraryError as e:
            QMessageBox.warning(self, "Home program", str(e))
            return None

    # -- actions --
    def edit_library(self) -> None:
        from ui.exercise_library import ExerciseLibraryDialog

        ExerciseLibraryDialog(self.library, self).exec()
        self.exercise_table.reload()

    def preview(self) -> None:
        content = self._checked_content()
        if content is None:
            return
        dialog = make_preview_dialog(content, make_printer(self.page_size.currentText()), self)
        if dialog.exec() == QDialog.DialogCode.Accepted:  # the runner's copy was printed
            self._record(content)

    def print_program(self) -> None:
        content = self._checked_content()
        if content is None:
            return
        if not printers_available():
            answer = QMessageBox.information(
                self,
                "No printer",
                "No printer is installed on this computer. Save the program as PDF and print it "
                "from another computer, or give the file to the runner.",
                QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Cancel,
            )
            if answer == QMessageBox.StandardButton.Save:
                self.save_pdf()
            return
        printer = make_printer(self.page_size.currentText())
        if QPrintDialog(printer, self).exec() != QDialog.DialogCode.Accepted:
            return
        try:
            ProgramRenderer(content).paint(printer)
        except RenderError as e:
            QMessageBox.warning(self, "Print", str(e))
            return
        log_action(self.clinic.db, "print", content.patient_id, detail="home program")
        self._record(content)

    def save_pdf(self) -> Path | None:
        content = self._checked_content()
        if content is None:
            return None
        name = safe_file_name(
            f"{content.title} - {content.patient_name} - {content.date_text}",
            ".pdf",
            fallback="Home program",
        )
        path, _ = QFileDialog.getSaveFileName(
            self, "Save home program as PDF", str(Path.home() / name), "PDF (*.pdf)"
        )
        if not path:
            return None
        out = Path(path if path.lower().endswith(".pdf") else path + ".pdf")
        # The save dialog asked before replacing a file; the data folder stays protected.
        rules = rules_for_clinic(self.clinic, force=True)
        try:
            export_pdf(content, out, self.page_size.currentText(), rules=rules)
        except RenderError as e:
            QMessageBox.warning(self, "Save as PDF", str(e))
            return None
        except OutputError as e:
            QMessageBox.warning(self, "Save as PDF", e.message)
            return None
        log_action(self.clinic.db, "export", content.patient_id, detail="home program PDF")
        self._record(content, out)
        return out

    def _record(self, content: HomeProgramContent, pdf: Path | None = None) -> int | None:
        """Keep the program with the visit; a printed one gets a PDF copy rendered for it."""
        tmp: Path | None = None
        try:
            if pdf is None:
                tmp = self.clinic.folder.cache / f"program-{uuid.uuid4().hex}.pdf"
                rules = rules_for_clinic(self.clinic, managed=[self.clinic.folder.cache])
                export_pdf(content, tmp, self.page_size.currentText(), rules=rules)
            with self.clinic.db.session() as s:
                # record_program checks the PDF first: a cut-off file is never recorded as given
                row = record_program(s, self.clinic.folder.root, content, pdf or tmp)
                row_id = row.id
        except (HomeProgramError, RenderError, OutputError) as e:
            QMessageBox.warning(
                self, "Home program", f"The program was given but not kept: {_text(e)}"
            )
            return None
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        self.recorded.emit(row_id)
        return row_id


__all__ = ["HomeProgramDialog", "open_home_program", "open_past_program"]
