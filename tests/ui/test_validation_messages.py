"""Refusals reach the clinician as messages: a settings file the program must not guess around
at start-up, and a prescription with an impossible cadence."""

from __future__ import annotations

import math

from app.paths import data_folder
from app.records.patients import PatientData, create_patient
from app.records.visits import VisitData, create_visit


def test_start_up_explains_a_bad_database_url(qtbot, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    from ui.backup_dialog import open_clinic_with_recovery

    data_folder().ensure().settings_file.write_text(
        '{"database_url": "postgres://stride@server/stride"}', encoding="utf-8"
    )
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: shown.append(a[2]))
    monkeypatch.setattr(QMessageBox, "exec", lambda *a, **k: 0)  # no restore offer expected
    assert open_clinic_with_recovery() is None
    assert len(shown) == 1 and "“database_url”" in shown[0] and "postgresql://" in shown[0]
    assert "restore" not in shown[0].lower()  # a typing error is not a damaged database
    assert "database_url" in capsys.readouterr().err


def test_prescription_with_an_impossible_cadence_is_not_saved(qtbot, clinic, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    from ui.prescription_tab import PrescriptionTab

    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Ana Ruiz")).id
        vid = create_visit(s, pid, VisitData()).id
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    tab = PrescriptionTab(clinic)
    qtbot.addWidget(tab)
    tab.set_visit(vid)
    saved: list[int] = []
    tab.saved.connect(saved.append)
    tab._save({"target_spm": math.inf, "baseline_spm": 160})
    tab._save({"target_spm": 5000, "baseline_spm": 160})
    assert saved == [] and len(shown) == 2
    assert "steps per minute" in shown[0] or "number" in shown[0]
    assert "5000" in shown[1]
