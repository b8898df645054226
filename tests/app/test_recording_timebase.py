"""The time base stored with each recording (migration 0005): the map, the loader, the backfill.

Code reading marks from the database must time them with the file's own clock without decoding
the video; rows from before 0005 fall back to the stored rates until the video is opened.
"""

from __future__ import annotations

import sqlite3
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from app.db.database import head_revision, open_database, sqlite_url
from app.db.models import Recording
from app.records import recordings as rec_store
from app.video.probe import scan_index
from app.video.synthetic import write_clip
from app.video.timebase import Timebase, timestamp_map

TB = Fraction(1, 1200)


@pytest.fixture
def clinic():  # type: ignore[no-untyped-def]
    from app.clinic import open_clinic

    c = open_clinic()
    yield c
    c.close()


def _vfr_clip(path: Path) -> tuple[Path, np.ndarray]:
    times = np.concatenate([np.arange(0.0, 1.0, 1 / 60), 1.0 + np.arange(0.0, 1.0, 1 / 30)])
    pts = np.round(times / float(TB)).astype(int)
    clip = write_clip(path, n_frames=len(pts), width=64, height=48, fps=45, pts=list(pts),
                      time_base=TB)  # fmt: skip
    return clip, times


def test_the_stored_map_rebuilds_the_files_clock_exactly(tmp_path: Path) -> None:
    clip, times = _vfr_clip(tmp_path / "vfr.mp4")
    info, index = scan_index(clip)
    stored = timestamp_map(info, index)
    assert len(str(stored)) < 200  # two rates: a few dozen bytes, not one number per frame
    row = SimpleNamespace(timestamps=stored, container_fps=info.container_fps,
                          capture_fps=info.container_fps, frame_count=info.frame_count)  # fmt: skip
    tb = Timebase.from_record(row)
    np.testing.assert_allclose(tb.times_s, Timebase.from_file(clip).times_s, atol=1e-12)
    np.testing.assert_allclose(tb.times_s, times, atol=1e-3)
    # a slow-motion capture rate (edited later) rescales the same map
    slow = Timebase.from_record(SimpleNamespace(**{**vars(row), "capture_fps": 4 * info.container_fps}))
    np.testing.assert_allclose(slow.times_s, tb.times_s / 4)
    # marks past the readable end keep the last frame spacing (a damaged file)
    assert tb.times_of([tb.n_frames + 1])[0] == pytest.approx(tb.times_s[-1] + 2 / 30, abs=1e-6)


def test_a_damaged_or_foreign_map_falls_back_to_the_stored_rates() -> None:
    row = SimpleNamespace(timestamps={"v": 1, "n": 3, "time_base": "1/0", "steps": "@@"},
                          container_fps=30.0, capture_fps=120.0, frame_count=10)  # fmt: skip
    tb = Timebase.from_record(row)
    assert tb.n_frames == 10 and tb.time_of(6) == pytest.approx(6 / 120)
    none = SimpleNamespace(timestamps=None, container_fps=None, capture_fps=None, frame_count=None)
    assert Timebase.from_record(none, n_frames=31).time_of(30) == pytest.approx(1.0)


def test_import_stores_the_clock_and_events_use_it(clinic, tmp_path: Path) -> None:
    from app.analysis.events import EventSource, EventType, Foot, FootEvent
    from app.records.patients import PatientData, create_patient
    from app.records.visits import VisitData, create_visit

    clip, times = _vfr_clip(tmp_path / "vfr.mp4")
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Map Runner")).id
        vid = create_visit(s, pid, VisitData(visit_date="2026-11-01")).id
    rid = rec_store.import_recording(clinic.db, clinic.videos_root, vid, clip)
    with clinic.db.session() as s:
        assert s.get(Recording, rid).timestamps["n"] == len(times)
        rec_store.replace_events(
            s, rid, [FootEvent(Foot.LEFT, EventType.INITIAL_CONTACT, 75, 0.0, EventSource.MANUAL)]
        )
    with clinic.db.session() as s:
        (ev,) = rec_store.events_of(s, rid)
    assert ev.time_s == pytest.approx(times[75], abs=1e-3)  # 1.25 s; frame / 45 fps says 1.67


def _old_database(path: Path) -> None:
    """A clinic at revision 0004 with one recording of a VFR file and two marks."""
    db = open_database(sqlite_url(path))
    db.downgrade("0004")
    db.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO patient (id, uid, full_name, name_key, sex, version, created_at, "
            "updated_at) VALUES (1, 'a1', 'P', 'p', 'unspecified', 1, '2026-01-01', '2026-01-01')"
        )
        conn.execute(
            "INSERT INTO visit (id, uid, patient_id, visit_date, version, created_at) "
            "VALUES (1, 'b1', 1, '2026-01-01', 1, '2026-01-01')"
        )
        conn.execute(
            "INSERT INTO recording (id, uid, visit_id, video_path, view, container_fps, "
            "capture_fps, frame_count, events_revision, created_at) "
            "VALUES (1, 'c1', 1, 'vfr.mp4', 'side', 45.0, 45.0, 90, 1, '2026-01-01')"
        )
        for i, frame in enumerate((30, 75)):
            conn.execute(
                "INSERT INTO foot_event (id, recording_id, frame, foot, type, source, confidence, "
                "created_at) VALUES (?, 1, ?, 'left', 'initial_contact', 'manual', 1.0, "
                "'2026-01-01')",
                (i + 1, frame),
            )


def test_upgrade_keeps_data_backfill_fixes_times_downgrade_keeps_rows(tmp_path: Path) -> None:
    from app import video
    from app.annotation.loading import store_clock

    path = tmp_path / "c.sqlite3"
    _old_database(path)
    clip, times = _vfr_clip(tmp_path / "vfr.mp4")
    db = open_database(sqlite_url(path))  # upgrades to head
    assert db.current_revision() == head_revision()
    with db.session() as s:
        rec = s.get(Recording, 1)
        assert rec.timestamps is None and rec.frame_count == 90
        before = [e.time_s for e in rec_store.events_of(s, 1)]
    assert before == pytest.approx([30 / 45, 75 / 45])  # no map yet: the stored rate
    server = video.open(clip)
    try:
        assert store_clock(db, 1, server) is True  # first open of the video fills the map in
        assert store_clock(db, 1, server) is False  # once
    finally:
        server.close()
    with db.session() as s:
        after = [e.time_s for e in rec_store.events_of(s, 1)]
    assert after == pytest.approx([times[30], times[75]], abs=1e-3)  # 0.5 s and 1.25 s
    db.downgrade("0004")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM recording").fetchone()[0] == 1
        assert conn.execute("SELECT COUNT(*) FROM foot_event").fetchone()[0] == 2
        cols = [r[1] for r in conn.execute("PRAGMA table_info(recording)")]
        assert "timestamps" not in cols
    db.upgrade()
    db.dispose()
