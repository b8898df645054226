"""Reliability benchmark (prints one JSON object): crashes, damaged files, concurrent writers.

Usage: .venv/bin/python benchmarks/reliability.py [--kills 100] [--corrupt 300]
       [--analyze 12] [--pg-seconds 60] [--seed 1]

1. ``kill_edits_lost``: a child process opens the clinic and performs the annotation panel's
   autosave (``replace_events`` with ``expected_revision``, one transaction per edit), printing
   ``ack N`` after each commit. The parent SIGKILLs it at ``--kills`` random moments (a few during
   start-up, the rest while saving), reopens the database (``open_database``: quick_check and
   migrations) and checks that the stored events are exactly one whole edit, no older than the
   last acknowledged one. Target 0 lost.
2. ``corrupt_crashes``: ``--corrupt`` damaged videos (tests/corrupt_videos.py) are imported
   through ``import_recording`` in a worker process with a 10 s watchdog per file; a worker that
   dies, hangs or raises anything but a ``VideoError`` counts as a crash. ``--analyze`` of them
   also go through ``stride-clinic analyze FILE --json -`` (exit code must be 0 or 2 with one
   line on stderr). Target 0.
3. ``lost_updates``: two writer processes on a throwaway PostgreSQL server for ``--pg-seconds``
   increment a counter in one patient's notes (read in one transaction, saved in the next with
   ``expected_version``, retried on conflict) and append foot events to one recording (saved
   with ``expected_revision``). Lost = successful commits − increments visible at the end. A
   short control run without version checks shows the method does detect lost updates.

4. Fault cases from ``benchmarks/faults/`` (one module per area: restore, locks, full disk,
   overwrites, concurrent imports, ...), each reporting its own counts; ``--only-faults [CASE ...]``
   runs just those.

Not measured here: a recording in progress when the program dies stays playable because the
capture engine writes crash-safe Matroska (see tests/app/test_capture_crash.py).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EVENTS_PER_EDIT = 20


# --- shared helpers --------------------------------------------------------------------------


def edit_events(i: int) -> list:
    """The events of edit number ``i``: 20 alternating contacts whose frames encode ``i``."""
    from app.analysis.events import EventType, Foot, FootEvent

    feet = (Foot.LEFT, Foot.RIGHT)
    return [
        FootEvent(
            feet[k % 2], EventType.INITIAL_CONTACT, i * 1000 + 10 * k, (i * 1000 + 10 * k) / 240
        )
        for k in range(EVENTS_PER_EDIT)
    ]


def make_clinic(home: Path) -> int:
    """A clinic in ``home`` with one patient, visit and recording; returns the recording id."""
    from app.clinic import open_clinic
    from app.paths import DataFolder
    from app.records.patients import PatientData, create_patient
    from app.records.recordings import add_recording
    from app.records.visits import VisitData, create_visit

    clinic = open_clinic(folder=DataFolder(Path(home)))
    with clinic.db.session() as s:
        p = create_patient(s, PatientData(full_name="Bench Runner", notes="0"))
        v = create_visit(s, p.id, VisitData())
        rid = add_recording(s, v.id, video_path="bench.mp4", container_fps=240.0).id
    clinic.close()
    return rid


class LineReader:
    """Collects a child's stdout lines with arrival times in a thread (never blocks)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self._t = threading.Thread(target=self._run, args=(proc,), daemon=True)
        self._t.start()

    def _run(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.put(line.strip())
        self.lines.put("<eof>")

    def get(self, timeout: float) -> str | None:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def drain(self) -> list[str]:
        self._t.join(timeout=10)
        out = []
        while True:
            try:
                out.append(self.lines.get_nowait())
            except queue.Empty:
                return out


def _child(mode: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), mode, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


# --- 1. kill -9 during annotation -------------------------------------------------------------


def annotate_child(home: str, recording_id: str) -> None:
    """The scripted annotation session: autosave edit after edit, acknowledging each commit."""
    os.environ["STRIDE_CLINIC_HOME"] = home
    from app.clinic import open_clinic
    from app.records.recordings import events_revision, replace_events

    clinic = open_clinic()
    rid = int(recording_id)
    with clinic.db.session() as s:
        rev = events_revision(s, rid)
    print(f"ready {rev}", flush=True)
    i = rev
    while True:
        i += 1
        with clinic.db.session() as s:
            rev = replace_events(s, rid, edit_events(i), expected_revision=rev)
        print(f"ack {i}", flush=True)


def check_stored(home: Path, rid: int) -> tuple[int, bool]:
    """(revision, consistent) of the stored events after a crash, via a normal reopen."""
    from app.clinic import open_clinic
    from app.paths import DataFolder
    from app.records.recordings import events_of, events_revision

    clinic = open_clinic(folder=DataFolder(Path(home)))  # quick_check + migrations, as a restart
    try:
        with clinic.db.session() as s:
            rev = events_revision(s, rid)
            frames = [e.frame for e in events_of(s, rid)]
    finally:
        clinic.close()
    expected = [e.frame for e in edit_events(rev)] if rev > 0 else []
    return rev, sorted(frames) == sorted(expected)


def kill_session(rounds: int, seed: int, home: Path | None = None) -> dict[str, object]:
    rng = random.Random(seed)
    home = home or Path(tempfile.mkdtemp(prefix="stride-kill-"))
    rid = make_clinic(home)
    lost = inconsistent = acked_total = during_startup = 0
    problems: list[str] = []
    previous = 0  # newest edit acknowledged in any earlier round
    for r in range(rounds):
        proc = _child("annotate-child", str(home), str(rid))
        reader = LineReader(proc)
        lines: list[str] = []
        if r % 10 == 9:  # a tenth of the kills land during start-up (opening, checks)
            time.sleep(rng.uniform(0.0, 0.6))
            during_startup += 1
        else:
            line = reader.get(timeout=60)
            if line is None or not line.startswith("ready"):
                proc.kill()
                raise RuntimeError(f"annotation child did not start: {line!r}")
            lines.append(line)
            time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        lines += reader.drain()
        acks = [int(x.split()[1]) for x in lines if x.startswith("ack ")]
        acked_total += len(acks)
        # Before the first ack of this round, the newest acknowledged edit is the previous one.
        last = max(acks) if acks else previous
        previous = max(previous, last)
        rev, ok = check_stored(home, rid)
        if rev < last:
            lost += last - rev
            problems.append(f"round {r}: stored revision {rev} < last ack {last}")
        previous = max(previous, rev)  # what the next round's child starts from
        if not ok or rev > last + 1:
            inconsistent += 1
            problems.append(f"round {r}: stored revision {rev}, last ack {last}, whole edit {ok}")
    return {
        "kill_rounds": rounds,
        "kill_edits_acknowledged": acked_total,
        "kill_edits_lost": lost,
        "kill_inconsistent_states": inconsistent,
        "kill_rounds_during_startup": during_startup,
        "kill_problems": problems[:10],
    }


# --- 2. damaged videos ------------------------------------------------------------------------


def import_worker(home: str) -> None:
    """Import each path read from stdin into one visit; print one result line per file."""
    os.environ["STRIDE_CLINIC_HOME"] = home
    from app.clinic import open_clinic
    from app.records.recordings import import_recording
    from app.records.visits import visits_of
    from app.video import VideoError

    clinic = open_clinic()
    with clinic.db.session() as s:
        from app.db.models import Patient

        pid = s.query(Patient.id).first()[0]
        visit_id = visits_of(s, pid)[0].id
    print("ready", flush=True)
    for line in sys.stdin:
        path = Path(line.strip())
        try:
            import_recording(clinic.db, clinic.videos_root, visit_id, path)
            print("ok", flush=True)
        except VideoError as exc:
            one_line = "\n" not in exc.message and bool(exc.message)
            print("error" if one_line else "bad-message", flush=True)
        except Exception as exc:  # noqa: BLE001 - this is what the benchmark counts
            print(f"crash {type(exc).__name__}", flush=True)


def corrupt_imports(
    count: int, seed: int, work: Path, timeout_s: float = 10.0
) -> dict[str, object]:
    from tests.corrupt_videos import corpus

    cases = corpus(work / "corpus", count, seed=seed)
    home = work / "home"
    make_clinic(home)
    results: dict[str, int] = {"ok": 0, "error": 0, "crash": 0, "hang": 0, "bad-message": 0}
    crashes: list[str] = []
    slowest = 0.0
    proc = reader = None
    for case in cases:
        if proc is None:
            proc = _child("import-worker", str(home))
            reader = LineReader(proc)
            if reader.get(timeout=60) != "ready":
                raise RuntimeError("import worker did not start")
        assert proc.stdin is not None and reader is not None
        t0 = time.perf_counter()
        proc.stdin.write(f"{case.path}\n")
        proc.stdin.flush()
        line = reader.get(timeout=timeout_s)
        slowest = max(slowest, time.perf_counter() - t0)
        if line is None:
            results["hang"] += 1
            crashes.append(f"hang: {case.path.name}")
        elif line in ("ok", "error", "bad-message"):
            results[line] += 1
            if line == "bad-message":
                crashes.append(f"multi-line message: {case.path.name}")
            continue
        else:
            results["crash"] += 1
            crashes.append(f"{line}: {case.path.name}")
        proc.kill()  # died, hung or raised: start a fresh worker for the next file
        proc.wait()
        proc = None
    if proc is not None:
        proc.stdin.close()  # type: ignore[union-attr]
        proc.wait(timeout=30)
    return {
        "corrupt_files": len(cases),
        "corrupt_crashes": results["crash"] + results["hang"],
        "corrupt_hangs": results["hang"],
        "corrupt_imported_ok": results["ok"],
        "corrupt_refused_with_message": results["error"],
        "corrupt_multiline_messages": results["bad-message"],
        "corrupt_slowest_s": round(slowest, 2),
        "corrupt_problems": crashes[:20],
        "_cases": cases,
    }


def analyze_one(path: Path, timeout_s: float = 120.0) -> tuple[str, int | None, str]:
    """Run ``stride-clinic analyze PATH --json -``; returns (verdict, exit code, stderr line)."""
    exe = ROOT / ".venv" / "bin" / "stride-clinic"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "app.analysis.analyze"]
    try:
        r = subprocess.run(
            [*cmd, "analyze", str(path), "--json", "-"] if exe.exists() else [*cmd, str(path), "--json", "-"],
            capture_output=True, text=True, timeout=timeout_s, cwd=ROOT,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return "hang", None, ""
    err = r.stderr.strip()
    if r.returncode == 0:
        try:
            json.loads(r.stdout)
        except ValueError:
            return "crash", 0, "exit 0 without JSON"
        return "ok", 0, ""
    if r.returncode == 2 and err and "\n" not in err and "Traceback" not in err:
        return "error", 2, err
    return "crash", r.returncode, err[-300:]


def corrupt_analyze(cases: list, n: int) -> dict[str, object]:
    if n <= 0:
        return {}
    step = max(1, len(cases) // n)
    chosen = [c.path for c in cases[::step][:n]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        verdicts = list(pool.map(analyze_one, chosen))
    bad = [
        f"{v}: {p.name} {e[:120]}"
        for p, (v, _c, e) in zip(chosen, verdicts, strict=True)
        if v in ("crash", "hang")
    ]
    technical = sum(1 for _v, _c, e in verdicts if "Errno" in e or "avcodec" in e)
    return {
        "analyze_files": len(chosen),
        "analyze_crashes": len(bad),
        "analyze_problems": bad[:10],
        "analyze_messages_with_technical_text": technical,
    }


# --- 3. two writers on PostgreSQL -------------------------------------------------------------


def pg_writer(url: str, patient_id: str, recording_id: str, seconds: str, checked: str) -> None:
    """Increment the patient counter and append events until time is up; print the counts."""
    from sqlalchemy import text

    from app.analysis.events import EventType, Foot, FootEvent
    from app.clinic import open_clinic_database
    from app.db.models import Patient
    from app.records.patients import PatientData, update_patient
    from app.records.recordings import events_of, events_revision, replace_events
    from app.records.validation import ValidationError

    db = open_clinic_database(url)  # with the audit trail, as the program runs
    pid, rid, use_checks = int(patient_id), int(recording_id), checked == "1"
    me = os.getpid()
    end = time.monotonic() + float(seconds)
    counts = {
        "patient_commits": 0,
        "patient_conflicts": 0,
        "event_commits": 0,
        "event_conflicts": 0,
    }
    k = 0
    while time.monotonic() < end:
        k += 1
        # the patient form: load in one transaction, save in the next
        with db.session() as s:
            p = s.get(Patient, pid)
            assert p is not None
            data, version, value = PatientData.from_patient(p), p.version, int(p.notes or 0)
        data.notes = str(value + 1)
        try:
            with db.session() as s:
                if use_checks:
                    update_patient(s, pid, data, expected_version=version)
                else:  # control: a naive save without any version check
                    s.execute(
                        text("UPDATE patient SET notes = :n WHERE id = :i"),
                        {"n": data.notes, "i": pid},
                    )
            counts["patient_commits"] += 1
        except ValidationError:
            counts["patient_conflicts"] += 1
        # the annotation panel: load events + revision, add a mark, autosave
        with db.session() as s:
            rev = events_revision(s, rid)
            events = events_of(s, rid)
        frame = (me % 100000) * 10000 + k
        events.append(FootEvent(Foot.LEFT, EventType.INITIAL_CONTACT, frame, frame / 240))
        try:
            with db.session() as s:
                replace_events(s, rid, events, expected_revision=rev if use_checks else None)
            counts["event_commits"] += 1
        except ValidationError:
            counts["event_conflicts"] += 1
    db.dispose()
    print(json.dumps(counts), flush=True)


def _pg_round(server, seconds: float, checked: bool) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from app.clinic import open_clinic_database
    from app.db.models import Patient
    from app.records.patients import PatientData, create_patient
    from app.records.recordings import add_recording, events_of
    from app.records.visits import VisitData, create_visit

    url = server.create_database()
    db = open_clinic_database(url)
    with db.session() as s:
        p = create_patient(s, PatientData(full_name="Counter Runner", notes="0"))
        v = create_visit(s, p.id, VisitData())
        rid = add_recording(s, v.id, video_path="x.mp4").id
        pid = p.id
    args = (url, str(pid), str(rid), str(seconds), "1" if checked else "0")
    procs = [_child("pg-writer", *args) for _ in range(2)]
    totals = {
        "patient_commits": 0,
        "patient_conflicts": 0,
        "event_commits": 0,
        "event_conflicts": 0,
    }
    for proc in procs:
        out, _ = proc.communicate(timeout=seconds + 120)
        for key, val in json.loads(out.strip().splitlines()[-1]).items():
            totals[key] += val
    with db.session() as s:
        final = int(s.get(Patient, pid).notes or 0)  # type: ignore[union-attr]
        stored_events = len(events_of(s, rid))
    db.dispose()
    totals["lost_patient_updates"] = totals["patient_commits"] - final
    totals["lost_event_saves"] = totals["event_commits"] - stored_events
    return totals


def pg_lost_updates(seconds: float) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    from tests.pg import PostgresServer, unavailable_reason

    reason = unavailable_reason()
    if reason:
        return {"lost_updates": None, "pg_skipped": reason}
    server = PostgresServer()
    try:
        server.start()
        checked = _pg_round(server, seconds, checked=True)
        control = _pg_round(server, min(5.0, seconds), checked=False)
    finally:
        server.stop()
    return {
        "lost_updates": checked["lost_patient_updates"] + checked["lost_event_saves"],
        "pg_seconds": seconds,
        "pg_writers": 2,
        "pg_detail": checked,
        "pg_control_without_version_checks": {
            "lost_patient_updates": control["lost_patient_updates"],
            "lost_event_saves": control["lost_event_saves"],
            "commits": control["patient_commits"] + control["event_commits"],
        },
    }


def fault_cases(work: Path, seed: int, only: list[str] | None) -> dict[str, object]:
    """The fault-injection cases of ``benchmarks/faults/`` (restore, locks, full disk, ...)."""
    from benchmarks.faults import all_cases

    out: dict[str, object] = {}
    for name, run in all_cases().items():
        if only and name not in only:
            continue
        case_dir = work / "faults" / name
        case_dir.mkdir(parents=True)
        t = time.perf_counter()
        out.update(run(case_dir, seed))
        out.setdefault("fault_case_seconds", {})[name] = round(time.perf_counter() - t, 1)  # type: ignore[index]
    return out


def main() -> int:
    if len(sys.argv) > 1:
        from benchmarks.faults import all_children

        children = {**CHILDREN, **all_children()}
        if sys.argv[1] in children:
            children[sys.argv[1]](*sys.argv[2:])
            return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--corrupt", type=int, default=300)
    ap.add_argument("--analyze", type=int, default=12)
    ap.add_argument("--pg-seconds", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--only-faults", nargs="*", default=None, metavar="CASE",
        help="run only these fault cases of benchmarks/faults/ and skip the rest",
    )
    args = ap.parse_args()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="stride-reliability-") as tmp:
        work = Path(tmp)
        out: dict[str, object] = {}
        if args.only_faults is not None:
            out.update(fault_cases(work, args.seed, args.only_faults or None))
            print(json.dumps(out, indent=2))
            return 0
        out.update(kill_session(args.kills, args.seed, work / "kill"))
        t1 = time.perf_counter()
        corrupt = corrupt_imports(args.corrupt, args.seed, work)
        cases = corrupt.pop("_cases")
        out.update(corrupt)
        out.update(corrupt_analyze(cases, args.analyze))  # type: ignore[arg-type]
        t2 = time.perf_counter()
        out.update(pg_lost_updates(args.pg_seconds))
        t3 = time.perf_counter()
        out.update(fault_cases(work, args.seed, None))
        t4 = time.perf_counter()
    out["seconds"] = {
        "kill": round(t1 - t0, 1),
        "corrupt": round(t2 - t1, 1),
        "postgres": round(t3 - t2, 1),
        "faults": round(t4 - t3, 1),
    }
    print(json.dumps(out, indent=2))
    return 0


CHILDREN = {
    "annotate-child": annotate_child,
    "import-worker": import_worker,
    "pg-writer": pg_writer,
}

if __name__ == "__main__":
    raise SystemExit(main())
