"""Fault cases for opening the database, locks, full disks and the audit trail (issue 13).

* ``locked_at_startup``: another *process* holds the database (``PRAGMA locking_mode=EXCLUSIVE``
  with ``BEGIN EXCLUSIVE`` and a write; or ``BEGIN EXCLUSIVE`` alone) while the program's real
  start-up flow (``ui.backup_dialog.open_clinic_with_recovery``) runs. Its questions are answered
  the way the clinician in the report did: "restore the newest backup" is *accepted* if it is
  ever offered, so an offer shows up as rows rolled back. Counts restore offers, patients lost,
  and whether the message names another program / a second copy.
* ``zero_byte_database_with_backups``: a clinic with patients, a backup and a video; the database
  is then emptied (0 bytes) or deleted, with or without backups left. Counts detections and
  empty clinics opened without a word.
* ``full_disk_backup``: a real small disk (an 8 MB tmpfs, when mounting is permitted, else the
  write itself is made to fail with ENOSPC) filled to several levels; every "Back up now" and
  restore is checked: a success must be a complete, verifiable backup with every patient. Counts
  false successes, raw OSErrors, "may be damaged" messages on a full disk, and whether saving
  works again by itself once space is freed.
* ``audit_tamper``: edits and deletions made directly in the database file (as with an SQLite
  editor), one kind per fresh copy; counts those the start-up check detects.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


# --- helpers -------------------------------------------------------------------------------


def _qt() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        QApplication([])


@contextlib.contextmanager
def _home(path: Path) -> Iterator[None]:
    from app.paths import ENV_HOME

    old = os.environ.get(ENV_HOME)
    os.environ[ENV_HOME] = str(path)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(ENV_HOME, None)
        else:
            os.environ[ENV_HOME] = old


def _make_clinic(home: Path, patients: int, *, backup: bool = True, video: bool = True) -> Path:
    from app.clinic import open_clinic
    from app.paths import DataFolder
    from app.records.patients import PatientData, create_patient
    from app.safety import backup as bk

    clinic = open_clinic(folder=DataFolder(home))
    with clinic.db.session() as s:
        for i in range(patients):
            create_patient(s, PatientData(full_name=f"Bench Patient {i}", notes="n" * 500))
    if backup:
        bk.backup_now(clinic)
    if video:
        clip = clinic.folder.videos / "patient_000001" / "visit_000001" / "run.mp4"
        clip.parent.mkdir(parents=True, exist_ok=True)
        clip.write_bytes(b"\x00" * 4096)
    path = clinic.folder.database
    clinic.close()
    return path


def _patients(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return int(conn.execute("SELECT count(*) FROM patient").fetchone()[0])
    finally:
        conn.close()


class _StartUp:
    """Runs the GUI start-up flow with its dialogs replaced by recorders."""

    def __init__(self, accept_restore: bool, retry_answers: int = 0) -> None:
        self.accept_restore = accept_restore
        self.retries_left = retry_answers
        self.restore_offers: list[str] = []
        self.retry_questions: list[str] = []
        self.explained: list[str] = []

    def run(self, home: Path):  # type: ignore[no-untyped-def]
        _qt()
        from ui import backup_dialog

        # getattr: the case also runs against older versions (without "Try again") to compare.
        saved = (
            backup_dialog._ask_restore,
            getattr(backup_dialog, "_ask_retry", None),
            backup_dialog._explain,
        )
        info = backup_dialog.QMessageBox.information

        def ask_restore(message: str) -> bool:
            self.restore_offers.append(message)
            return self.accept_restore

        def ask_retry(message: str) -> bool:
            self.retry_questions.append(message)
            self.retries_left -= 1
            return self.retries_left >= 0

        backup_dialog._ask_restore = ask_restore
        backup_dialog._ask_retry = ask_retry  # type: ignore[attr-defined]
        backup_dialog._explain = lambda _title, message: self.explained.append(message)
        backup_dialog.QMessageBox.information = staticmethod(lambda *a: None)  # type: ignore[assignment]
        try:
            with _home(home):
                return backup_dialog.open_clinic_with_recovery()
        finally:
            backup_dialog._ask_restore, backup_dialog._ask_retry, backup_dialog._explain = saved  # type: ignore[attr-defined]
            backup_dialog.QMessageBox.information = info  # type: ignore[assignment]


# --- locked at start-up --------------------------------------------------------------------


def lock_holder(path: str, mode: str) -> None:
    """Child: hold the database like another program would, until stdin closes."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    if mode == "exclusive-mode":
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
    conn.execute("BEGIN EXCLUSIVE")
    conn.execute("UPDATE patient SET notes = notes WHERE id = 1")
    print("held", flush=True)
    sys.stdin.read()
    conn.rollback()
    conn.close()


