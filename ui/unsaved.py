"""One rule for every editor: **ask before leaving with unsaved changes**.

Marking saves as you go (each mark is a single action, journalled at once). Forms are different:
a prescription or an outcome score is only meaningful once the whole form is complete and
valid, so saving half-typed values as you go would store prescriptions nobody chose. So every
form editor (Prescribe, outcome measures, patient and visit dialogs, the home-program editor,
clinic settings) keeps what was typed until the clinician leaves it, and then asks
"Save / Discard / Keep editing". Nothing typed is ever dropped without that question, and
leaving an editor without changes never asks.

:class:`FormSnapshot` reads the state of every input under a widget (line and text edits, spin
boxes, combo boxes, check and radio buttons, date edits, table cells), so "changed" means
"differs from what was loaded", whichever field it is, and a field added later is covered
without touching this module.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDoubleSpinBox,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QTableWidget,
    QTextEdit,
    QWidget,
)


def form_state(root: QWidget) -> tuple[object, ...]:
    """A comparable picture of every input's value under ``root`` (in widget-tree order)."""
    out: list[object] = []
    for w in root.findChildren(QWidget):
        if isinstance(w, QLineEdit):
            if isinstance(w.parent(), (QAbstractSpinBox, QComboBox)):
                continue  # the spin box / combo box itself is read below
            out.append(("line", w.objectName(), w.text()))
        elif isinstance(w, (QPlainTextEdit, QTextEdit)):
            if not w.isReadOnly():
                out.append(("text", w.objectName(), w.toPlainText()))
        elif isinstance(w, QDateTimeEdit):
            out.append(("date", w.objectName(), w.dateTime().toString(Qt.DateFormat.ISODate)))
        elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
            out.append(("spin", w.objectName(), w.value()))
        elif isinstance(w, QComboBox):
            out.append(("combo", w.objectName(), w.currentIndex(), w.currentText()))
        elif isinstance(w, QAbstractButton) and w.isCheckable():
            out.append(("check", w.objectName(), w.isChecked()))
        elif isinstance(w, QTableWidget):
            cells = []
            for r in range(w.rowCount()):
                for c in range(w.columnCount()):
                    item = w.item(r, c)
                    if item is not None:
                        check = (
                            item.checkState().value
                            if item.flags() & Qt.ItemFlag.ItemIsUserCheckable
                            else None
                        )
                        cells.append((r, c, item.text(), check))
            out.append(("table", w.objectName(), w.rowCount(), tuple(cells)))
    return tuple(out)


class FormSnapshot:
    """Remembers a form's loaded state; :attr:`dirty` says whether anything was changed since."""

    def __init__(self, root: QWidget) -> None:
        self.root = root
        self._clean: tuple[object, ...] = form_state(root)

    def mark_clean(self) -> None:
        """Call after loading or saving: the current values are what is stored."""
        self._clean = form_state(self.root)

    @property
    def dirty(self) -> bool:
        return form_state(self.root) != self._clean


class Leave(Enum):
    SAVE = "save"
    DISCARD = "discard"
    STAY = "stay"


#: Tests replace this to answer the question without a modal box.
Asker = Callable[[QWidget | None, str, bool], Leave]


def ask_leave(parent: QWidget | None, what: str, can_stay: bool = True) -> Leave:
    """Ask "Save the changes to <what>?" with Save / Discard (/ Keep editing)."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Unsaved changes",
        f"You changed {what} and have not saved it yet. Save the changes?",
        parent=parent,
    )
    save = box.addButton(QMessageBox.StandardButton.Save)
    discard = box.addButton("Discard changes", QMessageBox.ButtonRole.DestructiveRole)
    stay = box.addButton("Keep editing", QMessageBox.ButtonRole.RejectRole) if can_stay else None
    box.setDefaultButton(save)
    box.exec()
    clicked = box.clickedButton()
    if clicked is save:
        return Leave.SAVE
    if clicked is discard or stay is None:
        return Leave.DISCARD
    return Leave.STAY


#: The function every editor asks with (module-level so one test hook covers all editors).
asker: Asker = ask_leave


class GuardedDialog(QDialog):
    """A dialog that asks before Cancel, Esc or the window's close button drops changes.

    Subclasses call :meth:`guard` once their fields are filled, name what is edited in
    ``unsaved_what``, and implement :meth:`save_changes` (True when saved; the dialog then
    closes as accepted). OK / Save buttons keep calling ``accept`` as before.
    """

    unsaved_what = "this form"

    def guard(self) -> None:
        """Take the current values as the saved state (called on first show if not before)."""
        self._snapshot = FormSnapshot(self)

    def showEvent(self, event) -> None:  # noqa: N802
        if getattr(self, "_snapshot", None) is None:
            self.guard()  # after the subclass filled its fields
        super().showEvent(event)

    @property
    def has_unsaved_changes(self) -> bool:
        snap = getattr(self, "_snapshot", None)
        return snap is not None and snap.dirty and self.result() != QDialog.DialogCode.Accepted

    def save_changes(self) -> bool:
        """Validate and store; default: whatever OK does (``accept``)."""
        self.accept()
        return self.result() == QDialog.DialogCode.Accepted

    def _may_leave(self) -> bool:
        if not self.has_unsaved_changes:
            return True
        answer = asker(self, self.unsaved_what, True)
        if answer is Leave.SAVE:
            return self.save_changes()
        return answer is Leave.DISCARD

    def reject(self) -> None:
        # Cancel, Esc and the window's close button (QDialog.closeEvent calls reject).
        if self._may_leave():
            super().reject()
