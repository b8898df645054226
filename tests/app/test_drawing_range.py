"""Drawings kept on a range of frames and drag-moved, without Qt: the session's steps, the
stored column (migration 0007), reloading, the dual player's export source, the geometry."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from app.annotation.geometry import make_measurement, moved_measurement
from app.annotation.session import ALL_FRAMES, Drawing, MarkingSession
from app.db import open_database
from app.db.database import all_revisions, sqlite_url
from app.db.models import Overlay
from app.records.patients import PatientData, create_patient
from app.records.recordings import add_recording, overlays_of, replace_overlays
from app.records.visits import VisitData, create_visit

ANGLE = Drawing("angle", ((80.0, 20.0), (80.0, 60.0), (80.0, 100.0)), 5, 0.0, "knee 0.0°")


def test_a_range_is_one_undo_step_and_clamped_to_the_recording() -> None:
    s = MarkingSession(drawings=[ANGLE], frame_count=90)
    assert s.set_drawing_span(ANGLE, 40, 10)  # typed backwards: the same range
    (d,) = s.drawings
    assert (d.frame, d.last_frame) == (10, 40) and d.on_range
    assert [f for f in (9, 10, 40, 41) if d.shown_on(f)] == [10, 40]
    assert s.history.undo_label == "show knee angle on frames 10–40"
    s.undo()
    assert s.drawings == [ANGLE]
    s.redo()
    d = s.drawings[0]
    s.set_drawing_span(d, 80, 500)  # past the end: up to the last frame
    assert (s.drawings[0].frame, s.drawings[0].last_frame) == (80, 89)
    s.set_drawing_span(s.drawings[0], 7, 7)  # a one-frame range is that frame
    assert (s.drawings[0].frame, s.drawings[0].last_frame) == (7, None)
    s.set_drawing_span(s.drawings[0], ALL_FRAMES, 30)  # all frames ignores a range
    assert s.drawings[0].on_all_frames and s.drawings[0].last_frame is None


def test_moving_a_drawing_is_one_step_with_its_value() -> None:
    s = MarkingSession(drawings=[ANGLE], frame_count=90)
    pts = [(80.0, 20.0), (100.0, 60.0), (80.0, 100.0)]
    item = moved_measurement(ANGLE.to_overlay(), pts)
    assert item["value"] == pytest.approx(make_measurement("angle", pts)["value"])
    assert s.move_drawing(ANGLE, item["points"], item["value"], item["label"])
    assert s.history.undo_label == "move knee angle"
    assert s.drawings[0].points[1] == (100.0, 60.0) and s.drawings[0].label == item["label"]
    s.undo()
    assert s.drawings == [ANGLE]
    assert not s.move_drawing(ANGLE, [(1.0, 2.0)], None)  # wrong number of points: refused


def test_moved_measurement_keeps_a_clinicians_label_and_a_distance_scale() -> None:
    hip = {"kind": "vline", "points": [[80.0, 60.0]], "value": None, "label": "hip"}
    assert moved_measurement(hip, [(90.0, 60.0)])["label"] == "hip"
    dist = make_measurement("distance", [(0.0, 0.0), (10.0, 0.0)], cm_per_px=0.5)
    assert dist["value"] == pytest.approx(5.0)
    longer = moved_measurement(dist, [(0.0, 0.0), (20.0, 0.0)])  # calibration not at hand
    assert longer["value"] == pytest.approx(10.0) and longer["label"] == "10.0 cm"


def test_overlay_round_trip() -> None:
    d = Drawing("vline", ((1.0, 2.0),), 10, None, "hip", last_frame=40)
    assert Drawing.from_overlay(d.to_overlay()) == d
    old = {"kind": "vline", "points": [[1, 2]], "frame": 3}  # saved before 0007
    assert Drawing.from_overlay(old).last_frame is None
    assert Drawing.from_overlay({**old, "frame": ALL_FRAMES, "last_frame": 9}).on_all_frames


def test_range_is_stored_and_reloaded(tmp_path: Path) -> None:
    from app.annotation.loading import load_recording

    db = open_database(sqlite_url(tmp_path / "c.sqlite3"))
    assert "0007" in all_revisions()
    cols = {c["name"] for c in inspect(db.engine).get_columns("overlay")}
    assert "last_frame" in cols
    with db.session() as s:
        pid = create_patient(s, PatientData(full_name="Range Runner")).id
        vid = create_visit(s, pid, VisitData(visit_date="2026-11-01")).id
        rid = add_recording(s, vid, video_path="r.mp4", container_fps=30.0, capture_fps=120.0).id
        replace_overlays(
            s, rid, [Drawing("vline", ((1.0, 2.0),), 10, None, "hip", last_frame=40).to_overlay()]
        )
    with db.session() as s:
        (o,) = overlays_of(s, rid)
        assert (o.frame, o.last_frame) == (10, 40)
    loaded = load_recording(db, tmp_path, tmp_path, rid)
    assert loaded is not None
    assert [(d.frame, d.last_frame) for d in loaded.drawings] == [(10, 40)]
    db.dispose()


def test_migration_0007_adds_the_column_and_keeps_drawings(tmp_path: Path) -> None:
    from sqlalchemy import text

    url = sqlite_url(tmp_path / "c.sqlite3")
    db = open_database(url)
    with db.session() as s:
        pid = create_patient(s, PatientData(full_name="Old Runner")).id
        vid = create_visit(s, pid, VisitData(visit_date="2026-11-01")).id
        rid = add_recording(s, vid, video_path="r.mp4", container_fps=30.0).id
        replace_overlays(s, rid, [{"kind": "vline", "points": [[1, 2]], "frame": 3}])
    db.downgrade("0006")
    with db.engine.connect() as conn:
        assert "last_frame" not in {c["name"] for c in inspect(conn).get_columns("overlay")}
        assert conn.execute(text("SELECT frame FROM overlay")).scalars().all() == [3]
    db.upgrade()
    with db.session() as s:
        assert s.scalars(select(Overlay.last_frame)).all() == [None]
    db.dispose()


def test_dual_player_export_source_follows_the_range() -> None:
    from app.video.dual_sources import SideSource

    src = SideSource.__new__(SideSource)
    src.drawings = [
        Drawing("vline", ((1.0, 2.0),), 10, None, "", last_frame=40).to_overlay(),
        Drawing("vline", ((3.0, 2.0),), 5).to_overlay(),
        Drawing("vline", ((5.0, 2.0),), ALL_FRAMES).to_overlay(),
    ]
    assert [len(src.drawings_on(f)) for f in (5, 10, 40, 41)] == [2, 2, 2, 1]
