"""Fault cases of the marking panel's autosave (issue 13, item 4: a mark lost after a failed save).

``autosave_during_lock``: a child process holds the clinic database (``BEGIN EXCLUSIVE``, as
another program or a second copy would) while marks are made through
:class:`app.annotation.autosave.AutoSaver`, the panel's only way to the database.

* Round "release": 31 marks are made during the lock, then the lock is released; every mark must
  reach the database. ``autosave_submit_max_ms`` is the longest the caller (the GUI thread) was
  held by one edit: the database wait must be spent on the worker, never there.
* Round "crash": an editor child makes 31 marks during the lock, acknowledging each once
  ``submit`` returned, and is SIGKILLed while the lock is still held (the window died, or was
  closed anyway); the lock is released and the next start's journal replay runs. Every
  acknowledged mark must be in the database.

Target: ``autosave_edits_lost`` 0.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

MARKS = 31


def _marks(n: int) -> list:  # type: ignore[type-arg]
    from app.analysis.events import EventType, Foot, FootEvent

    feet = (Foot.LEFT, Foot.RIGHT)
    return [FootEvent(feet[i % 2], EventType.INITIAL_CONTACT, 10 * i, i / 24) for i in range(n)]


def lock_holder(db_path: str) -> None:
    """Hold the database exclusively until a line arrives on stdin."""
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=10)
    conn.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    sys.stdin.readline()
    conn.execute("COMMIT")
    conn.close()
    print("released", flush=True)


def editor(home: str, recording_id: str, marks: str) -> None:
    """Open the clinic and mark through the autosave, acknowledging each journalled edit."""
    os.environ["STRIDE_CLINIC_HOME"] = home
    from app.annotation.autosave import AutoSaver
    from app.annotation.journal import Journal, events_to_json
    from app.clinic import open_clinic
    from app.db.models import Recording

    clinic = open_clinic()
    rid = int(recording_id)
    with clinic.db.session() as s:
        rec = s.get(Recording, rid)
        uid, rev = rec.uid, rec.events_revision
    saver = AutoSaver(clinic.db, Journal(clinic.folder.root), uid, rid, rev)
    print("ready", flush=True)
    for n in range(1, int(marks) + 1):
        saver.submit({"events": events_to_json(_marks(n))})
        print(f"ack {n}", flush=True)
        time.sleep(0.01)
    print("done", flush=True)
    time.sleep(3600)  # killed by the parent while the lock is still held


def _stored(home: Path, rid: int) -> int:
    from app.clinic import open_clinic
    from app.paths import DataFolder
    from app.records.recordings import events_of

    clinic = open_clinic(folder=DataFolder(home))
    try:
        with clinic.db.session() as s:
            return len(events_of(s, rid))
    finally:
        clinic.close()


def _wait_line(reader, want: str, timeout: float) -> list[str]:  # type: ignore[no-untyped-def]
    lines: list[str] = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = reader.get(timeout=max(0.01, end - time.monotonic()))
        if line is None:
            break
        lines.append(line)
        if line == want or line == "<eof>":
            return lines
    raise RuntimeError(f"child did not say {want!r}: {lines[-3:]}")


def autosave_during_lock(work: Path, seed: int) -> dict[str, object]:
    from app.annotation.autosave import AutoSaver
    from app.annotation.journal import Journal, events_to_json, replay_pending
    from app.clinic import open_clinic
    from app.db.models import Recording
    from app.paths import DataFolder
    from benchmarks.reliability import LineReader, _child, make_clinic

    lost = 0
    problems: list[str] = []

    # --- round 1: the lock is released while the program keeps running --------------------
    home = work / "release"
    rid = make_clinic(home)
    clinic = open_clinic(folder=DataFolder(home))
    with clinic.db.session() as s:
        rec = s.get(Recording, rid)
        uid, rev = rec.uid, rec.events_revision
    saver = AutoSaver(clinic.db, Journal(clinic.folder.root), uid, rid, rev)
    holder = _child("marking-lock-holder", str(clinic.folder.database))
    reader = LineReader(holder)
    _wait_line(reader, "locked", 30)
    slowest = 0.0
    for n in range(1, MARKS + 1):
        t0 = time.perf_counter()
        saver.submit({"events": events_to_json(_marks(n))})
        slowest = max(slowest, time.perf_counter() - t0)
        time.sleep(0.05)
    stored_during_lock = _stored(home, rid)
    assert holder.stdin is not None
    holder.stdin.write("release\n")
    holder.stdin.flush()
    _wait_line(reader, "released", 30)
    t_release = time.perf_counter()
    saved = saver.wait_saved(60)
    saved_after_s = time.perf_counter() - t_release
    saver.stop()
    holder.wait(10)
    clinic.close()
    got = _stored(home, rid)
    if got != MARKS:
        lost += MARKS - got
        problems.append(f"release round: {got} of {MARKS} marks stored (saved={saved})")

    # --- round 2: the program dies (or is closed anyway) during the lock ---------------------
    home2 = work / "crash"
    rid2 = make_clinic(home2)
    folder2 = DataFolder(home2)
    holder = _child("marking-lock-holder", str(folder2.database))
    reader = LineReader(holder)
    _wait_line(reader, "locked", 30)
    ed = _child("marking-editor", str(home2), str(rid2), str(MARKS))
    ed_reader = LineReader(ed)
    lines = _wait_line(ed_reader, "done", 60)
    acked = max((int(x.split()[1]) for x in lines if x.startswith("ack ")), default=0)
    ed.send_signal(signal.SIGKILL)
    ed.wait()
    assert holder.stdin is not None
    holder.stdin.write("release\n")
    holder.stdin.flush()
    _wait_line(reader, "released", 30)
    holder.wait(10)
    before_replay = _stored(home2, rid2)
    clinic2 = open_clinic(folder=folder2)  # the next start
    outcomes = replay_pending(clinic2.db, folder2.root)
    clinic2.close()
    got2 = _stored(home2, rid2)
    if got2 < acked:
        lost += acked - got2
        problems.append(f"crash round: {got2} stored, {acked} acknowledged")
    return {
        "autosave_edits_made": MARKS + acked,
        "autosave_edits_lost": lost,
        "autosave_stored_during_lock": stored_during_lock,
        "autosave_submit_max_ms": round(slowest * 1000, 1),
        "autosave_saved_after_release_s": round(saved_after_s, 2),
        "autosave_crash_stored_before_replay": before_replay,
        "autosave_crash_replay": [o.status for o in outcomes],
        "autosave_problems": problems,
    }


CASES = {"autosave_during_lock": autosave_during_lock}
CHILDREN = {"marking-lock-holder": lock_holder, "marking-editor": editor}
