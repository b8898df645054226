"""Through the main window with a locked or read-only database (issue 13): a plain message,
the form keeps what was typed, the record is still shown, and the program keeps running."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtWidgets import QDialog
from sqlalchemy import event

from app.db import database as dbmod
from app.records.patients import PatientData, create_patient, list_patients
from ui.dialogs import PatientDialog


@pytest.fixture
def typed(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """PatientDialog.exec(): type the values, press Save; remember the dialog for checks."""
    seen: list[PatientDialog] = []
    values: dict[str, str] = {}

    def fake_exec(self) -> int:  # type: ignore[no-untyped-def]
        for name, value in values.items():
            self.fields[name].setText(value)  # type: ignore[attr-defined]
        self._try_accept()
        seen.append(self)
        return int(self.result())

    monkeypatch.setattr(PatientDialog, "exec", fake_exec)
    return values, seen


def _read_only(clinic) -> None:  # type: ignore[no-untyped-def]
    """Every new connection refuses writes (SQLITE_READONLY), like a read-only file would;
    file permissions cannot show it here because the tests may run as root."""
    event.listen(clinic.db.engine, "connect", lambda c, _r: c.execute("PRAGMA query_only = 1"))
    clinic.db.engine.dispose()


def test_saving_a_new_patient_while_another_program_holds_the_database(
    qtbot, main_window, clinic, typed, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 300)
    clinic.db.engine.dispose()  # new connections use the short wait
    values, seen = typed
    values.update({"full_name": "Ingrid Sørensen", "date_of_birth": "1988-06-01"})
    holder = sqlite3.connect(clinic.folder.database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # a second copy in the middle of a save
    try:
        main_window.new_patient()
    finally:
        holder.rollback()
        holder.close()
    dialog = seen[-1]
    assert dialog.result() != QDialog.DialogCode.Accepted  # stays open
    assert dialog.name.text() == "Ingrid Sørensen"  # with what was typed
    assert dialog.error.isVisibleTo(dialog)
    assert "another program" in dialog.error.text() and "try again" in dialog.error.text()
    assert main_window.patient_list.model.rowCount() == 0
    main_window.new_patient()  # the lock is gone: Save works
    assert main_window.patient_list.model.rowCount() == 1


def test_a_read_only_database_still_shows_patients_and_refuses_saves_plainly(
    qtbot, main_window, clinic, typed
) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Lars Berg")).id
    main_window.reload_patients()
    _read_only(clinic)
    main_window.patient_list.select(pid)  # the click that used to raise OperationalError
    assert main_window.patient_view.name.text() == "Lars Berg"
    assert "audit trail" in main_window.statusBar().currentMessage()
    assert "cannot be written" in main_window.statusBar().currentMessage()
    values, seen = typed
    values.update({"full_name": "Ola Nordmann"})
    main_window.new_patient()
    assert seen[-1].result() != QDialog.DialogCode.Accepted
    assert "cannot be written" in seen[-1].error.text()
    assert seen[-1].name.text() == "Ola Nordmann"
    with clinic.db.session() as s:
        assert [r.full_name for r in list_patients(s)] == ["Lars Berg"]


def test_an_unreadable_record_gives_a_message_not_an_empty_traceback(
    qtbot, main_window, clinic, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from ui import db_errors

    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Lars Berg")).id
    main_window.reload_patients()
    main_window.patient_list.table.clearSelection()
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 200)
    clinic.db.engine.dispose()
    told: list[str] = []
    monkeypatch.setattr(db_errors.QMessageBox, "warning", lambda *a: told.append(a[2]))
    holder = sqlite3.connect(clinic.folder.database, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    clinic.db.engine.dispose()
    holder.execute("BEGIN EXCLUSIVE")  # even reading is impossible now
    try:
        main_window._on_patient_selected(pid)
    finally:
        holder.rollback()
        holder.close()
    assert told and "another program" in told[0] and "could not be read" in told[0]
    assert main_window.isVisible()