def _hold(path: Path, mode: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "reliability.py"),
            "db-lock-holder",
            str(path),
            mode,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "held":
        proc.kill()
        raise RuntimeError("the lock holder did not start")
    return proc


def _release(proc: subprocess.Popen) -> None:
    with contextlib.suppress(OSError):
        assert proc.stdin is not None
        proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def locked_at_startup(work: Path, seed: int) -> dict[str, object]:
    from app.db import database as dbmod

    rounds = 3
    out = {"rounds": 0, "restore_offered": 0, "rows_rolled_back": 0, "clear_message": 0,
           "opened_anyway": 0, "opened_after_release": 0, "start_up_seconds_max": 0.0}  # fmt: skip
    variants = {}
    for mode in ("exclusive-mode", "begin-exclusive"):
        v = dict(out)
        for r in range(rounds):
            home = work / f"{mode}-{r}"
            path = _make_clinic(home, 7)
            before = _patients(path)
            holder = _hold(path, mode)
            start = _StartUp(accept_restore=True)  # accept a restore, as the report's clinician did
            t = time.monotonic()
            try:
                clinic = start.run(home)
            finally:
                _release(holder)
            seconds = time.monotonic() - t
            v["rounds"] += 1
            v["restore_offered"] += len(start.restore_offers)
            if clinic is not None:
                v["opened_anyway"] += 1
                clinic.close()
            v["rows_rolled_back"] += max(0, before - _patients(path))
            said = start.retry_questions + start.explained
            if clinic is not None or any(
                "another program" in m and "second copy" in m for m in said
            ):
                v["clear_message"] += 1
            v["start_up_seconds_max"] = round(max(v["start_up_seconds_max"], seconds), 1)
            # Once the other program has closed, "Try again" opens the clinic.
            again = _StartUp(accept_restore=True)
            clinic = again.run(home)
            if clinic is not None:
                v["opened_after_release"] += 1
                clinic.close()
        variants[mode] = v
    total = {k: sum(v[k] for v in variants.values()) for k in out if k != "start_up_seconds_max"}
    return {
        "locked_at_startup": {
            **total,
            "lock_wait_s": dbmod.LOCK_WAIT_S,
            "by_lock": variants,
            "note": "begin-exclusive on a WAL database blocks writers only: the clinic opens "
            "and reads (counted as clear), exclusive-mode blocks reading too",
        }
    }


# --- zero-byte or missing database ---------------------------------------------------------


