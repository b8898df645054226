from __future__ import annotations

from pathlib import Path

from app.settings import Settings
from ui.settings_dialog import ClinicSettingsDialog


def test_clinic_settings_are_saved_once_for_programs(qtbot, clinic, tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG")
    d = ClinicSettingsDialog(clinic)
    qtbot.addWidget(d)
    d.name.setText("Physio Nord")
    d.contact.setPlainText("Hauptstr. 1, Kiel · 0431 123")
    d.logo.setText(str(logo))
    assert d.save()
    saved = Settings.load(clinic.folder.settings_file)
    assert saved.clinic_name == "Physio Nord"
    assert saved.extra["clinic_logo"] == str(logo)


def test_missing_logo_is_refused(qtbot, clinic, monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    d = ClinicSettingsDialog(clinic)
    qtbot.addWidget(d)
    d.logo.setText("/nowhere/logo.png")
    assert not d.save()
    assert "does not exist" in shown[0]


def test_dialog_validates_like_loading(qtbot, clinic, monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    before = clinic.folder.settings_file.read_bytes() if clinic.folder.settings_file.exists() else None
    d = ClinicSettingsDialog(clinic)
    qtbot.addWidget(d)
    d.name.setText("Physio \u202eNord")  # a right-to-left override would print reversed
    assert not d.save()
    assert "clinic_name" in shown[0] and "U+202E" in shown[0]
    after = clinic.folder.settings_file.read_bytes() if clinic.folder.settings_file.exists() else None
    assert after == before  # nothing written
    assert clinic.settings.clinic_name == "Stride Clinic"
