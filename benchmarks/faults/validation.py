"""Fault cases for settings, stored values, names and passwords (issue 13).

* ``bad_settings``: every wrong-type / wrong-value settings file of the held-out pass, opened
  in-process (as the GUI and CLI start) and through the ``program`` command in a child process.
  Counts: cases that crashed, cases whose message did not name the key, CLI tracebacks.
* ``hostile_values``: names, calibrations and cadences that used to be stored unchecked.
  Counts: values stored that should have been refused, non-``ValidationError`` exceptions.
* ``password_guessing``: 30 wrong guesses in a row; how many were actually checked.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

BAD_SETTINGS: list[tuple[str, object]] = [
    ("extra", []),
    ("extra", "logo.png"),
    ("database_url", 5),
    ("database_url", "postgres://stride@server/stride"),
    ("database_url", "clinic.db"),
    ("database_url", "sqlite:///relative.db"),
    ("database_url", "mysql://u@server/stride"),
    ("video_memory_budget_mb", "lots"),
    ("video_memory_budget_mb", -1),
    ("videos_dir", 5),
    ("videos_dir", "relative/videos"),
    ("clinic_contact", 12),
    ("clinic_name", None),
    ("shank_angle_heuristic_deg", "x"),
    ("extra.backup_keep_daily", 1e400),
    ("extra.backup_every_hours", "daily"),
    ("extra.idle_lock_minutes", -5),
    ("extra.clinic_logo", 7),
]


def _settings_json(key: str, value: object) -> str:
    if key.startswith("extra."):
        return json.dumps({"extra": {key.split(".", 1)[1]: value}})
    return json.dumps({key: value})


def bad_settings(work: Path, seed: int) -> dict[str, object]:
    from app.clinic import open_clinic
    from app.paths import DataFolder, DataFolderError
    from app.settings import SettingsError

    crashed = unnamed = refused = fell_back = 0
    cli_tracebacks = cli_unnamed = cli_zero_exit_on_refusal = 0
    root = Path(__file__).resolve().parents[2]
    for i, (key, value) in enumerate(BAD_SETTINGS):
        folder = DataFolder(work / f"home{i}").ensure()
        folder.settings_file.write_text(_settings_json(key, value), encoding="utf-8")
        try:
            clinic = open_clinic(folder=folder)
        except SettingsError as exc:
            refused += 1
            unnamed += f"“{key}”" not in exc.message
        except (DataFolderError, Exception):  # noqa: BLE001 - counting, not handling
            crashed += 1
        else:
            fell_back += 1
            unnamed += not any(f"“{key}”" in w for w in clinic.settings_warnings)
            clinic.close()
        env = dict(os.environ, STRIDE_CLINIC_HOME=str(folder.root))
        proc = subprocess.run(
            [sys.executable, "-m", "app.cli", "program", "--list", "--patient", "1"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        cli_tracebacks += "Traceback" in proc.stderr
        cli_unnamed += key not in proc.stderr
        if "database_url" in key or "videos_dir" in key:
            cli_zero_exit_on_refusal += proc.returncode == 0
    return {
        "settings_cases": len(BAD_SETTINGS),
        "settings_crashed": crashed,
        "settings_key_not_named": unnamed,
        "settings_refused_start": refused,
        "settings_fell_back_to_default": fell_back,
        "settings_cli_tracebacks": cli_tracebacks,
        "settings_cli_key_not_named": cli_unnamed,
        "settings_cli_exit_0_on_refusal": cli_zero_exit_on_refusal,
    }


def hostile_values(work: Path, seed: int) -> dict[str, object]:
    from app.clinic import open_clinic
    from app.db.models import Patient, Prescription
    from app.filenames import MAX_STEM_BYTES, safe_file_name
    from app.paths import DataFolder
    from app.records import measurements
    from app.records.patients import PatientData, create_patient
    from app.records.recordings import add_recording, set_calibration
    from app.records.validation import ValidationError
    from app.records.visits import VisitData, create_visit

    names = ["Ana \ud800Ruiz", "Anna\u202eztiM", "A\u2066B\u2069", "A\x00B", "A\u200bB", "x" * 301]
    scales = [-0.5, 0.0, math.inf, math.nan, -1e-9]
    plans = [{"target_spm": v} for v in (0, -5, 5000, math.inf, math.nan)]
    clinic = open_clinic(folder=DataFolder(work / "home").ensure())
    stored = other_errors = 0
    try:
        with clinic.db.session() as s:
            pid = create_patient(s, PatientData(full_name="Ana Ruiz")).id
            vid = create_visit(s, pid, VisitData()).id
            rid = add_recording(s, vid, video_path="x.mp4").id
        attempts = (
            [lambda s, n=n: create_patient(s, PatientData(full_name=n)) for n in names]
            + [lambda s, c=c: set_calibration(s, rid, c) for c in scales]
            + [lambda s, p=p: measurements.save_prescription(s, vid, p) for p in plans]
        )
        for attempt in attempts:
            try:
                with clinic.db.session() as s:
                    attempt(s)
            except ValidationError:
                pass
            except Exception:  # noqa: BLE001
                other_errors += 1
        with clinic.db.session() as s:
            stored += s.query(Patient).count() - 1
            stored += s.query(Prescription).count()
            rec = s.get(measurements.Recording, rid)
            stored += rec.cm_per_px is not None
    finally:
        clinic.close()
    long_name = safe_file_name("Home program - " + "李" * 300, ".pdf")
    return {
        "hostile_values_tried": len(names) + len(scales) + len(plans),
        "hostile_values_stored": stored,
        "hostile_values_other_exceptions": other_errors,
        "long_name_file_name_bytes": len(long_name.encode("utf-8")),
        "long_name_file_name_ok": len(long_name.removesuffix(".pdf").encode()) <= MAX_STEM_BYTES,
    }


def password_guessing(work: Path, seed: int) -> dict[str, object]:
    from app.db.database import open_database, sqlite_url
    from app.safety import accounts

    db = open_database(sqlite_url(work / "c.sqlite3"))
    try:
        with db.session() as s:
            accounts.create_account(s, "Sam Physio", "battery staple")
        checked = paused = 0
        t = time.perf_counter()
        for i in range(30):
            try:
                accounts.sign_in(db, "Sam Physio", f"guess {i:04d}")
            except accounts.SignInLocked:
                paused += 1
            except accounts.SignInError:
                checked += 1
        seconds = time.perf_counter() - t
        blank_accepted = 0
        for pw in (" " * 8, "\t" * 12):
            try:
                accounts.hash_password(pw)
                blank_accepted += 1
            except accounts.SignInError:
                pass
    finally:
        db.dispose()
    return {
        "guesses_made": 30,
        "guesses_checked": checked,
        "guesses_paused": paused,
        "guessing_seconds": round(seconds, 2),
        "blank_passwords_accepted": blank_accepted,
    }


CASES = {
    "bad_settings": bad_settings,
    "hostile_values": hostile_values,
    "password_guessing": password_guessing,
}
