"""Start-up and safety messages for database faults (issue 13): a locked database is never
offered a restore, an emptied one is, failed backups reach the screen, the audit view and the
banner say whether the trail is intact, and stray database errors become plain messages."""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

import pytest

from app.clinic import open_clinic
from app.db import database as dbmod
from app.db import errors
from app.db.database import DatabaseUnavailable
from app.records.patients import PatientData, create_patient, list_patients
from app.safety import audit
from app.safety import backup as bk


def _patients(clinic, *names: str) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        for n in names:
            create_patient(s, PatientData(full_name=n))


def _count(path: Path) -> int:
    conn = sqlite3.connect(path)
    n = conn.execute("SELECT count(*) FROM patient").fetchone()[0]
    conn.close()
    return int(n)


@pytest.fixture
def seven_patients():  # type: ignore[no-untyped-def]
    clinic = open_clinic()
    _patients(clinic, *(f"Patient {i}" for i in range(7)))
    bk.backup_now(clinic)
    folder = clinic.folder
    clinic.close()
    return folder


def test_a_locked_database_at_start_up_is_never_offered_a_restore(
    qtbot, monkeypatch, seven_patients
) -> None:  # type: ignore[no-untyped-def]
    from ui import backup_dialog

    monkeypatch.setattr(dbmod, "LOCK_WAIT_S", 0.3)
    holder = sqlite3.connect(seven_patients.database, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    asked_restore: list[str] = []
    asked_retry: list[str] = []
    monkeypatch.setattr(backup_dialog, "_ask_restore", lambda m: asked_restore.append(m) or True)
    monkeypatch.setattr(backup_dialog, "_ask_retry", lambda m: asked_retry.append(m) and False)
    try:
        assert backup_dialog.open_clinic_with_recovery() is None
    finally:
        holder.rollback()
        holder.close()
    assert asked_restore == []
    assert len(asked_retry) == 1
    assert "another program" in asked_retry[0] and "second copy" in asked_retry[0]
    assert _count(seven_patients.database) == 7  # nothing rolled back


def test_try_again_after_the_other_program_closed_opens_the_clinic(
    qtbot, monkeypatch, seven_patients
) -> None:  # type: ignore[no-untyped-def]
    from ui import backup_dialog

    monkeypatch.setattr(dbmod, "LOCK_WAIT_S", 0.3)
    holder = sqlite3.connect(seven_patients.database, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")

    def close_other_program(_message: str) -> bool:
        holder.rollback()
        holder.close()
        return True

    monkeypatch.setattr(backup_dialog, "_ask_retry", close_other_program)
    monkeypatch.setattr(backup_dialog, "_ask_restore", lambda m: pytest.fail("restore offered"))
    clinic = backup_dialog.open_clinic_with_recovery()
    assert clinic is not None
    with clinic.db.session() as s:
        assert len(list_patients(s)) == 7
    clinic.close()


def test_an_emptied_database_is_called_damaged_and_the_newest_backup_offered(
    qtbot, monkeypatch, seven_patients
) -> None:  # type: ignore[no-untyped-def]
    from ui import backup_dialog

    for suffix in ("-wal", "-shm"):
        Path(f"{seven_patients.database}{suffix}").unlink(missing_ok=True)
    seven_patients.database.write_bytes(b"")
    asked: list[str] = []
    monkeypatch.setattr(backup_dialog, "_ask_restore", lambda m: asked.append(m) or True)
    monkeypatch.setattr(backup_dialog.QMessageBox, "information", lambda *a: None)
    clinic = backup_dialog.open_clinic_with_recovery()
    assert asked and "empty" in asked[0] and "restore the newest backup" in asked[0].lower()
    assert clinic is not None
    with clinic.db.session() as s:
        assert len(list_patients(s)) == 7
    clinic.close()


def test_declining_leaves_the_empty_file_and_opens_no_empty_clinic(
    qtbot, monkeypatch, seven_patients
) -> None:  # type: ignore[no-untyped-def]
    from ui import backup_dialog

    for suffix in ("-wal", "-shm"):
        Path(f"{seven_patients.database}{suffix}").unlink(missing_ok=True)
    seven_patients.database.write_bytes(b"")
    monkeypatch.setattr(backup_dialog, "_ask_restore", lambda m: False)
    assert backup_dialog.open_clinic_with_recovery() is None
    assert seven_patients.database.stat().st_size == 0


def test_a_failed_start_up_backup_is_shown_in_the_window(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ui import backup_dialog
    from ui.main_window import MainWindow

    real = shutil.disk_usage
    monkeypatch.setattr(
        bk.shutil, "disk_usage", lambda p: type(real(p))(real(p).total, real(p).total, 1000)
    )
    clinic = backup_dialog.open_clinic_with_recovery()
    assert clinic is not None
    window = MainWindow(clinic)
    qtbot.addWidget(window)
    controls = backup_dialog.add_safety_menu(window)
    window.show()
    assert controls.banner.isVisible()
    assert "disk is full" in controls.banner.label.text()
    assert "automatic backup was not made" in controls.banner.label.text()
    controls.banner.dismiss.click()
    assert not controls.banner.isVisible()
    clinic.close()


def test_back_up_now_on_a_full_disk_says_so(qtbot, main_window, clinic, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ui import backup_dialog

    def full(*_a, **_k):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(bk.os, "fsync", full)
    told: list[str] = []
    monkeypatch.setattr(backup_dialog.QMessageBox, "warning", lambda *a: told.append(a[2]))
    assert backup_dialog.back_up_now(clinic, main_window) is None
    assert told and "disk is full" in told[0] and "damaged" not in told[0]
    assert bk.list_backups(clinic.folder.backups) == []


def test_a_changed_audit_trail_is_shown_at_start_up_and_in_the_audit_view(
    qtbot, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from ui import backup_dialog
    from ui.audit_view import AuditDialog
    from ui.main_window import MainWindow

    clinic = open_clinic()
    _patients(clinic, "Ana Ruiz", "Ben Ode", "Cara Lee")
    audit.log_action(clinic.db, "sign_in_failed", detail="wrong password")
    dialog = AuditDialog(clinic)
    qtbot.addWidget(dialog)
    assert dialog.chain.text() == "Audit trail intact (4 entries)."
    path = clinic.folder.database
    clinic.close()
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM audit_log WHERE action = 'sign_in_failed' OR id = 2")
    conn.commit()
    conn.close()
    clinic = backup_dialog.open_clinic_with_recovery()
    assert clinic is not None  # a warning, not a block
    window = MainWindow(clinic)
    qtbot.addWidget(window)
    controls = backup_dialog.add_safety_menu(window)
    window.show()
    assert "changed or removed after entry #1" in controls.banner.label.text()
    dialog = AuditDialog(clinic)
    qtbot.addWidget(dialog)
    assert "changed or removed after entry #1" in dialog.chain.text()
    clinic.close()


def test_a_database_error_escaping_a_slot_becomes_a_plain_message(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import sys

    from sqlalchemy import exc as sa_exc

    from ui import db_errors

    told: list[str] = []
    monkeypatch.setattr(db_errors.QMessageBox, "warning", lambda *a: told.append(a[2]))
    passed: list[object] = []
    monkeypatch.setattr(sys, "excepthook", lambda *a: passed.append(a[1]))
    hook = db_errors.install_excepthook()
    orig = sqlite3.OperationalError("attempt to write a readonly database")
    orig.sqlite_errorcode = 8  # type: ignore[attr-defined]
    exc = DatabaseUnavailable(errors.READ_ONLY, sa_exc.OperationalError("INSERT", {}, orig))
    hook(type(exc), exc, None)
    assert told and "cannot be written" in told[0]
    other = KeyError("not a database error")
    hook(KeyError, other, None)
    assert passed == [other]  # everything else goes to the previous hook
