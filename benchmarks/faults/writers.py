"""Fault cases for every file writer: overwrite attempts on the command line, full disks.

``cli_overwrite_attempts``: ``stride-clinic analyze --json``, ``program --out`` and
``metronome --out`` aimed at their own input, the clinic database (by name, ``-wal``, and a hard
link), an existing file without ``--force``, a symbolic link, a path inside the data folder and
a missing folder without ``--parents``. Each must be refused (non-zero exit, one line, no
traceback) with every file unchanged, the database intact and no folder created. A control
(``--force`` on an ordinary file) must succeed, so "refuse everything" cannot pass.

``full_disk_writers``: every writer (the three CLI writers, and in a child process the GUI's
writers: home-program PDF, metronome export, history CSV/Excel/zip, research export, audit CSV,
video still) against ``/dev/full`` (as a link, as the path, as standard output) and against a
nearly full disk (a small tmpfs when it can be mounted, else ``RLIMIT_FSIZE`` in the child).
Counts: false successes (reported success while the file is missing or incomplete), hangs
(> 60 s), records of unwritten files (home-program rows added by a failed write), temporary
files left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import wave
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60.0
SHARED = ROOT.parent / "shared" / "data"


# --- helpers -----------------------------------------------------------------------------------


def _make_clinic(home: Path) -> int:
    """A data folder with one patient who has a visit and a prescription; returns the id."""
    from app.clinic import open_clinic
    from app.db.models import Prescription
    from app.paths import DataFolder
    from app.prescription.plan import plan_for
    from app.prescription.rules import baseline_from_measurement
    from app.records.patients import PatientData, create_patient
    from app.records.visits import VisitData, create_visit

    clinic = open_clinic(folder=DataFolder(home))
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Fault Case")).id
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


def _keypoints(path: Path) -> Path:
    """A short real keypoint track (RBDS markers) when the sample data is there, else a stub."""
    src = SHARED / "rbds_S0041_treadmill_run_2p5ms_keypoints.csv"
    if src.is_file():
        lines = src.read_text().splitlines()[:901]  # 6 s at 150 Hz
        path.write_text("\n".join(lines) + "\n")
    else:
        path.write_text("time_s\n0\n")
    return path


def _env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "STRIDE_CLINIC_HOME": str(home),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(ROOT),
    }


def _limit_fsize(limit: int | None):  # type: ignore[no-untyped-def]
    if limit is None:
        return None

    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return pre


def _run(
    argv: list[str], home: Path, *, stdout=subprocess.PIPE, limit: int | None = None
) -> dict[str, object]:  # type: ignore[no-untyped-def]
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            argv,
            cwd=ROOT,
            env=_env(home),
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT_S,
            preexec_fn=_limit_fsize(limit),  # noqa: PLW1509 - single-threaded parent
        )
    except subprocess.TimeoutExpired:
        return {"rc": None, "err": "", "out": "", "s": TIMEOUT_S, "hung": True}
    return {
        "rc": proc.returncode,
        "err": proc.stderr or "",
        "out": proc.stdout or "",
        "s": round(time.monotonic() - t0, 2),
        "hung": False,
    }


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", *args]


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _data_files(home: Path) -> set[str]:
    skip = ("-wal", "-shm", "-journal")
    return {
        str(p.relative_to(home))
        for p in home.rglob("*")
        if p.is_file() and not p.name.endswith(skip) and "cache" not in p.parts
    }


def _db_intact(home: Path) -> bool:
    from app.clinic import open_clinic
    from app.db.models import Patient
    from app.paths import DataFolder

    try:
        clinic = open_clinic(folder=DataFolder(home))
    except Exception:
        return False
    try:
        with clinic.db.session() as s:
            return s.query(Patient).count() == 1
    finally:
        clinic.close()


def _program_rows(home: Path) -> int:
    from app.clinic import open_clinic
    from app.db.models import HomeProgram
    from app.paths import DataFolder

    clinic = open_clinic(folder=DataFolder(home))
    try:
        with clinic.db.session() as s:
            return s.query(HomeProgram).count()
    finally:
        clinic.close()


# --- case 1: overwrite attempts -----------------------------------------------------------------


def cli_overwrite_attempts(work: Path, seed: int) -> dict[str, object]:
    """Each attempt refused, files unchanged, database intact, no folder created."""
    del seed  # deterministic
    home, out = work / "home", work / "outside"
    out.mkdir(parents=True)
    pid = str(_make_clinic(home))
    db = home / "stride_clinic.sqlite3"
    csv = _keypoints(out / "run.csv")
    video = out / "run.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    victim = out / "victim.txt"
    victim.write_text("another program's file")
    existing = {ext: out / f"existing.{ext}" for ext in ("json", "pdf", "wav")}
    links = {ext: out / f"link.{ext}" for ext in ("json", "pdf", "wav")}
    hard = {ext: out / f"db.{ext}" for ext in ("json", "pdf", "wav")}
    for ext in existing:
        existing[ext].write_bytes(f"earlier {ext} file".encode())
        links[ext].symlink_to(victim)
        os.link(db, hard[ext])
    watched = [csv, video, victim, *existing.values()]
    before = {p: _digest(p) for p in watched}
    files_before = _data_files(home)
    an = ["analyze", "--keypoints", str(csv), "--json"]
    an_video = ["analyze", str(video), "--json"]
    pr = ["program", "--patient", pid, "--out"]
    me = ["metronome", "--spm", "170", "--minutes", "0.2", "--out"]
    attempts = {
        "analyze_own_input_csv": [*an, str(csv), "--force"],
        "analyze_own_input_video": [*an_video, str(video), "--force"],
        "analyze_database": [*an, str(db), "--force"],
        "analyze_database_wal": [*an, f"{db}-wal", "--force"],
        "analyze_database_hard_link": [*an, str(hard["json"]), "--force"],
        "analyze_existing_without_force": [*an, str(existing["json"])],
        "analyze_symlink": [*an, str(links["json"]), "--force"],
        "analyze_data_folder": [*an, str(home / "result.json"), "--force"],
        "analyze_missing_folder": [*an, str(out / "new_a" / "r.json")],
        "program_database_hard_link": [*pr, str(hard["pdf"]), "--force"],
        "program_existing_without_force": [*pr, str(existing["pdf"])],
        "program_symlink": [*pr, str(links["pdf"]), "--force"],
        "program_data_folder": [*pr, str(home / "program.pdf"), "--force"],
        "program_missing_folder": [*pr, str(out / "new_p" / "p.pdf")],
        "metronome_database_hard_link": [*me, str(hard["wav"]), "--force"],
        "metronome_existing_without_force": [*me, str(existing["wav"])],
        "metronome_symlink": [*me, str(links["wav"]), "--force"],
        "metronome_data_folder": [*me, str(home / "m.wav"), "--force"],
        "metronome_missing_folder": [*me, str(out / "new_m" / "m.wav")],
    }
    refused, tracebacks, not_refused = 0, 0, []
    for name, argv in attempts.items():
        r = _run(_cli(*argv), home)
        ok_refusal = r["rc"] not in (0, None) and "Traceback" not in str(r["err"])
        refused += int(ok_refusal)
        tracebacks += int("Traceback" in str(r["err"]))
        if not ok_refusal:
            not_refused.append(name)
    changed = [p.name for p in watched if _digest(p) != before[p]]
    changed += sorted(_data_files(home) - files_before)
    folders = sum((out / d).exists() for d in ("new_a", "new_p", "new_m"))
    control = _run(_cli(*me, str(existing["wav"]), "--force"), home)
    return {
        "cli_overwrite_attempts": len(attempts),
        "cli_overwrite_refused": refused,
        "cli_overwrite_not_refused": not_refused,
        "cli_overwrite_files_changed": len(changed),
        "cli_overwrite_changed_names": changed,
        "cli_overwrite_folders_created": folders,
        "cli_overwrite_tracebacks": tracebacks,
        "cli_overwrite_database_intact": _db_intact(home),
        "cli_overwrite_force_control_ok": control["rc"] == 0 and _valid(existing["wav"], "wav"),
    }


# --- case 2: full disks -------------------------------------------------------------------------


def _valid(path: Path, kind: str) -> bool:
    """Is ``path`` a complete file of ``kind``? (independent of app.outputs' own checks)"""
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return False
        data = path.read_bytes()
        if kind == "pdf":
            return data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]
        if kind == "png":
            return data.startswith(b"\x89PNG") and b"IEND" in data[-12:]
        if kind == "json":
            json.loads(data)
            return True
        if kind == "wav":
            with wave.open(str(path)) as w:
                return len(data) >= 44 + w.getnframes() * 2 and w.getnframes() > 0
        if kind in ("xlsx", "zip"):
            with zipfile.ZipFile(path) as z:
                return z.testzip() is None
        if kind in ("m4a", "mp3"):
            import av

            with av.open(str(path)) as c:
                return sum(f.samples for f in c.decode(audio=0)) > 0
        if kind == "csv":
            return data.startswith(b"\xef\xbb\xbf") and data.endswith(b"\n")
    except Exception:
        return False
    return False