def zero_byte_database_with_backups(work: Path, seed: int) -> dict[str, object]:
    cases = [
        ("zero-byte, backups and videos", True, True, "empty"),
        ("zero-byte, videos only", False, True, "empty"),
        ("zero-byte, backups only", True, False, "empty"),
        ("missing, backups and videos", True, True, "missing"),
    ]
    result = {"cases": 0, "damage_detected": 0, "empty_clinic_opened_silently": 0,
              "restore_offered_when_backup_exists": 0, "cases_with_backup": 0,
              "patients_back_after_restore": 0, "patients_expected_after_restore": 0,
              "new_folder_started_empty": 0}  # fmt: skip
    for i, (_name, backup, video, how) in enumerate(cases):
        home = work / f"case-{i}"
        path = _make_clinic(home, 5, backup=backup, video=video)
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        if how == "empty":
            path.write_bytes(b"")
        else:
            path.unlink()
        declined = _StartUp(accept_restore=False)
        clinic = declined.run(home)
        result["cases"] += 1
        said = declined.restore_offers + declined.explained
        if clinic is None and any("lost or damaged" in m for m in said):
            result["damage_detected"] += 1
        if clinic is not None:
            result["empty_clinic_opened_silently"] += 1
            clinic.close()
        if backup:
            result["cases_with_backup"] += 1
            result["restore_offered_when_backup_exists"] += int(bool(declined.restore_offers))
            accepted = _StartUp(accept_restore=True)
            clinic = accepted.run(home)
            result["patients_expected_after_restore"] += 5
            if clinic is not None:
                clinic.close()
                result["patients_back_after_restore"] += _patients(path)
    fresh = _StartUp(accept_restore=False)
    clinic = fresh.run(work / "brand-new")
    if clinic is not None and not fresh.restore_offers:
        result["new_folder_started_empty"] = 1
        clinic.close()
    return {"zero_byte_database_with_backups": result}


# --- full disk -----------------------------------------------------------------------------


