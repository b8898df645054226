"""The clinic's clinician list in Settings: add, rename, deactivate — no passwords needed.

Sign-in is a separate choice (Tools ▸ Clinician accounts…): a clinician listed here is offered
for visits, and only a clinician given a password there turns sign-in on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QWidget,
)

from app.safety import accounts

if TYPE_CHECKING:
    from app.clinic import Clinic


class ClinicianListBox(QGroupBox):
    """Edits go to the database at once (each one transaction); ``changed`` says so."""

    changed = Signal()

    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        super().__init__("Clinicians", parent)
        self.clinic = clinic
        self.list = QListWidget()
        self.list.setMaximumHeight(120)
        self.name = QLineEdit()
        self.name.setPlaceholderText("Name, e.g. Sam Okafor (PT)")
        self.add_button = QPushButton("Add")
        self.rename_button = QPushButton("Rename to this name")
        self.active_button = QPushButton("Deactivate")
        self.note = QLabel(
            "Clinicians are offered when a visit is recorded. No password is needed; sign-in "
            "stays off until someone is given a password in Tools ▸ Clinician accounts."
        )
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        grid = QGridLayout(self)
        grid.addWidget(self.list, 0, 0, 1, 3)
        grid.addWidget(self.name, 1, 0)
        grid.addWidget(self.add_button, 1, 1)
        grid.addWidget(self.rename_button, 1, 2)
        grid.addWidget(self.active_button, 2, 2)
        grid.addWidget(self.error, 3, 0, 1, 3)
        grid.addWidget(self.note, 4, 0, 1, 3)
        self.add_button.clicked.connect(self.add)
        self.rename_button.clicked.connect(self.rename)
        self.active_button.clicked.connect(self.toggle_active)
        self.name.returnPressed.connect(self.add)
        self.list.currentItemChanged.connect(self._selection_changed)
        self.editable = accounts.is_admin(clinic.db)
        if not self.editable:
            self.note.setText(
                "Only an administrator can change the clinician list while sign-in is on."
            )
        self.reload()

    def reload(self, select_id: int | None = None) -> None:
        self.list.clear()
        with self.clinic.db.session() as s:
            for c in accounts.list_clinicians(s):
                bits = [c.name]
                if not c.active:
                    bits.append("(inactive)")
                if c.password_hash:
                    bits.append("· signs in")
                item = QListWidgetItem(" ".join(bits))
                item.setData(Qt.ItemDataRole.UserRole, (c.id, c.active, c.name))
                if not c.active:
                    item.setForeground(Qt.GlobalColor.gray)
                self.list.addItem(item)
                if c.id == select_id:
                    self.list.setCurrentItem(item)
        self._selection_changed()

    def selected(self) -> tuple[int, bool, str] | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _selection_changed(self, *_args: object) -> None:
        sel = self.selected()
        for w in (self.name, self.add_button):
            w.setEnabled(self.editable)
        self.rename_button.setEnabled(self.editable and sel is not None)
        self.active_button.setEnabled(self.editable and sel is not None)
        self.active_button.setText("Reactivate" if sel is not None and not sel[1] else "Deactivate")

    def _run(self, change, select_id: int | None = None) -> bool:  # type: ignore[no-untyped-def]
        try:
            with self.clinic.db.session() as s:
                clinician = change(s)
                select_id = clinician.id
        except accounts.SignInError as exc:
            self.error.setText(exc.message)
            self.error.show()
            return False
        self.error.hide()
        self.reload(select_id)
        self.changed.emit()
        return True

    def add(self) -> bool:
        name = self.name.text()
        if self._run(lambda s: accounts.add_clinician(s, name)):
            self.name.clear()
            return True
        return False

    def rename(self) -> bool:
        sel = self.selected()
        if sel is None:
            return False
        name = self.name.text()
        if self._run(lambda s: accounts.rename_clinician(s, sel[0], name)):
            self.name.clear()
            return True
        return False

    def toggle_active(self) -> bool:
        sel = self.selected()
        if sel is None:
            return False
        return self._run(lambda s: accounts.set_clinician_active(s, sel[0], not sel[1]))