def writer_child(kind: str, home: str, target: str, pid: str) -> None:
    """Run one GUI-side writer in this process; print RESULT OK <files> or RESULT ERR <msg>."""
    os.environ["STRIDE_CLINIC_HOME"] = home
    from app.clinic import open_clinic

    clinic = open_clinic()
    try:
        files = _gui_writer(kind, clinic, Path(target), int(pid))
        print("RESULT OK " + json.dumps([str(f) for f in files]), flush=True)
    except Exception as exc:  # every failure must be a plain message, never a success
        print(f"RESULT ERR {type(exc).__name__}: {getattr(exc, 'message', exc)}", flush=True)
    finally:
        with contextlib.suppress(Exception):
            clinic.close()


def _gui_writer(kind: str, clinic, target: Path, pid: int) -> list[Path]:  # type: ignore[no-untyped-def]
    from app.outputs import rules_for_clinic

    rules = rules_for_clinic(clinic, force=True)  # what the file dialogs pass
    if kind == "history":
        from app.history.export import export_patient_history

        return export_patient_history(clinic, pid, target, formats=("csv", "xlsx", "zip"))
    if kind == "research":
        from app.history.export import research_export

        return research_export(clinic, target, formats=("csv", "xlsx", "zip"))
    if kind == "audit_csv":
        from app.outputs import write_text
        from app.safety import audit

        with clinic.db.session() as s:
            rows = audit.entries(s)
        text = audit.to_csv(rows) + "x" * 20000  # a long trail: more than the free space
        write_text(target, text, rules, encoding="utf-8-sig", private=True)
        return [target]
    if kind == "metronome":
        from app.prescription.metronome import export

        return [export(target, 170, 1.0, rules=rules)]
    if kind == "pdf":
        from app.reports.home_program import build_content
        from ui.home_program import ensure_gui_application, export_pdf

        ensure_gui_application()
        with clinic.db.session() as s:
            content = build_content(s, pid, clinic.settings)
        export_pdf(content, target, rules=rules)
        return [target]
    if kind == "still":
        import numpy as np
        from PySide6.QtGui import QImage

        from ui.annotation_measures import save_still as _save_still
        from ui.home_program import ensure_gui_application

        ensure_gui_application()
        # noise: a frame-sized picture that does not compress to nothing
        pixels = np.random.default_rng(1).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
        img = QImage(pixels.data, 1280, 720, 1280 * 3, QImage.Format.Format_RGB888).copy()
        if not _save_still(clinic, img, target):
            raise RuntimeError("still not saved")
        return [target]
    raise ValueError(kind)


