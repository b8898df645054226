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
