"""Clinic settings, set once per workstation: name, contact and logo for printed programs,
and the video memory budget."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.reports.home_program import LOGO_SETTING

if TYPE_CHECKING:
    from app.clinic import Clinic


class ClinicSettingsDialog(QDialog):
    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clinic = clinic
        st = clinic.settings
        self.setWindowTitle("Clinic settings")
        self.setMinimumWidth(520)
        self.name = QLineEdit(st.clinic_name)
        self.contact = QPlainTextEdit(st.clinic_contact)
        self.contact.setFixedHeight(70)
        self.contact.setPlaceholderText("Address, phone, e-mail — printed on every home program")
        self.logo = QLineEdit(str(st.extra.get(LOGO_SETTING) or ""))
        self.logo.setPlaceholderText("PNG or SVG file (optional)")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        logo_row = QHBoxLayout()
        logo_row.addWidget(self.logo, 1)
        logo_row.addWidget(browse)
        self.budget = QSpinBox()
        self.budget.setRange(200, 16000)
        self.budget.setSingleStep(100)
        self.budget.setSuffix(" MB")
        self.budget.setValue(int(st.video_memory_budget_mb))
        self.budget.setToolTip(
            "Memory used to make stepping through a video instant. More memory keeps longer "
            "clips fully cached; less leaves room for other programs."
        )
        form = QFormLayout()
        form.addRow("Clinic name", self.name)
        form.addRow("Contact", self.contact)
        form.addRow("Logo", logo_row)
        form.addRow("Video memory", self.budget)
        note = QLabel(f"Saved in {clinic.folder.settings_file}")
        note.setObjectName("muted")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Clinic logo", str(Path.home()), "Pictures (*.png *.svg *.jpg *.jpeg)"
        )
        if name:
            self.logo.setText(name)

    def save(self) -> bool:
        logo = self.logo.text().strip()
        if logo and not Path(logo).is_file():
            QMessageBox.warning(self, "Clinic settings", f"The logo file {logo} does not exist.")
            return False
        st = self.clinic.settings
        st.clinic_name = self.name.text().strip() or "Stride Clinic"
        st.clinic_contact = self.contact.toPlainText().strip()
        st.video_memory_budget_mb = int(self.budget.value())
        st.extra = dict(st.extra)
        if logo:
            st.extra[LOGO_SETTING] = logo
        else:
            st.extra.pop(LOGO_SETTING, None)
        try:
            st.save(self.clinic.folder.settings_file)
        except OSError as exc:
            QMessageBox.warning(
                self, "Clinic settings", f"The settings could not be saved: {exc.strerror or exc}."
            )
            return False
        self.accept()
        return True
