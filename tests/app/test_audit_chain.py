"""The tamper-evident audit trail (issue 13, security): edits, deletions, re-hashing without the
key, tail truncation, legacy entries sealed once, restores that are not tampering."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.clinic import open_clinic
from app.db.database import open_database, sqlite_url
from app.paths import DataFolder
from app.records.patients import PatientData, create_patient
from app.safety import audit, audit_chain
from app.safety import backup as bk


def _write_entries(db, n: int) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        for i in range(n):
            create_patient(s, PatientData(full_name=f"Patient {i}"))
    for i in range(n):
        audit.log_action(db, "print", i + 1, detail="home program PDF")


def _sql(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    for st in statements:
        conn.execute(st)
    conn.commit()
    conn.close()


@pytest.fixture
def folder(tmp_path: Path) -> DataFolder:
    clinic = open_clinic(folder=DataFolder(tmp_path / "home"))
    _write_entries(clinic.db, 10)  # 20 entries: 10 creates, 10 prints
    folder = clinic.folder
    clinic.close()
    return folder


def _reopen(folder: DataFolder):  # type: ignore[no-untyped-def]
    clinic = open_clinic(folder=folder)
    report = clinic.audit_report
    warnings = list(clinic.warnings)
    clinic.close()
    return report, warnings


def test_an_untouched_trail_is_intact(folder: DataFolder) -> None:
    report, warnings = _reopen(folder)
    assert report.intact and report.entries == 20
    assert report.describe() == "Audit trail intact (20 entries)."
    assert warnings == []
    key = audit_chain.key_file(folder.database)
    assert key.stat().st_mode & 0o777 == 0o600  # owner-only, outside the database


def test_an_edited_entry_is_detected_with_the_last_good_one(folder: DataFolder) -> None:
    _sql(folder.database, "UPDATE audit_log SET action = 'view' WHERE id = 12")
    report, warnings = _reopen(folder)
    assert not report.intact and report.good_until == 11
    assert "after entry #11" in report.describe()
    assert warnings and "changed or removed" in warnings[0]


def test_deleted_failed_sign_ins_in_the_middle_are_detected(folder: DataFolder) -> None:
    _sql(folder.database, "DELETE FROM audit_log WHERE id IN (5, 6, 7)")
    report, _ = _reopen(folder)
    assert not report.intact and report.good_until == 4


def test_deleting_the_newest_entries_is_detected(folder: DataFolder) -> None:
    _sql(folder.database, "DELETE FROM audit_log WHERE id > 14")
    report, _ = _reopen(folder)
    assert not report.intact and report.good_until == 14
    assert "newest entries are missing" in report.describe()


def test_recomputing_the_chain_without_the_key_is_detected(folder: DataFolder) -> None:
    """Someone with only the database file re-hashes the trail after deleting entries."""
    _sql(folder.database, "DELETE FROM audit_log WHERE id = 3")
    conn = sqlite3.connect(folder.database)
    conn.row_factory = sqlite3.Row
    previous = audit_chain.GENESIS
    for row in conn.execute("SELECT * FROM audit_log ORDER BY id").fetchall():
        fields = dict(row)
        fields["at"] = dt.datetime.fromisoformat(row["at"])
        # What an editor without the key can do: the documented plain SHA-256 chain.
        digest = audit_chain.entry_hash(b"", previous, SimpleNamespace(**fields))
        conn.execute("UPDATE audit_log SET chain_hash = ? WHERE id = ?", (digest, row["id"]))
        previous = digest
    conn.commit()
    conn.close()
    report, _ = _reopen(folder)
    assert not report.intact and report.good_until == 0


def test_removing_every_hash_is_not_mistaken_for_a_legacy_trail(folder: DataFolder) -> None:
    _sql(folder.database, "UPDATE audit_log SET chain_hash = NULL")
    report, warnings = _reopen(folder)
    assert not report.intact and report.sealed_now == 0
    assert not any("sealed" in w for w in warnings)


def test_a_legacy_trail_is_sealed_once_and_said_so(tmp_path: Path) -> None:
    folder = DataFolder(tmp_path / "home").ensure()
    db = open_database(sqlite_url(folder.database))
    db.downgrade("0003")  # as written by the previous version: no chain_hash column
    db.dispose()
    _sql(
        folder.database,
        *(
            "INSERT INTO audit_log (at, action, patient_id, detail, workstation) "
            f"VALUES ('2026-11-0{i} 10:00:00.000000', 'view', {i}, NULL, 'desk')"
            for i in range(1, 8)
        ),
    )
    for f in (audit_chain.key_file(folder.database), audit_chain.head_file(folder.database)):
        f.unlink(missing_ok=True)
    report, warnings = _reopen(folder)
    assert report.intact and report.sealed_now == 7 and report.entries == 7
    assert any("7 earlier entries were sealed" in w for w in warnings)
    report, warnings = _reopen(folder)  # once only
    assert report.intact and report.sealed_now == 0 and warnings == []


def test_restoring_a_backup_is_not_reported_as_tampering(folder: DataFolder) -> None:
    clinic = open_clinic(folder=folder)
    info = bk.backup_now(clinic)
    for _ in range(3):
        audit.log_action(clinic.db, "export", 1, detail="history CSV")
    bk.restore_into_clinic(clinic, info.path)  # the trail now legitimately ends earlier
    assert audit.verify(clinic.db).intact
    clinic.close()
    report, warnings = _reopen(folder)
    assert report.intact and warnings == []


def test_a_rolled_back_entry_never_becomes_the_head(folder: DataFolder) -> None:
    clinic = open_clinic(folder=folder)
    with pytest.raises(RuntimeError), clinic.db.session() as s:
        audit.record(s, "export", 1, detail="x")
        raise RuntimeError("the export failed")
    audit.log_action(clinic.db, "print", 1)
    assert audit.verify(clinic.db).intact
    clinic.close()
    assert _reopen(folder)[0].intact


def test_a_missing_key_file_is_reported_not_resealed(folder: DataFolder) -> None:
    audit_chain.key_file(folder.database).unlink()
    audit_chain._keys.clear()  # a new process would not have it in memory either
    report, _ = _reopen(folder)
    assert not report.intact


def test_two_workstations_on_a_server_keep_one_unbroken_chain() -> None:
    """PostgreSQL: entries from two workstations at once are chained in id order (the append
    takes an advisory lock before inserting), so the trail verifies as one chain."""
    import threading

    from tests.pg import PostgresServer, unavailable_reason

    if unavailable_reason() is not None:
        pytest.skip(f"PostgreSQL unavailable: {unavailable_reason()}")
    with PostgresServer() as server:
        url = server.create_database()
        dbs = [open_database(url), open_database(url)]

        def work(db) -> None:  # type: ignore[no-untyped-def]
            for i in range(25):
                audit.log_action(db, "print", i, detail="home program PDF")

        threads = [threading.Thread(target=work, args=(db,)) for db in dbs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        report = audit.verify(dbs[0])
        assert report.intact and report.entries == 50
        with dbs[1].engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM audit_log WHERE id = 20")
        assert audit.verify(dbs[1]).good_until == 19
        for db in dbs:
            db.dispose()
