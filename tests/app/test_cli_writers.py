"""The command line never overwrites what it must not, never lies about a file, and says why.

``stride-clinic analyze --json``, ``metronome --out`` and ``program --out`` all write through
:mod:`app.outputs`; ``program`` also honours sign-in and audits the export.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.clinic import Clinic, open_clinic
from app.db.models import AuditEntry, HomeProgram, Prescription
from app.prescription.plan import plan_for
from app.prescription.rules import baseline_from_measurement
from app.records.patients import PatientData, create_patient
from app.records.visits import VisitData, create_visit
from ui.launcher import main  # the entry point: it injects the Qt PDF renderer

REPO = Path(__file__).resolve().parents[2]


def _prescribed_patient() -> int:
    clinic = open_clinic()
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Maja Berg")).id
        visit = create_visit(s, pid, VisitData())
        plan = plan_for(baseline_from_measurement(160, (8, 8)), 5)
        s.add(
            Prescription(
                visit_id=visit.id,
                baseline_spm=160,
                target_spm=plan.target_spm,
                increase_pct=5,
                plan=plan.to_dict(),
            )
        )
    clinic.close()
    return pid


def _count(model) -> int:  # type: ignore[no-untyped-def]
    clinic = open_clinic()
    try:
        with clinic.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        clinic.close()


def _one_line_error(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    for w in words:
        assert w in err, err
    return err


# --- analyze -----------------------------------------------------------------------------------


@pytest.fixture
def track_csv(shared_data: Path, tmp_path: Path) -> Path:
    from app.analysis.keypoints import write_csv

    from ._analysis_helpers import load_trial

    track, _ = load_trial(shared_data, "rearfoot", seconds=6.0)
    path = tmp_path / "run.csv"
    write_csv(track, path)
    return path


def test_analyze_json_never_replaces_its_input_or_the_database(
    track_csv: Path, data_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = track_csv.read_bytes()
    assert (
        main(["analyze", "--keypoints", str(track_csv), "--json", str(track_csv), "--force"]) == 2
    )
    _one_line_error(capsys, "input")
    assert track_csv.read_bytes() == before
    clinic = open_clinic()
    db = clinic.folder.database
    clinic.close()
    db_before = db.read_bytes()
    for target in (db, Path(f"{db}-wal"), data_home / "result.json"):
        assert (
            main(["analyze", "--keypoints", str(track_csv), "--json", str(target), "--force"]) == 2
        )
        _one_line_error(capsys)
    assert db.read_bytes() == db_before and not (data_home / "result.json").exists()


def test_analyze_json_existing_file_needs_force(
    track_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.json"
    out.write_text("keep me")
    t0 = time.monotonic()
    assert main(["analyze", "--keypoints", str(track_csv), "--json", str(out)]) == 2
    assert time.monotonic() - t0 < 1.0  # refused before the analysis, not after
    _one_line_error(capsys, "--force")
    assert out.read_text() == "keep me"
    assert main(["analyze", "--keypoints", str(track_csv), "--json", str(out), "--force"]) == 0
    assert '"cadence_spm"' in out.read_text()
    assert oct(out.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--fps", "0"], ["--fps 0", "frame rate"]),
        (["--capture-fps", "0"], ["--capture-fps 0"]),
        (["--fps", "inf"], ["--fps inf"]),
        (["--cm-per-px", "-0.1"], ["--cm-per-px -0.1", "positive"]),
        (["--cm-per-px", "0"], ["--cm-per-px 0"]),
        (["--cm-per-px", "nan"], ["--cm-per-px nan"]),
    ],
)
def test_analyze_refuses_unusable_numbers(
    track_csv: Path, argv: list[str], words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", "--keypoints", str(track_csv), *argv]) == 2
    _one_line_error(capsys, *words)


# --- metronome ---------------------------------------------------------------------------------


def test_metronome_refuses_links_existing_files_and_missing_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "m.wav"
    link.symlink_to(victim)
    base = ["metronome", "--spm", "170", "--minutes", "0.2", "--out"]
    assert main([*base, str(link), "--force"]) == 2
    _one_line_error(capsys, "link")
    assert victim.read_text() == "precious"
    existing = tmp_path / "old.wav"
    existing.write_bytes(b"old")
    assert main([*base, str(existing)]) == 2
    _one_line_error(capsys, "already exists")
    assert existing.read_bytes() == b"old"
    deep = tmp_path / "new" / "folder" / "m.wav"
    assert main([*base, str(deep)]) == 2
    _one_line_error(capsys, "does not exist", "--parents")
    assert not (tmp_path / "new").exists()
    assert main([*base, str(deep), "--parents"]) == 0
    assert deep.stat().st_size > 44


def test_metronome_refuses_a_few_milliseconds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.wav"
    assert main(["metronome", "--spm", "170", "--minutes", "0.0001", "--out", str(out)]) == 2
    _one_line_error(capsys, "too short", "at least")
    assert not out.exists()


def test_metronome_into_the_data_folder_is_refused(
    data_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = data_home / "m.wav"
    assert main(["metronome", "--spm", "170", "--minutes", "0.2", "--out", str(out)]) == 2
    _one_line_error(capsys, "data folder")
    assert not out.exists()


# --- program -----------------------------------------------------------------------------------


def test_program_values_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pid = _prescribed_patient()
    out = tmp_path / "p.pdf"
    assert main(["program", "--patient", "99999999999999999999", "--out", str(out)]) == 2
    _one_line_error(capsys, "no patient")
    assert main(["program", "--patient", "-3", "--out", str(out)]) == 2
    _one_line_error(capsys, "no patient")
    missing = tmp_path / "nope.png"
    argv = ["program", "--patient", str(pid), "--out", str(out), "--before-still", str(missing)]
    assert main(argv) == 2
    _one_line_error(capsys, "nope.png", "not found")
    assert not out.exists() and _count(HomeProgram) == 0


def test_program_refuses_links_and_existing_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pid = _prescribed_patient()
    full = tmp_path / "full.pdf"
    full.symlink_to("/dev/full")
    t0 = time.monotonic()
    assert main(["program", "--patient", str(pid), "--out", str(full), "--force"]) == 2
    assert time.monotonic() - t0 < 10  # it used to hang for ever reading /dev/full back
    _one_line_error(capsys, "link")
    old = tmp_path / "old.pdf"
    old.write_bytes(b"%PDF-old")
    assert main(["program", "--patient", str(pid), "--out", str(old)]) == 2
    _one_line_error(capsys, "--force")
    assert old.read_bytes() == b"%PDF-old" and _count(HomeProgram) == 0


def test_program_cut_short_by_a_full_disk_is_neither_reported_nor_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import ui.home_program as gui

    real = gui.render_pdf

    def cut_short(content, path, page_size="A4"):  # type: ignore[no-untyped-def]
        pages = real(content, path, page_size)
        data = Path(path).read_bytes()
        Path(path).write_bytes(data[:20_000])  # what Qt leaves on a full disk, without a word
        return pages

    monkeypatch.setattr(gui, "render_pdf", cut_short)
    pid = _prescribed_patient()
    out = tmp_path / "p.pdf"
    assert main(["program", "--patient", str(pid), "--out", str(out)]) == 2
    _one_line_error(capsys, "incomplete")
    assert not out.exists() and _count(HomeProgram) == 0
    assert [p.name for p in tmp_path.iterdir()] == []  # no temporary file left behind


def test_program_with_a_read_only_database_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    import app.reports.cli as program_cli

    def read_only(*_a, **_k):  # type: ignore[no-untyped-def]
        raise OperationalError(
            "INSERT", {}, sqlite3.OperationalError("attempt to write a readonly database")
        )

    monkeypatch.setattr(program_cli, "record_program", read_only)
    pid = _prescribed_patient()
    out = tmp_path / "p.pdf"
    assert main(["program", "--patient", str(pid), "--out", str(out)]) == 2
    _one_line_error(capsys, "read-only")
    assert not out.exists()


def test_program_honours_sign_in_and_audits_the_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.safety import accounts

    pid = _prescribed_patient()
    clinic: Clinic = open_clinic()
    with clinic.db.session() as s:
        cid = accounts.create_account(s, "Dana Admin", "correct horse", role="admin").id
    clinic.close()
    out = tmp_path / "p.pdf"
    monkeypatch.delenv("STRIDE_CLINIC_PASSWORD", raising=False)
    assert main(["program", "--patient", str(pid), "--out", str(out)]) == 2
    _one_line_error(capsys, "--user")
    monkeypatch.setenv("STRIDE_CLINIC_PASSWORD", "wrong password")
    assert main(["program", "--patient", str(pid), "--out", str(out), "--user", "Dana Admin"]) == 2
    _one_line_error(capsys, "not right")
    assert not out.exists()
    monkeypatch.setenv("STRIDE_CLINIC_PASSWORD", "correct horse")
    assert main(["program", "--patient", str(pid), "--out", str(out), "--user", "Dana Admin"]) == 0
    assert out.read_bytes().rstrip().endswith(b"%%EOF")
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    clinic = open_clinic()
    with clinic.db.session() as s:
        actions = [
            (e.action, e.patient_id, e.clinician_id)
            for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
    clinic.close()
    assert ("sign_in_failed", None, cid) in actions
    assert ("export", pid, cid) in actions
    assert _count(HomeProgram) == 1


def test_program_to_a_full_stdout_fails_quickly(tmp_path: Path) -> None:
    pid = _prescribed_patient()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    t0 = time.monotonic()
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "ui.launcher", "program", "--patient", str(pid), "--out", "-"],
            cwd=REPO,
            env=env,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "disk is full" in proc.stderr
    assert time.monotonic() - t0 < 60
    assert _count(HomeProgram) == 0  # nothing recorded for a file nobody received
