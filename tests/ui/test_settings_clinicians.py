"""Settings ▸ Clinicians: a list independent of sign-in; the accounts dialog warns first."""

from __future__ import annotations

from app.records import visits as visit_records
from app.safety import accounts
from ui.settings_dialog import ClinicSettingsDialog


def test_settings_add_rename_deactivate_a_clinician_without_turning_on_sign_in(
    qtbot, clinic
) -> None:  # type: ignore[no-untyped-def]
    dialog = ClinicSettingsDialog(clinic)
    qtbot.addWidget(dialog)
    box = dialog.clinicians
    assert box.list.count() == 0 and box.add_button.isEnabled()
    box.name.setText("Sam Okafor")
    assert box.add()
    box.name.setText("Lea Brandt")
    assert box.add()
    assert [box.list.item(i).text() for i in range(box.list.count())] == [
        "Lea Brandt",
        "Sam Okafor",
    ]
    box.list.setCurrentRow(1)
    box.name.setText("Sam Okafor (PT)")
    assert box.rename()
    box.list.setCurrentRow(0)  # Lea
    assert box.active_button.text() == "Deactivate"
    assert box.toggle_active()
    assert box.list.item(1).text() == "Lea Brandt (inactive)"
    box.name.setText("Sam Okafor (PT)")
    assert not box.add() and "already" in box.error.text()
    with clinic.db.session() as s:
        assert [c.name for c in visit_records.clinicians(s)] == ["Sam Okafor (PT)"]
        assert not accounts.accounts_enabled(s)


def test_accounts_dialog_warns_that_a_password_turns_sign_in_on_before_the_first(
    qtbot, clinic, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from ui import sign_in

    monkeypatch.setattr(sign_in.QMessageBox, "information", lambda *a: None)
    dialog = sign_in.AccountsDialog(clinic)
    qtbot.addWidget(dialog)
    assert not dialog.sign_in_warning.isHidden()
    assert "turns it on" in dialog.sign_in_warning.text()
    assert "turn on sign-in" in dialog.save.text()
    dialog.name.setText("Dr First")
    dialog.password.setText("long enough pw")
    dialog._save()
    assert dialog.sign_in_warning.isHidden()  # sign-in is on now: nothing left to warn about