def _tiny_disk(work: Path) -> tuple[Path, int | None, bool]:
    """A folder with about 4 KB free: a small tmpfs (when mounting is allowed), else a plain
    folder and a file-size limit for the child processes."""
    tiny = work / "tiny"
    tiny.mkdir()
    ok = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(tiny)],
            capture_output=True,
        ).returncode
        == 0
        if shutil.which("mount")
        else False
    )
    if not ok:
        return tiny, 8 * 1024, False
    filler = tiny / "filler"
    with open(filler, "wb") as fh, contextlib.suppress(OSError):
        while shutil.disk_usage(tiny).free > 4 * 1024:
            fh.write(b"\0" * 4096)
            fh.flush()
    return tiny, None, True


def full_disk_writers(work: Path, seed: int) -> dict[str, object]:
    """No writer reports success for a file it did not write; none hangs; nothing is recorded."""
    del seed
    home, out = work / "home", work / "out"
    out.mkdir(parents=True)
    pid = str(_make_clinic(home))
    csv = _keypoints(out / "run.csv")
    tiny, limit, mounted = _tiny_disk(work)
    results: dict[str, dict[str, object]] = {}
    try:
        for ext in ("json", "pdf", "wav"):
            (out / f"full.{ext}").symlink_to("/dev/full")
        an = ["analyze", "--keypoints", str(csv), "--json"]
        pr = ["program", "--patient", pid, "--out"]
        me = ["metronome", "--spm", "170", "--minutes", "1", "--out"]
        cli_cases: list[tuple[str, list[str], str, Path | None, str]] = [
            ("analyze_dev_full", [*an, "/dev/full", "--force"], "file", None, "json"),
            (
                "analyze_dev_full_link",
                [*an, str(out / "full.json"), "--force"],
                "file",
                None,
                "json",
            ),
            ("analyze_stdout_dev_full", [*an, "-"], "stdout", None, "json"),
            ("analyze_nearly_full", [*an, str(tiny / "r.json")], "file", tiny / "r.json", "json"),
            ("program_dev_full_link", [*pr, str(out / "full.pdf"), "--force"], "file", None, "pdf"),
            ("program_stdout_dev_full", [*pr, "-"], "stdout", None, "pdf"),
            ("program_nearly_full", [*pr, str(tiny / "p.pdf")], "file", tiny / "p.pdf", "pdf"),
            (
                "metronome_dev_full_link",
                [*me, str(out / "full.wav"), "--force"],
                "file",
                None,
                "wav",
            ),
        ]
        for ext in ("wav", "m4a", "mp3"):
            target = tiny / f"m.{ext}"
            cli_cases.append(
                (f"metronome_nearly_full_{ext}", [*me, str(target)], "file", target, ext)
            )
        for name, argv, mode, target, kind in cli_cases:
            rows = _program_rows(home)
            if mode == "stdout":
                with open("/dev/full", "wb") as full:
                    r = _run(_cli(*argv), home, stdout=full)
            else:
                r = _run(_cli(*argv), home, limit=limit if target is not None else None)
            claimed = r["rc"] == 0
            valid = target is not None and _valid(target, kind)
            results[name] = {
                "claimed_success": claimed,
                "valid": valid,
                "hung": r["hung"],
                "seconds": r["s"],
                "traceback": "Traceback" in str(r["err"]),
                "records_added": _program_rows(home) - rows,
            }
            if target is not None:
                target.unlink(missing_ok=True)
        gui_cases = [
            ("gui_pdf", tiny / "g.pdf", ["pdf"]),
            ("gui_metronome", tiny / "g.wav", ["wav"]),
            ("gui_history", tiny / "hist", ["csv", "xlsx", "zip"]),
            ("gui_research", tiny / "res", ["csv", "xlsx", "zip"]),
            ("gui_audit_csv", tiny / "audit.csv", ["csv"]),
            ("gui_still", tiny / "still.png", ["png"]),
        ]
        reliability = str(ROOT / "benchmarks" / "reliability.py")
        for name, target, kinds in gui_cases:
            kind = name.removeprefix("gui_")
            argv = [sys.executable, reliability, "writer-child", kind, str(home), str(target), pid]
            r = _run(argv, home, limit=limit)
            line = next((x for x in str(r["out"]).splitlines() if x.startswith("RESULT")), "")
            claimed = line.startswith("RESULT OK")
            files = json.loads(line.removeprefix("RESULT OK ")) if claimed else []
            valid = claimed and all(_valid(Path(f), Path(f).suffix.lstrip(".")) for f in files)
            results[name] = {
                "claimed_success": claimed,
                "valid": valid,
                "hung": r["hung"],
                "seconds": r["s"],
                "traceback": "Traceback" in str(r["err"]) and not line,
                "message": line[:200],
            }
            del kinds
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            target.unlink(missing_ok=True)
        litter = [p.name for p in tiny.rglob("*.partial")] + [
            p.name for p in out.rglob("*.partial")
        ]
    finally:
        if mounted:
            subprocess.run(["umount", str(tiny)], capture_output=True)
    false = [n for n, r in results.items() if r["claimed_success"] and not r["valid"]]
    return {
        "full_disk_writer_runs": len(results),
        "full_disk_false_successes": len(false),
        "full_disk_false_success_names": false,
        "full_disk_hangs": sum(bool(r["hung"]) for r in results.values()),
        "full_disk_records_of_unwritten_files": sum(
            int(r.get("records_added", 0))
            for r in results.values()
            if not r["valid"]  # type: ignore[call-overload]
        ),
        "full_disk_tracebacks": sum(bool(r["traceback"]) for r in results.values()),
        "full_disk_temp_files_left": len(litter),
        "full_disk_nearly_full_method": "tmpfs 4 KB free" if mounted else "RLIMIT_FSIZE 8 KB",
        "full_disk_max_seconds": max(float(r["seconds"]) for r in results.values()),  # type: ignore[arg-type]
        "full_disk_details": results,
    }


CASES = {
    "cli_overwrite_attempts": cli_overwrite_attempts,
    "full_disk_writers": full_disk_writers,
}
CHILDREN = {"writer-child": writer_child}
