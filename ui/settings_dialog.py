"""Clinic settings, set once per workstation: name, contact and logo for printed programs,
the video memory budget, and the clinic's clinician list (saved in the database at once)."""

from __future__ import annotations

import logging
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.reports.home_program import LOGO_SETTING
from app.settings import Settings
from ui.unsaved import GuardedDialog

if TYPE_CHECKING:
    from app.clinic import Clinic

log = logging.getLogger(__name__)


class ClinicSettingsDialog(GuardedDialog):
    unsaved_what = "the clinic settings"

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
        from ui.settings_clinicians import ClinicianListBox

        self.clinicians = ClinicianListBox(clinic, self)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.clinicians)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Clinic logo", str(Path.home()), "Pictures (*.png *.svg *.jpg *.jpeg)"
        )
        if name:
            self.logo.setText(name)

    def save_changes(self) -> bool:
        return self.save()

    def save(self) -> bool:
        """Check the form with the same rules as loading (app.settings), then write the file."""
        logo = self.logo.text().strip()
        if logo and not Path(logo).is_file():
            QMessageBox.warning(self, "Clinic settings", f"The logo file {logo} does not exist.")
            return False
        st = self.clinic.settings
        candidate = st.to_dict()
        candidate.update(
            clinic_name=self.name.text(),
            clinic_contact=self.contact.toPlainText(),
            video_memory_budget_mb=int(self.budget.value()),
        )
        extra = dict(st.extra)
        if logo:
            extra[LOGO_SETTING] = logo
        else:
            extra.pop(LOGO_SETTING, None)
        candidate["extra"] = extra
        checked = Settings.from_dict(candidate)
        if checked.problems:
            QMessageBox.warning(
                self,
                "Clinic settings",
                "The settings were not saved:\n\n" + "\n".join(str(p) for p in checked.problems),
            )
            return False
        try:
            checked.save(self.clinic.folder.settings_file)
        except OSError as exc:
            QMessageBox.warning(
                self, "Clinic settings", f"The settings could not be saved: {exc.strerror or exc}."
            )
            return False
        for f in fields(Settings):
            setattr(st, f.name, getattr(checked, f.name))  # the open clinic sees the new values
        warning = getattr(self.parent(), "settings_warning", None)
        if isinstance(warning, QLabel):
            warning.hide()  # the file now holds only good values
        self.accept()
        return True


def show_settings_warnings(window: QMainWindow, clinic: Clinic) -> QLabel | None:
    """Tell the clinician, in the main window's status bar, which settings were not used.

    A permanent label (never overwritten by later status messages) with every problem in its
    tooltip, plus a status message naming the keys; each problem is also logged. Returns the
    label, or None when the settings were all fine.
    """
    warnings = clinic.settings_warnings
    if not warnings:
        return None
    for w in warnings:
        log.warning("%s", w)
    keys = ", ".join(p.key for p in clinic.settings.problems if not p.fatal)
    label = QLabel(f"⚠ Settings not used: {keys}")
    label.setObjectName("settingsWarning")
    label.setToolTip(
        "\n".join(warnings)
        + f"\n\nCorrect them in Edit ▸ Clinic settings or in {clinic.folder.settings_file}."
    )
    window.statusBar().addPermanentWidget(label)
    window.statusBar().showMessage(
        f"Some settings were wrong and their defaults are used ({keys}): hover the warning "
        "at the bottom right for details.",
        20_000,
    )
    return label
