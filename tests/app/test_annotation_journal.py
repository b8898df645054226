"""The edit journal and the background autosave: nothing lost under a locked database or a crash."""

from __future__ import annotations

import sqlite3
import stat
import time
from pathlib import Path

import pytest

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.annotation.autosave import AutoSaver
from app.annotation.journal import Journal, JournalEntry, events_to_json, replay_pending
from app.db.models import Recording
from app.records.patients import PatientData, create_patient
from app.records.recordings import (
    add_recording,
    events_of,
    events_revision,
    overlays_of,
    replace_events,
)
from app.records.visits import VisitData, create_visit


@pytest.fixture
def clinic():  # type: ignore[no-untyped-def]
    from app.clinic import open_clinic

    c = open_clinic()
    yield c
    c.close()


@pytest.fixture
def rec(clinic) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Journal Runner")).id
        vid = create_visit(s, pid, VisitData()).id
        r = add_recording(s, vid, video_path="x.mp4", container_fps=120.0, capture_fps=120.0)
        return r.id, r.uid


def _marks(n: int) -> list[FootEvent]:
    feet = (Foot.LEFT, Foot.RIGHT)
    return [FootEvent(feet[i % 2], EventType.INITIAL_CONTACT, 10 * i, i / 12) for i in range(n)]


def _stored(clinic, rid: int) -> list[FootEvent]:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        return events_of(s, rid)


