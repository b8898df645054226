"""Exercise library editing and the per-patient exercise selection (ticks and doses).

:class:`ExerciseLibraryDialog` adds, edits and removes the clinic's exercises and their
pictures (stored by :class:`app.reports.exercises.ExerciseLibrary` in the data folder).
:class:`ExerciseSelectionTable` is the "Exercises" tab of the home-program editor.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.reports.exercises import (
    Dose,
    Exercise,
    ExerciseLibrary,
    ExerciseLibraryError,
    SelectedExercise,
)

COLUMNS = ["Exercise", "Sets", "Reps", "Hold (s)", "Max hold (s)", "Each side", "How often"]


def _picture_pixmap(path: str | None, size: QSize, label: str) -> QPixmap:
    from ui.program_assets import load_picture

    img = load_picture(path, size.width(), size.height(), label)
    return QPixmap.fromImage(img) if img is not None else QPixmap()


def _num(text: str, what: str, name: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ExerciseLibraryError(
            f"{what} for “{name}” must be a whole number (got {text!r})."
        ) from None


class ExerciseSelectionTable(QWidget):
    """Tick the exercises for this patient and adjust each dose and instruction."""

    def __init__(
        self,
        library: ExerciseLibrary,
        selected: list[SelectedExercise],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 280)
        for col, width in ((1, 55), (2, 55), (3, 70), (4, 95), (5, 80)):
            self.table.setColumnWidth(col, width)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setIconSize(QSize(48, 32))
        self.table.currentCellChanged.connect(lambda r, *_: self._show_instructions(r))
        self.instructions = QPlainTextEdit()
        self.instructions.setPlaceholderText("Instructions for the selected exercise")
        self.instructions.setFixedHeight(90)
        self.instructions.textChanged.connect(self._store_instructions)
        up, down = QPushButton("Move up"), QPushButton("Move down")
        up.clicked.connect(lambda: self._move(-1))
        down.clicked.connect(lambda: self._move(1))
        moves = QHBoxLayout()
        moves.addWidget(QLabel("Ticked exercises are printed in this order."))
        moves.addStretch(1)
        moves.addWidget(up)
        moves.addWidget(down)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(moves)
        layout.addWidget(QLabel("Instructions (printed for this patient only):"))
        layout.addWidget(self.instructions)
        self._rows: list[SelectedExercise] = []
        self._current = -1
        self._fill([(replace(s, dose=replace(s.dose)), True) for s in selected])

    def _fill(self, chosen: list[tuple[SelectedExercise, bool]]) -> None:
        known = {s.exercise_id for s, _ in chosen}
        rows = chosen + [
            (SelectedExercise.from_exercise(self.library, e), False)
            for e in self.library.exercises()
            if e.id not in known
        ]
        self._current = -1
        self._rows = [s for s, _ in rows]
        self.table.setRowCount(len(rows))
        for r, (s, ticked) in enumerate(rows):
            self._set_row(r, s, ticked)
        if rows:
            self.table.setCurrentCell(0, 0)

    def _set_row(self, r: int, s: SelectedExercise, ticked: bool) -> None:
        name = QTableWidgetItem(s.name)
        name.setFlags(name.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        name.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
        name.setIcon(QIcon(_picture_pixmap(s.picture_path, QSize(96, 64), s.name)))
        self.table.setItem(r, 0, name)
        d = s.dose
        for col, v in ((1, d.sets), (2, d.reps), (3, d.hold_s), (4, d.hold_max_s)):
            self.table.setItem(r, col, QTableWidgetItem("" if v is None else str(v)))
        side = QTableWidgetItem()
        side.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
        side.setCheckState(Qt.CheckState.Checked if d.per_side else Qt.CheckState.Unchecked)
        self.table.setItem(r, 5, side)
        self.table.setItem(r, 6, QTableWidgetItem(d.frequency))

    def _row_state(self, r: int) -> tuple[SelectedExercise, bool]:
        s = self._rows[r]
        name = self.table.item(r, 0).text().strip() or s.name
        cell = lambda c: self.table.item(r, c).text() if self.table.item(r, c) else ""  # noqa: E731
        dose = Dose(
            sets=_num(cell(1), "Sets", name),
            reps=_num(cell(2), "Repetitions", name),
            hold_s=_num(cell(3), "The hold time", name),
            hold_max_s=_num(cell(4), "The longest hold", name),
            duration=s.dose.duration,
            per_side=self.table.item(r, 5).checkState() == Qt.CheckState.Checked,
            frequency=cell(6).strip(),
        )
        ticked = self.table.item(r, 0).checkState() == Qt.CheckState.Checked
        if ticked:
            dose.validate()
        return replace(s, name=name, dose=dose), ticked

    def selected(self) -> list[SelectedExercise]:
        """The ticked exercises in table order. Raises ExerciseLibraryError for bad numbers."""
        out = []
        for r in range(self.table.rowCount()):
            s, ticked = self._row_state(r)
            if ticked:
                out.append(s)
        return out

    def set_selection(self, selected: list[SelectedExercise]) -> None:
        """Tick exactly ``selected`` (in that order), e.g. when a complaint template is chosen."""
        self._fill([(replace(x, dose=replace(x.dose)), True) for x in selected])

    def reload(self) -> None:
        """Show library changes, keeping the ticks and doses typed so far."""
        state = []
        for r in range(self.table.rowCount()):
            try:
                s, ticked = self._row_state(r)
            except ExerciseLibraryError:
                s, ticked = self._rows[r], True
            ex = self.library.get(s.exercise_id)
            if ex is None and not ticked:
                continue
            if ex is not None:  # picture and name may have changed in the library
                fresh = SelectedExercise.from_exercise(self.library, ex)
                s = replace(s, picture_path=fresh.picture_path)
            state.append((s, ticked))
        self._fill(state)

    def _move(self, step: int) -> None:
        r = self.table.currentRow()
        target = r + step
        if r < 0 or not (0 <= target < self.table.rowCount()):
            return
        try:
            a, b = self._row_state(r), self._row_state(target)
        except ExerciseLibraryError as e:
            QMessageBox.warning(self, "Exercises", str(e))
            return
        self._current = -1
        self._rows[r], self._rows[target] = b[0], a[0]
        self._set_row(r, *b)
        self._set_row(target, *a)
        self.table.setCurrentCell(target, 0)

    def _show_instructions(self, row: int) -> None:
        self._current = -1
        self.instructions.setPlainText(
            self._rows[row].instructions if 0 <= row < len(self._rows) else ""
        )
        self._current = row

    def _store_instructions(self) -> None:
        if 0 <= self._current < len(self._rows):
            self._rows[self._current].instructions = self.instructions.toPlainText()


class ExerciseLibraryDialog(QDialog):
    """Add, edit and remove the clinic's exercises and pictures (saved to the data folder)."""

    def __init__(self, library: ExerciseLibrary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.setWindowTitle("Exercise library")
        self.list = QListWidget()
        self.list.setIconSize(QSize(72, 48))
        self.list.currentRowChanged.connect(self._show)
        self.name = QLineEdit()
        self.category = QComboBox()
        self.category.setEditable(True)
        self.category.addItems(["cadence", "stretch", "strength", "other"])
        self.instructions = QPlainTextEdit()
        self.picture = QLabel()
        self.picture.setFixedSize(240, 160)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture_name = ""
        choose = QPushButton("Choose picture…")
        choose.clicked.connect(self._choose_picture)
        self.sets, self.reps, self.hold, self.hold_max = (QSpinBox() for _ in range(4))
        for spin, top in (
            (self.sets, 20),
            (self.reps, 200),
            (self.hold, 600),
            (self.hold_max, 600),
        ):
            spin.setRange(0, top)
            spin.setSpecialValueText("–")
        self.duration = QLineEdit()
        self.per_side = QCheckBox("each side")
        self.frequency = QLineEdit()
        self.source = QLineEdit()
        self.source.setToolTip("Where the exercise or dose comes from (not printed).")
        form = QFormLayout()
        pic = QHBoxLayout()
        pic.addWidget(self.picture)
        pic.addWidget(choose)
        for label, w in (
            ("Name", self.name),
            ("Kind", self.category),
            ("Picture", pic),
            ("Instructions", self.instructions),
            ("Sets", self.sets),
            ("Repetitions", self.reps),
            ("Hold (s)", self.hold),
            ("Longest hold (s)", self.hold_max),
            ("Timed (text)", self.duration),
            ("", self.per_side),
            ("How often", self.frequency),
            ("Source / note", self.source),
        ):
            form.addRow(label, w)
        buttons = QHBoxLayout()
        for text, slot in (
            ("New", self._new),
            ("Save changes", self._save_current),
            ("Remove", self._remove),
            ("Restore shipped exercises", self._restore),
            ("Close", self.accept),
        ):
            b = QPushButton(text)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        top = QHBoxLayout()
        top.addWidget(self.list, 1)
        top.addLayout(form, 2)
        layout = QVBoxLayout(self)
        note = QLabel(
            "Evidence for specific stretches is weak: adapt the pictures, instructions and doses "
            "to your clinic. Shipped exercises can be edited or hidden and restored later."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addLayout(top)
        layout.addLayout(buttons)
        self._exercises: list[Exercise] = []
        self._editing_new = False
        self._refresh()
        self.resize(900, 620)

    def _refresh(self, select_id: str | None = None) -> None:
        self._exercises = self.library.exercises()
        self.list.blockSignals(True)
        self.list.clear()
        for e in self._exercises:
            item = QListWidgetItem(
                QIcon(_picture_pixmap(self._pic(e), QSize(144, 96), e.name)), e.name
            )
            self.list.addItem(item)
        self.list.blockSignals(False)
        ids = [e.id for e in self._exercises]
        self.list.setCurrentRow(ids.index(select_id) if select_id in ids else 0 if ids else -1)
        self._show(self.list.currentRow())

    def _pic(self, e: Exercise) -> str | None:
        p = self.library.picture_path(e)
        return str(p) if p else None

    def _show(self, row: int) -> None:
        self._editing_new = False
        e = self._exercises[row] if 0 <= row < len(self._exercises) else Exercise(id="", name="")
        self.name.setText(e.name)
        self.category.setCurrentText(e.category)
        self.instructions.setPlainText(e.instructions)
        self.picture_name = e.picture
        self._show_picture(self._pic(e) if e.picture else None, e.name)
        d = e.dose
        for spin, v in (
            (self.sets, d.sets),
            (self.reps, d.reps),
            (self.hold, d.hold_s),
            (self.hold_max, d.hold_max_s),
        ):
            spin.setValue(v or 0)
        self.duration.setText(d.duration)
        self.per_side.setChecked(d.per_side)
        self.frequency.setText(d.frequency)
        self.source.setText(e.source)

    def _show_picture(self, path: str | None, name: str) -> None:
        self.picture.setPixmap(_picture_pixmap(path, QSize(240, 160), name or "New exercise"))

    def _form_exercise(self, base: Exercise) -> Exercise:
        dose = Dose(
            sets=self.sets.value() or None,
            reps=self.reps.value() or None,
            hold_s=self.hold.value() or None,
            hold_max_s=self.hold_max.value() or None,
            duration=self.duration.text().strip(),
            per_side=self.per_side.isChecked(),
            frequency=self.frequency.text().strip(),
        )
        return replace(
            base,
            name=self.name.text().strip(),
            category=self.category.currentText().strip() or "other",
            instructions=self.instructions.toPlainText().strip(),
            picture=self.picture_name,
            dose=dose,
            source=self.source.text().strip(),
        )

    def _new(self) -> None:
        self.list.setCurrentRow(-1)
        self._show(-1)
        self._editing_new = True
        self.name.setFocus()

    def _save_current(self) -> None:
        row = self.list.currentRow()
        try:
            if self._editing_new or not (0 <= row < len(self._exercises)):
                ex = self.library.add(self._form_exercise(Exercise(id="", name="")))
            else:
                ex = self._form_exercise(self._exercises[row])
                self.library.update(ex)
            self.library.save()
        except ExerciseLibraryError as e:
            QMessageBox.warning(self, "Exercise library", str(e))
            return
        self._refresh(ex.id)

    def _remove(self) -> None:
        row = self.list.currentRow()
        if not (0 <= row < len(self._exercises)):
            return
        e = self._exercises[row]
        try:
            self.library.remove(e.id)
            self.library.save()
        except ExerciseLibraryError as err:
            QMessageBox.warning(self, "Exercise library", str(err))
            return
        self._refresh()

    def _restore(self) -> None:
        try:
            for e in self.library.hidden_starters():
                self.library.restore_starter(e.id)
            self.library.save()
        except ExerciseLibraryError as err:
            QMessageBox.warning(self, "Exercise library", str(err))
            return
        self._refresh()

    def _choose_picture(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a picture", "", "Pictures (*.svg *.png *.jpg *.jpeg)"
        )
        if not path:
            return
        try:
            self.picture_name = self.library.import_picture(path)
        except ExerciseLibraryError as e:
            QMessageBox.warning(self, "Exercise library", str(e))
            return
        self._show_picture(path, self.name.text())