@contextlib.contextmanager
def _small_disk(work: Path, mb: int = 8) -> Iterator[Path | None]:
    mnt = work / "disk"
    mnt.mkdir()
    ok = False
    if (
        os.name == "posix"
        and hasattr(os, "geteuid")
        and os.geteuid() == 0
        and shutil.which("mount")
    ):
        r = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={mb}m", "tmpfs", str(mnt)], capture_output=True
        )
        ok = r.returncode == 0
    try:
        yield mnt if ok else None
    finally:
        if ok:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(folder: Path, leave_bytes: int) -> Path:
    """Fill the disk holding ``folder`` until about ``leave_bytes`` are free."""
    filler = folder / f"filler-{leave_bytes}"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while shutil.disk_usage(folder).free > leave_bytes + 65536:
            os.write(fd, b"\x00" * 65536)
        while True:  # then the last pieces, 4 KB at a time, down to the wanted margin
            if shutil.disk_usage(folder).free <= leave_bytes:
                break
            os.write(fd, b"\x00" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def full_disk_backup(work: Path, seed: int) -> dict[str, object]:
    from sqlalchemy import func, select

    from app.clinic import open_clinic
    from app.db.database import DatabaseError
    from app.db.models import Patient
    from app.paths import DataFolder
    from app.records.patients import PatientData, create_patient
    from app.safety import backup as bk
    from app.safety.integrity import inspect_file

    res = {"method": "", "backup_attempts": 0, "false_successes": 0, "plain_failures": 0,
           "raw_oserrors": 0, "raw_database_errors": 0, "said_may_be_damaged": 0,
           "said_disk_full": 0,
           "restore_attempts": 0, "restore_changed_something": 0,
           "saves_failed_while_full": 0, "saves_working_after_space_freed": 0,
           "backups_working_after_space_freed": 0}  # fmt: skip
    with _small_disk(work) as disk:
        res["method"] = "tmpfs 8 MB, filled" if disk is not None else "injected ENOSPC"
        home = (disk or work) / "home"
        clinic = open_clinic(folder=DataFolder(home))
        with clinic.db.session() as s:
            for i in range(60):
                create_patient(s, PatientData(full_name=f"Bench Patient {i}", notes="q" * 3000))
        good = bk.backup_now(clinic)
        expected = 60
        margin = getattr(bk, "SPACE_MARGIN_BYTES", 0)
        levels = (0, 8_192, 65_536, 262_144, 1_048_576) if disk is not None else (0,)
        for with_check in (True, False):  # with the free-space check, then only the write itself
            bk.SPACE_MARGIN_BYTES = margin if with_check else 0
            for leave in levels:
                if disk is not None:
                    filler = _fill(disk, leave)
                    undo: Callable[[], None] = filler.unlink
                else:
                    real = os.fsync

                    def full(_fd: int) -> None:
                        raise OSError(errno.ENOSPC, "No space left on device")

                    os.fsync = full  # type: ignore[assignment]
                    undo = functools.partial(setattr, os, "fsync", real)
                try:
                    res["backup_attempts"] += 1
                    try:
                        info = bk.backup_now(clinic)
                        report = inspect_file(info.path, full=True)
                        if not (report.ok and report.patients == expected):
                            res["false_successes"] += 1
                    except bk.BackupError as exc:
                        res["plain_failures"] += 1
                        res["said_may_be_damaged"] += int("damaged" in exc.message)
                        res["said_disk_full"] += int("disk is full" in exc.message)
                    except OSError:
                        res["raw_oserrors"] += 1
                    res["restore_attempts"] += 1
                    try:
                        bk.restore_into_clinic(clinic, good.path)
                        expected = 60  # restored for real: the good backup's patients
                        res["restores_done"] = int(res.get("restores_done", 0)) + 1
                    except bk.BackupError:
                        pass  # refused: the database must be exactly as before
                    except OSError:
                        res["raw_oserrors"] += 1
                    with clinic.db.session() as s:
                        if s.scalar(select(func.count(Patient.id))) != expected:
                            res["restore_changed_something"] += 1
                    try:
                        # 300 kB of notes in one transaction, as notes of the allowed size
                        n_big = 300_000 // 4000 + 1
                        with clinic.db.session() as s:
                            for i in range(n_big):
                                create_patient(
                                    s,
                                    PatientData(
                                        full_name=f"Full {leave} {with_check} {i}",
                                        notes="z" * 4000,
                                    ),
                                )
                        expected += n_big
                    except DatabaseError:
                        res["saves_failed_while_full"] += 1
                    except Exception:  # a raw driver error: no plain message for the clinician
                        res["saves_failed_while_full"] += 1
                        res["raw_database_errors"] = int(res.get("raw_database_errors", 0)) + 1
                finally:
                    undo()
                try:
                    with clinic.db.session() as s:
                        create_patient(s, PatientData(full_name=f"After {leave} {with_check}"))
                    expected += 1
                    res["saves_working_after_space_freed"] += 1
                except Exception:  # still failing although space is back
                    pass
                try:
                    info = bk.backup_now(clinic)
                    res["backups_working_after_space_freed"] += int(inspect_file(info.path).ok)
                except bk.BackupError as exc:
                    res.setdefault("after_space_freed_backup_errors", []).append(exc.message[:160])  # type: ignore[attr-defined]
        bk.SPACE_MARGIN_BYTES = margin
        res["rounds"] = len(levels) * 2
        clinic.close()
    return {"full_disk_backup": res}


# --- audit trail tampering -----------------------------------------------------------------

_TAMPERS = {
    "edit action": ["UPDATE audit_log SET action = 'view' WHERE id = 20"],
    "edit detail": ["UPDATE audit_log SET detail = 'nothing' WHERE id = 33"],
    "edit patient": ["UPDATE audit_log SET patient_id = 2 WHERE id = 41"],
    "edit clinician": ["UPDATE audit_log SET clinician_id = 99 WHERE id = 12"],
    "edit time": ["UPDATE audit_log SET at = '2020-01-01 00:00:00.000000' WHERE id = 7"],
    "delete failed sign-ins": ["DELETE FROM audit_log WHERE action = 'sign_in_failed'"],
    "delete one in the middle": ["DELETE FROM audit_log WHERE id = 30"],
    "delete the first": ["DELETE FROM audit_log WHERE id = 1"],
    "delete the newest 10": [
        "DELETE FROM audit_log WHERE id > (SELECT max(id) - 10 FROM audit_log)"
    ],
    "delete 94 -> 61": ["DELETE FROM audit_log WHERE id % 3 = 0"],
    "insert a forged entry": [
        "INSERT INTO audit_log (at, action, patient_id, workstation) "
        "VALUES ('2026-12-01 10:00:00.000000', 'view', 3, 'desk')"
    ],
    "copy a hash onto an edited entry": [
        "UPDATE audit_log SET action = 'view', chain_hash = (SELECT chain_hash FROM audit_log "
        "WHERE id = 9) WHERE id = 10"
    ],
    "null every hash": ["UPDATE audit_log SET chain_hash = NULL"],
    "renumber": ["UPDATE audit_log SET id = id + 1000 WHERE id > 80"],
}


def _rehash_without_key(path: Path) -> None:
    """Delete entries, then recompute the whole chain the way the module documents, minus key."""
    import datetime as dt
    from types import SimpleNamespace

    from app.safety.audit_chain import GENESIS, entry_hash

    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    conn.execute("DELETE FROM audit_log WHERE action = 'sign_in_failed'")
    previous = GENESIS
    for row in conn.execute("SELECT * FROM audit_log ORDER BY id").fetchall():
        fields = dict(row)
        fields["at"] = dt.datetime.fromisoformat(row["at"])
        digest = entry_hash(b"", previous, SimpleNamespace(**fields))
        conn.execute("UPDATE audit_log SET chain_hash = ? WHERE id = ?", (digest, row["id"]))
        previous = digest
    conn.commit()
    conn.close()


def audit_tamper(work: Path, seed: int) -> dict[str, object]:
    from app.clinic import open_clinic
    from app.paths import DataFolder
    from app.records.patients import PatientData, create_patient
    from app.safety import audit

    try:
        from app.safety import audit_chain
    except ImportError:  # a version without the chain (for comparison)
        audit_chain = None  # type: ignore[assignment]

    base = work / "base"
    clinic = open_clinic(folder=DataFolder(base))
    with clinic.db.session() as s:
        ids = [create_patient(s, PatientData(full_name=f"Bench Patient {i}")).id for i in range(30)]
    for i in range(64):  # 94 entries in all, as in the report: views, prints, failed sign-ins
        action = ("view", "print", "sign_in_failed", "export")[i % 4]
        audit.log_action(
            clinic.db, action, ids[i % len(ids)] if action != "sign_in_failed" else None
        )
    n_entries = _count_entries(clinic)
    db_path = clinic.folder.database
    clinic.close()
    control_ok = open_clinic(folder=DataFolder(base))
    report = getattr(control_ok, "audit_report", None)
    untouched_intact = bool(report is not None and report.intact)
    control_ok.close()

    made, detected, missed = 0, 0, []
    kinds: dict[str, Callable[[Path], None]] = {
        name: (lambda p, sql=sql: _sql(p, sql)) for name, sql in _TAMPERS.items()
    }
    if audit_chain is not None:
        kinds["delete, then re-hash without the key"] = _rehash_without_key
    for k, (name, tamper) in enumerate(kinds.items()):
        home = work / f"t{k}"
        shutil.copytree(base, home)
        if audit_chain is not None:
            audit_chain._keys.clear()  # each check reads the key file like a fresh start would
        path = home / db_path.name
        tamper(path)
        made += 1
        clinic = open_clinic(folder=DataFolder(home))
        report = getattr(clinic, "audit_report", None)
        if report is not None and not report.intact and clinic.warnings:  # type: ignore[attr-defined]
            detected += 1
        else:
            missed.append(name)
        clinic.close()
    return {
        "audit_tamper": {
            "entries": n_entries,
            "untouched_trail_reported_intact": untouched_intact,
            "tampering_made": made,
            "tampering_detected": detected,
            "missed": missed,
        }
    }


def _count_entries(clinic) -> int:  # type: ignore[no-untyped-def]
    with clinic.db.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM audit_log").scalar() or 0)


def _sql(path: Path, statements: list[str]) -> None:
    conn = sqlite3.connect(path)
    for st in statements:
        conn.execute(st)
    conn.commit()
    conn.close()


CASES = {
    "locked_at_startup": locked_at_startup,
    "zero_byte_database_with_backups": zero_byte_database_with_backups,
    "full_disk_backup": full_disk_backup,
    "audit_tamper": audit_tamper,
}
CHILDREN = {"db-lock-holder": lock_holder}