class _Lock:
    """Another program holding the database (``BEGIN EXCLUSIVE``) until released."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=0.1)
        self.conn.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.close()


def test_journal_is_owner_only_atomic_and_readable(clinic, rec) -> None:  # type: ignore[no-untyped-def]
    rid, uid = rec
    journal = Journal(clinic.folder.root)
    entry = JournalEntry(uid, rid, 3, {"events": events_to_json(_marks(2))}, edits=2)
    journal.write(entry)
    path = journal.path(uid)
    assert path.parent == clinic.folder.root / "unsaved_edits"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not list(path.parent.glob("*.tmp"))  # written to a temporary file, then renamed
    back = journal.read(uid)
    assert back is not None and back.base_revision == 3 and back.edits == 2
    assert [e.frame for e in back.events or []] == [0, 10]
    assert journal.pending() == [uid]
    path.write_text("{ torn", encoding="utf-8")  # a damaged journal is set aside, not deleted
    assert journal.read(uid) is None
    assert path.with_suffix(".damaged").exists()


def test_edits_during_a_lock_are_journalled_then_saved_without_blocking(clinic, rec) -> None:  # type: ignore[no-untyped-def]
    rid, uid = rec
    journal = Journal(clinic.folder.root)
    saver = AutoSaver(clinic.db, journal, uid, rid, 0, retry_delays=(0.05,))
    lock = _Lock(clinic.folder.database)
    slowest = 0.0
    try:
        for n in range(1, 32):
            t0 = time.perf_counter()
            saver.submit({"events": events_to_json(_marks(n))})
            slowest = max(slowest, time.perf_counter() - t0)
        assert slowest < 0.5  # the caller (the GUI thread) never waits for the database
        assert saver.pending_edits == 31
        on_disk = journal.read(uid)
        assert on_disk is not None and len(on_disk.events or []) == 31  # kept while locked
        time.sleep(0.3)
        assert _stored(clinic, rid) == []
    finally:
        lock.release()
    assert saver.wait_saved(15.0)
    assert len(_stored(clinic, rid)) == 31
    assert journal.read(uid) is None  # removed only after the commit
    saver.stop()


def test_close_anyway_during_a_lock_is_replayed_at_the_next_start(clinic, rec) -> None:  # type: ignore[no-untyped-def]
    rid, uid = rec
    with clinic.db.session() as s:
        replace_events(s, rid, _marks(30), expected_revision=0)
    saver = AutoSaver(clinic.db, Journal(clinic.folder.root), uid, rid, 1, retry_delays=(0.05,))
    lock = _Lock(clinic.folder.database)
    saver.submit(
        {
            "events": events_to_json(_marks(31)),
            "overlays": [
                {"kind": "vline", "points": [[1.0, 2.0]], "value": None, "label": "hip", "frame": 4}
            ],
        }
    )
    saver.stop()  # the window was closed anyway; nothing reached the database
    lock.release()
    assert len(_stored(clinic, rid)) == 30
    outcomes = replay_pending(clinic.db, clinic.folder.root)
    assert [o.status for o in outcomes] == ["saved"]
    assert len(_stored(clinic, rid)) == 31
    with clinic.db.session() as s:
        assert [o.label for o in overlays_of(s, rid)] == ["hip"]
    assert Journal(clinic.folder.root).pending() == []


def test_replay_never_overwrites_another_workstations_save(clinic, rec) -> None:  # type: ignore[no-untyped-def]
    rid, uid = rec
    journal = Journal(clinic.folder.root)
    journal.write(JournalEntry(uid, rid, 0, {"events": events_to_json(_marks(3))}, edits=1))
    with clinic.db.session() as s:  # the other workstation saved twice meanwhile
        rev = replace_events(s, rid, _marks(1), expected_revision=0)
        replace_events(s, rid, _marks(2), expected_revision=rev)
    outcomes = replay_pending(clinic.db, clinic.folder.root)
    assert [o.status for o in outcomes] == ["conflict"]
    assert len(_stored(clinic, rid)) == 2
    assert journal.pending() == [uid]  # kept: the panel offers the choice on opening


def test_a_save_in_flight_at_the_crash_counts_as_ours(clinic, rec) -> None:  # type: ignore[no-untyped-def]
    rid, uid = rec
    with clinic.db.session() as s:  # our in-flight save of edit 1 committed...
        replace_events(s, rid, _marks(1), expected_revision=0)
    journal = Journal(clinic.folder.root)  # ...while the journal already held edit 2
    journal.write(JournalEntry(uid, rid, 0, {"events": events_to_json(_marks(2))}, 1, True))
    assert [o.status for o in replay_pending(clinic.db, clinic.folder.root)] == ["saved"]
    assert len(_stored(clinic, rid)) == 2


def test_a_journal_already_saved_is_just_removed(clinic, rec) -> None:  # type: ignore[no-untyped-def]
    rid, uid = rec
    with clinic.db.session() as s:
        replace_events(s, rid, _marks(2), expected_revision=0)
    journal = Journal(clinic.folder.root)
    journal.write(JournalEntry(uid, rid, 0, {"events": events_to_json(_marks(2))}, 1))
    assert [o.status for o in replay_pending(clinic.db, clinic.folder.root)] == ["already saved"]
    assert journal.pending() == []
    with clinic.db.session() as s:
        assert events_revision(s, rid) == 1  # nothing written twice


def test_a_journal_follows_the_uid_not_the_reusable_id(clinic, rec) -> None:  # type: ignore[no-untyped-def]
    rid, uid = rec
    journal = Journal(clinic.folder.root)
    journal.write(JournalEntry(uid, rid, 0, {"events": events_to_json(_marks(2))}, 1))
    with clinic.db.session() as s:  # the recording is deleted; a new one may get its id
        vid = s.get(Recording, rid).visit_id
        s.delete(s.get(Recording, rid))
        s.flush()
        new = add_recording(s, vid, video_path="y.mp4", container_fps=120.0)
        new_id = new.id
    outcomes = replay_pending(clinic.db, clinic.folder.root)
    assert [o.status for o in outcomes] == ["recording gone"]
    assert _stored(clinic, new_id) == []


def test_autosave_reports_a_conflict_and_keeps_theirs_until_told(clinic, rec) -> None:  # type: ignore[no-untyped-def]
    rid, uid = rec
    saver = AutoSaver(clinic.db, Journal(clinic.folder.root), uid, rid, 0, retry_delays=(0.05,))
    with clinic.db.session() as s:
        replace_events(s, rid, _marks(1), expected_revision=0)  # another workstation
    saver.submit({"events": events_to_json(_marks(5))})
    deadline = time.monotonic() + 10
    while not saver.in_conflict and time.monotonic() < deadline:
        time.sleep(0.02)
    assert saver.in_conflict
    assert len(_stored(clinic, rid)) == 1
    assert any(n.kind == "conflict" for n in saver.take_notices())
    saver.overwrite()
    assert saver.wait_saved(10)
    assert len(_stored(clinic, rid)) == 5
    saver.stop()


def test_sources_survive_the_journal(clinic, rec) -> None:  # type: ignore[no-untyped-def]
    rid, uid = rec
    ev = [FootEvent(Foot.LEFT, EventType.TOE_OFF, 7, 0.1, EventSource.AUTOMATIC, 0.3)]
    saver = AutoSaver(clinic.db, Journal(clinic.folder.root), uid, rid, 0)
    saver.submit({"events": events_to_json(ev)})
    assert saver.wait_saved(10)
    assert _stored(clinic, rid)[0].source is EventSource.AUTOMATIC
    saver.stop()


def test_the_same_edits_saved_meanwhile_by_a_late_saver_are_no_conflict(
    clinic, rec, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A closed recording's saver, still waiting on a lock, commits these very edits between
    the replay's check and its save: the replay must report them saved, not a conflict."""
    import app.annotation.journal as journal_mod
    from app.safety.conflicts import EditConflict

    rid, uid = rec
    journal = Journal(clinic.folder.root)
    journal.write(JournalEntry(uid, rid, 0, {"events": events_to_json(_marks(3))}, edits=1))

    def late_saver_wins(db, recording_id, parts, expected):  # type: ignore[no-untyped-def]
        with db.session() as s:
            replace_events(s, recording_id, _marks(3), expected_revision=expected)
        raise EditConflict("saved elsewhere")

    monkeypatch.setattr(journal_mod, "save_parts", late_saver_wins)
    assert [o.status for o in replay_pending(clinic.db, clinic.folder.root)] == ["already saved"]
    assert journal.pending() == []
    assert len(_stored(clinic, rid)) == 3
