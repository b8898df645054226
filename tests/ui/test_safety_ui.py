"""Safety UI: menus, backup/restore dialog, sign-in, idle lock, audit view, start-up recovery."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog

from app.clinic import open_clinic
from app.records.patients import PatientData, create_patient
from app.safety import accounts, audit
from app.safety import backup as bk


def _patients(clinic, *names: str) -> list[int]:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        return [create_patient(s, PatientData(full_name=n)).id for n in names]


def _texts(menu) -> list[str]:  # type: ignore[no-untyped-def]
    return [a.text().replace("&", "") for a in menu.actions() if not a.isSeparator()]


def test_safety_menu_adds_backup_restore_audit(main_window, clinic) -> None:  # type: ignore[no-untyped-def]
    from ui.backup_dialog import add_safety_menu

    controls = add_safety_menu(main_window)
    from PySide6.QtWidgets import QMenu

    menus = {m.title().replace("&", ""): m for m in main_window.menuBar().findChildren(QMenu)}
    order = [a.text().replace("&", "") for a in main_window.menuBar().actions()]
    assert "Back up now" in _texts(menus["File"]) and "Restore backup…" in _texts(menus["File"])
    assert _texts(menus["File"])[-1] == "Quit"
    assert _texts(menus["Tools"]) == ["Audit trail…", "Clinician accounts…"]
    assert order[-1] == "Help" and "Tools" in order
    controls.actions["backup"].trigger()
    assert len(bk.list_backups(clinic.folder.backups)) == 1
    assert controls.backup_timer.isActive()


def test_restore_dialog_shows_contents_and_restores(qtbot, main_window, clinic) -> None:  # type: ignore[no-untyped-def]
    from ui.backup_dialog import RestoreDialog, _after_restore

    _patients(clinic, "Ana Ruiz", "Ben Ode")
    bk.backup_now(clinic)
    _patients(clinic, "Cara Lee")
    main_window.reload_patients()
    assert main_window.patient_list.model.rowCount() == 3
    dialog = RestoreDialog(clinic, main_window)
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 1
    assert "2 patients, 0 visits, 0 recordings" in dialog.list.item(0).text()
    dialog._restore()
    assert dialog.result() == QDialog.DialogCode.Accepted
    _after_restore(main_window)
    assert main_window.patient_list.model.rowCount() == 2
    assert dialog.kept is not None and Path(str(dialog.kept)).is_file()


def test_sign_in_dialog_refuses_a_wrong_password(qtbot, clinic) -> None:  # type: ignore[no-untyped-def]
    from ui.sign_in import SignInDialog, maybe_sign_in

    assert maybe_sign_in(clinic) is None  # no accounts: no window at all
    with clinic.db.session() as s:
        accounts.create_account(s, "Dr Admin", "correct horse", role="admin")
    dialog = SignInDialog(clinic)
    qtbot.addWidget(dialog)
    assert dialog.name.currentText() == "Dr Admin"
    dialog.password.setText("wrong guess")
    dialog._try_accept()
    assert dialog.error.isVisibleTo(dialog) and "not right" in dialog.error.text()
    assert dialog.password.text() == ""
    dialog.password.setText("correct horse")
    dialog._try_accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert clinic.db.clinician_id == dialog.clinician.id  # type: ignore[union-attr]


def test_idle_lock_signs_out_and_back_in(qtbot, main_window, clinic) -> None:  # type: ignore[no-untyped-def]
    from ui.sign_in import IdleLock

    with clinic.db.session() as s:
        accounts.create_account(s, "Sam Physio", "battery staple")
    accounts.sign_in(clinic.db, "Sam Physio", "battery staple")
    clinic.settings.extra["idle_lock_minutes"] = 1
    now = [0.0]
    lock = IdleLock(main_window, clinic, clock=lambda: now[0])
    now[0] = 59
    lock.check()
    assert lock.dialog is None
    now[0] = 61
    lock.check()
    assert lock.dialog is not None and clinic.db.clinician_id is None
    assert not main_window.centralWidget().isVisible()
    lock.dialog.password.setText("battery staple")
    lock.dialog._try_accept()
    assert lock.dialog is None and clinic.db.clinician_id is not None
    assert main_window.centralWidget().isVisible()
    with clinic.db.session() as s:
        assert "lock" in [r.action for r in audit.entries(s)]


def test_audit_view_filters_and_exports_without_names(qtbot, clinic, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ui.audit_view import AuditDialog, open_audit_trail

    a, b = _patients(clinic, "Zebedee Quixote", "Ana Ruiz")
    with clinic.db.session() as s:
        audit.record(s, "print", a, detail="home program PDF")
    dialog = open_audit_trail(clinic)  # sign-in not in use: the practice administers itself
    assert isinstance(dialog, AuditDialog)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 3
    dialog.patient.setText(str(a))
    dialog.reload()
    assert dialog.table.rowCount() == 2
    assert "Zebedee Quixote" in dialog.table.item(0, 2).text()  # shown to the administrator
    out = dialog.export(str(tmp_path / "audit.csv"))
    assert out is not None
    text = out.read_text(encoding="utf-8-sig")
    assert "Zebedee" not in text
    assert [r["action"] for r in csv.DictReader(text.splitlines())] == ["print", "create"]


def test_audit_view_is_for_administrators_only(qtbot, clinic, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ui import audit_view

    with clinic.db.session() as s:
        accounts.create_account(s, "Dr Admin", "correct horse", role="admin")
        accounts.create_account(s, "Sam Physio", "battery staple")
    accounts.sign_in(clinic.db, "Sam Physio", "battery staple")
    told = []
    monkeypatch.setattr(audit_view.QMessageBox, "information", lambda *a: told.append(a[2]))
    assert audit_view.open_audit_trail(clinic) is None
    assert "administrator" in told[0]


def _corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for p in range(1, len(data) // 4096):
        data[p * 4096 + 8 : p * 4096 + 3000] = b"\xa5" * 2992
    path.write_bytes(bytes(data))


def test_start_up_offers_the_newest_backup_when_the_database_is_damaged(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ui import backup_dialog

    clinic = open_clinic()
    _patients(clinic, "Ana Ruiz", "Ben Ode")
    bk.backup_now(clinic)
    folder = clinic.folder
    clinic.close()
    _corrupt(folder.database)
    asked: list[str] = []
    monkeypatch.setattr(backup_dialog, "_ask_restore", lambda m: asked.append(m) or True)
    monkeypatch.setattr(backup_dialog.QMessageBox, "information", lambda *a: None)
    clinic = backup_dialog.open_clinic_with_recovery()
    assert asked and "backup" in asked[0].lower()
    assert clinic is not None
    from app.records.patients import list_patients

    with clinic.db.session() as s:
        assert [r.full_name for r in list_patients(s)] == ["Ana Ruiz", "Ben Ode"]
    clinic.close()


def test_start_up_quits_when_the_clinician_declines(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ui import backup_dialog

    clinic = open_clinic()
    bk.backup_now(clinic)
    folder = clinic.folder
    clinic.close()
    _corrupt(folder.database)
    before = folder.database.read_bytes()
    monkeypatch.setattr(backup_dialog, "_ask_restore", lambda m: False)
    assert backup_dialog.open_clinic_with_recovery() is None
    assert folder.database.read_bytes() == before  # nothing changed


@pytest.mark.parametrize("role", ["admin"])
def test_accounts_dialog_first_account_becomes_admin(qtbot, clinic, monkeypatch, role) -> None:  # type: ignore[no-untyped-def]
    from ui import sign_in

    monkeypatch.setattr(sign_in.QMessageBox, "information", lambda *a: None)
    dialog = sign_in.AccountsDialog(clinic)
    qtbot.addWidget(dialog)
    dialog.name.setText("Dr First")
    dialog.password.setText("short")
    dialog._save()
    assert "at least" in dialog.error.text()
    dialog.name.setText("Dr First")
    dialog.password.setText("long enough pw")
    dialog.role.setCurrentText("clinician")
    dialog._save()
    assert dialog.list.item(0).text() == f"Dr First — {role}, password set"


def test_after_a_restore_the_message_names_videos_that_belong_to_no_visit(
    qtbot, main_window, clinic, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from ui import backup_dialog

    _patients(clinic, "Ana Ruiz")
    bk.backup_now(clinic)
    loose = clinic.videos_root / "p" / "v" / "run after the backup.mkv"
    loose.parent.mkdir(parents=True)
    loose.write_bytes(b"video")
    told: list[str] = []
    monkeypatch.setattr(backup_dialog.RestoreDialog, "exec", lambda self: self._restore() or self.result())
    monkeypatch.setattr(
        backup_dialog.QMessageBox, "information", lambda _p, _t, text: told.append(text)
    )
    assert backup_dialog.restore_backup(main_window, clinic)
    assert len(told) == 1 and "backup was restored" in told[0]
    assert "1 video in the videos folder belongs to no visit" in told[0]
    assert "run after the backup.mkv" in told[0] and str(clinic.videos_root) in told[0]
    assert loose.read_bytes() == b"video"
