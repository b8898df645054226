"""Fault cases for media tied to records (issue 13, items 1 and 7).

``restore_then_create_then_delete``: patient A gets a video (imported), an exported still and a
given home program; a backup is taken; an *earlier* backup (before A) is restored, so A's row is
gone but A's files stay on disk; patient B is created (SQLite gives B A's id again), gets a visit,
an import of a video with the same file name and a home program; B's home-program stills are
chosen; then B is deleted and the files removed as the GUI does. Counts (targets 0, except
``media_restore_ids_reused`` which shows the rounds really reused A's ids):

* ``media_restore_files_adopted``: files already in B's new folders before B stored anything;
* ``media_restore_foreign_stills_offered``: stills of A offered for B's home program;
* ``media_restore_foreign_files_removed`` / ``..._touched``: A's files gone / changed after
  deleting B (by content hash and modification time).

``concurrent_imports``: two processes import a video into one visit at the same moment (both
files are called ``run.mp4`` but differ), released together over their stdin, ``--rounds``
times, on a simulated slow file system (every rename or link takes ``SLOW_NAME_MS``), every
other round also without hard links (as on a FAT/exFAT stick). Counts: ``media_import_rows_sharing_a_file`` (rows minus distinct files),
``media_import_videos_overwritten`` (a row whose file is not what its process imported),
``media_import_failures`` (a child that did not report an import).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESTORE_ROUNDS = 3
IMPORT_ROUNDS = 12
# Each rename/link in the importing children takes this long (a slow network share).
SLOW_NAME_MS = 100


def _digest(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def _files_under(*folders: Path) -> list[Path]:
    return [p for f in folders if f.is_dir() for p in f.rglob("*") if p.is_file()]


def _patient_with_media(clinic, name: str, clip: Path) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """A patient with one visit, an imported video, a still and a given program."""
    from app.db.models import Recording
    from app.records.media import still_path
    from app.records.patients import PatientData, create_patient
    from app.records.recordings import import_recording, resolve_video
    from app.records.visits import VisitData, create_visit
    from app.reports.home_program import HomeProgramContent, record_program

    layout = clinic.folder.media(clinic.videos_root)
    with clinic.db.session() as s:
        p = create_patient(s, PatientData(full_name=name))
        v = create_visit(s, p.id, VisitData(visit_date="2026-05-01"))
        pid, vid, puid, vuid = p.id, v.id, p.uid, v.uid
    # Before anything is stored for this patient, their folders must be empty.
    adopted = _files_under(layout.visit_folder(puid, vuid), layout.program_folder(puid))
    rid = import_recording(clinic.db, clinic.videos_root, vid, clip)
    with clinic.db.session() as s:
        video = resolve_video(s.get(Recording, rid), clinic.videos_root)
        still = still_path(s, layout, rid, 12)  # the marking panel's "Export frame" name
    still.write_bytes(f"still of {name}".encode())
    pdf = clip.with_name(f"{name}.pdf")
    pdf.write_bytes(b"%PDF-1.4 program of " + name.encode() + b"\n%%EOF\n")
    with clinic.db.session() as s:
        row = record_program(
            s, clinic.folder.root, HomeProgramContent(patient_name=name, patient_id=pid, visit_id=vid), pdf
        )
        program = clinic.folder.root / str(row.pdf_path)
    return {
        "ids": (pid, vid, rid), "files": [video, still, program], "adopted": len(adopted),
    }  # fmt: skip


def restore_then_create_then_delete(work: Path, seed: int) -> dict[str, object]:
    """See the module docstring."""
    import random

    from app.clinic import open_clinic
    from app.paths import DataFolder
    from app.records.patients import PatientData, create_patient, delete_patient, remove_media
    from app.reports.home_program import default_stills
    from app.safety.backup import backup_database, restore_into_clinic
    from app.video.synthetic import write_clip

    rng = random.Random(seed)
    (work / "phone").mkdir()
    clip = write_clip(work / "phone" / "run.mp4", n_frames=8)
    counts = dict.fromkeys(
        ("adopted", "stills", "removed", "touched", "reused", "problems"), 0
    )
    for r in range(RESTORE_ROUNDS):
        clinic = open_clinic(folder=DataFolder(work / f"clinic{r}"))
        try:
            with clinic.db.session() as s:
                for k in range(rng.randint(1, 5)):
                    create_patient(s, PatientData(full_name=f"Earlier {k}"))
            earlier = backup_database(clinic.db.sqlite_path, clinic.folder.backups).path
            a = _patient_with_media(clinic, "Anna", clip)
            # The old versions' still name of the same frame: never offered to anyone now.
            legacy = clinic.folder.stills / f"recording{a['ids'][2]}_frame12.png"  # type: ignore[index]
            legacy.write_bytes(b"old still of Anna")
            a_files = [*a["files"], legacy]  # type: ignore[misc]
            before = {p: _digest(p) for p in a_files}
            # A later backup too (no rotation: a second same-day backup would replace the first).
            backup_database(clinic.db.sqlite_path, clinic.folder.backups)
            restore_into_clinic(clinic, earlier)
            b = _patient_with_media(clinic, "Bert", clip)
            counts["reused"] += int(b["ids"] == a["ids"])
            counts["adopted"] += int(b["adopted"])  # type: ignore[call-overload]
            b_pid = b["ids"][0]  # type: ignore[index]
            with clinic.db.session() as s:
                offered = default_stills(s, clinic.folder.stills, b_pid)
            counts["stills"] += sum(1 for p in offered if p is not None and p in before)
            with clinic.db.session() as s:
                paths = delete_patient(s, b_pid, clinic.videos_root, clinic.folder.root)
            counts["problems"] += len(remove_media(paths))
            for p, (digest, mtime) in before.items():
                if not p.exists():
                    counts["removed"] += 1
                elif _digest(p) != (digest, mtime):
                    counts["touched"] += 1
        finally:
            clinic.close()
    return {
        "media_restore_rounds": RESTORE_ROUNDS,
        "media_restore_ids_reused": counts["reused"],
        "media_restore_files_adopted": counts["adopted"],
        "media_restore_foreign_stills_offered": counts["stills"],
        "media_restore_foreign_files_removed": counts["removed"],
        "media_restore_foreign_files_touched": counts["touched"],
        "media_restore_remove_problems": counts["problems"],
    }


def _slow_names(delay_s: float) -> None:
    """Fault: a slow file system, where giving a file its name (rename, link) takes a while.

    Widens any gap between "is this name free?" and "take it", which is what made two imports
    share one name; an exclusive claim is unaffected by the delay."""
    import time

    for fn in ("replace", "rename", "link"):
        real = getattr(os, fn)

        def slow(*args, _real=real, **kwargs):  # type: ignore[no-untyped-def]
            time.sleep(delay_s)
            return _real(*args, **kwargs)

        setattr(os, fn, slow)


def _no_hard_links() -> None:
    """A file system without hard links (FAT/exFAT stick, some shares): ``link`` fails."""
    import errno

    def no_link(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    os.link = no_link  # type: ignore[assignment]


def import_child(
    home: str, visit_id: str, source: str, slow_ms: str = "0", links: str = "1"
) -> None:
    """Open the clinic, say ``ready``, wait for ``go`` on stdin, import once, report JSON."""
    from app.clinic import open_clinic
    from app.paths import DataFolder
    from app.records.recordings import import_recording

    clinic = open_clinic(folder=DataFolder(Path(home)))
    if links == "0":
        _no_hard_links()
    if float(slow_ms) > 0:
        _slow_names(float(slow_ms) / 1000)
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        rid = import_recording(clinic.db, clinic.videos_root, int(visit_id), Path(source))
        print(json.dumps({"rid": rid}), flush=True)
    except Exception as exc:  # reported, counted as a failure by the parent
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
    finally:
        clinic.close()


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "reliability.py"), "media-import-child", *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def concurrent_imports(work: Path, seed: int, rounds: int = IMPORT_ROUNDS) -> dict[str, object]:
    """See the module docstring."""
    from app.clinic import open_clinic
    from app.db.models import Recording
    from app.paths import DataFolder
    from app.records.patients import PatientData, create_patient
    from app.records.recordings import resolve_video
    from app.records.visits import VisitData, create_visit
    from app.video.synthetic import write_clip

    home = work / "clinic"
    sources = []
    for k in (0, 1):
        (work / f"phone{k}").mkdir()
        sources.append(write_clip(work / f"phone{k}" / "run.mp4", n_frames=10 + 5 * k))
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in sources]
    clinic = open_clinic(folder=DataFolder(home))
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Import Race")).id
    shared = overwritten = failures = 0
    for r in range(rounds):
        with clinic.db.session() as s:
            vid = create_visit(s, pid, VisitData()).id
        links = "1" if r % 2 == 0 else "0"  # every other round without hard links
        kids = [_spawn(str(home), str(vid), str(src), str(SLOW_NAME_MS), links) for src in sources]
        for kid in kids:
            assert kid.stdout is not None
            if kid.stdout.readline().strip() != "ready":
                failures += 1
        for kid in kids:  # released together: both copy, then both take a name at once
            assert kid.stdin is not None
            kid.stdin.write("go\n")
            kid.stdin.flush()
        got: list[int | None] = []
        for kid in kids:
            out, _ = kid.communicate(timeout=120)
            try:
                got.append(int(json.loads(out.strip().splitlines()[-1])["rid"]))
            except (ValueError, KeyError, IndexError):
                got.append(None)
                failures += 1
        with clinic.db.session() as s:
            rows = s.query(Recording).filter(Recording.visit_id == vid).all()
            files = {r.id: resolve_video(r, clinic.videos_root) for r in rows}
        shared += len(files) - len({os.path.realpath(p) for p in files.values()})
        for k, rid in enumerate(got):
            if rid is None:
                continue
            path = files.get(rid)
            ok = path is not None and path.is_file()
            overwritten += not (ok and hashlib.sha256(path.read_bytes()).hexdigest() == digest[k])  # type: ignore[union-attr]
    clinic.close()
    return {
        "media_import_rounds": rounds,
        "media_import_rows_sharing_a_file": shared,
        "media_import_videos_overwritten": overwritten,
        "media_import_failures": failures,
    }


CASES = {
    "restore_then_create_then_delete": restore_then_create_then_delete,
    "concurrent_imports": concurrent_imports,
}
CHILDREN = {"media-import-child": import_child}
