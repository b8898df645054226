from __future__ import annotations

import math

import numpy as np
import pytest
from sqlalchemy import event

from app.analysis.metrics import Stat
from app.clinic import open_clinic
from app.history.trends import load_history, pool
from app.records.measurements import save_prescription, visit_measurement

from .test_history_helpers import add_visit, make_patient


@pytest.fixture
def clinic():  # type: ignore[no-untyped-def]
    c = open_clinic()
    yield c
    c.close()


def test_series_values_spreads_and_gaps(clinic) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = make_patient(s)
        v1 = add_visit(s, pid, "2026-01-05", 160.0, pain=(3, 6, 5))
        add_visit(s, pid, "2026-01-26", None, pain=(2, None, 4))  # nothing marked: a gap
        v3 = add_visit(s, pid, "2026-02-16", 172.0, pain=(1, 2, 2), seed=1)
    with clinic.db.session() as s:
        h = load_history(s, pid)
        expected = [visit_measurement(s, v1).cadence_spm, visit_measurement(s, v3).cadence_spm]
    cad = h.series["cadence"]
    assert cad.mean[0] == pytest.approx(expected[0])
    assert cad.mean[2] == pytest.approx(expected[1])
    assert abs(cad.mean[0] - 160) < 2 and abs(cad.mean[2] - 172) < 2
    assert math.isnan(cad.mean[1]) and cad.n[1] == 0  # gap, never zero
    assert cad.n[0] == 29 and 0 < cad.sd[0] < 10
    ct = h.series["contact_time"]
    assert ct.mean[0] == pytest.approx(250, abs=5) and ct.n[0] == 30
    assert list(h.series["pain_worst_24h"].mean[[0, 2]]) == [6, 2]
    assert math.isnan(h.series["pain_worst_24h"].mean[1])
    assert h.visits[1].measured == "no recording"
    assert h.visits[0].contacts == (15, 15)
    # Landing measures need keypoints: not measured, never zeros.
    for key in ("overstride", "shank_angle", "knee_flexion"):
        assert not h.series[key].has_data
    assert h.landing_units is None
    # The noise band for cadence comes from the SD and n of the first visit (1.96·√2·SD/√n).
    expected_band = 1.96 * math.sqrt(2 * cad.sd[0] ** 2 / cad.n[0])
    assert cad.band == pytest.approx(max(expected_band, cad.resolution[0] * math.sqrt(2)))
    # Pain now 3 at baseline: 30 % of it (0.9) is below 2 points (Ostelo 2008 allows either).
    assert h.series["pain_now"].band == pytest.approx(0.9)


def test_targets_hold_until_the_next_prescription(clinic) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = make_patient(s)
        vids = [add_visit(s, pid, f"2026-03-{d:02d}", 160.0) for d in (2, 9, 16, 23)]
        save_prescription(s, vids[0], {"target_spm": 168})
        save_prescription(s, vids[2], {"target_spm": 170})
        save_prescription(s, vids[2], {"target_spm": 174})  # a correction: the newest wins
    with clinic.db.session() as s:
        h = load_history(s, pid)
    assert np.isnan(h.target_spm[1]) and h.target_spm[2] == 174
    assert list(h.target_in_force()) == [168, 168, 174, 174]


def test_single_visit_and_no_visits(clinic) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        p1, p2 = make_patient(s, "One Visit"), make_patient(s, "No Visit")
        add_visit(s, p1, "2026-04-01", 165.0)
    with clinic.db.session() as s:
        one, none = load_history(s, p1), load_history(s, p2)
    assert len(one.visits) == 1 and one.series["cadence"].has_data
    assert none.visits == [] and not any(x.has_data for x in none.series.values())
    with clinic.db.session() as s, pytest.raises(LookupError):
        load_history(s, 999)


def test_queries_do_not_grow_with_visits(clinic) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        few, many = make_patient(s, "Few Visits"), make_patient(s, "Many Visits")
        for d in range(1, 3):
            add_visit(s, few, f"2026-05-{d:02d}", 160.0)
        for d in range(1, 21):
            add_visit(s, many, f"2026-05-{d:02d}", 160.0)
            save_prescription(s, _last_visit(s, many), {"target_spm": 168})
    counts = []
    statements: list[str] = []

    def listener(*args) -> None:  # type: ignore[no-untyped-def]
        statements.append(args[2])

    for pid in (few, many):
        statements.clear()
        event.listen(clinic.db.engine, "before_cursor_execute", listener)
        with clinic.db.session() as s:
            load_history(s, pid)
        event.remove(clinic.db.engine, "before_cursor_execute", listener)
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 8


def _last_visit(session, pid: int) -> int:  # type: ignore[no-untyped-def]
    from app.records.visits import visits_of

    return visits_of(session, pid)[-1].id


def test_landing_provider_fills_landing_series(clinic) -> None:  # type: ignore[no-untyped-def]
    from app.analysis.metrics import LandingMetrics

    def fake(rec, events):  # type: ignore[no-untyped-def]
        return LandingMetrics(
            [], {"left": Stat(10.0, 1.0, 8), "right": Stat(12.0, 1.0, 8)},
            {"left": Stat(6.0, 1.0, 8), "right": Stat(6.0, 1.0, 8)},
            {"left": Stat(20.0, 2.0, 8), "right": Stat(22.0, 2.0, 8)},
            {}, {}, "x",
            overstride_cm={"left": Stat(9.0, 1.0, 8), "right": Stat(11.0, 1.0, 8)},
        )  # fmt: skip

    with clinic.db.session() as s:
        pid = make_patient(s)
        add_visit(s, pid, "2026-06-01", 160.0)
        add_visit(s, pid, "2026-06-08", None)
    with clinic.db.session() as s:
        h = load_history(s, pid, landing=fake)
    assert h.series["overstride"].mean[0] == pytest.approx(11.0)
    assert h.series["overstride"].n[0] == 16 and h.landing_units == "leg_pct"
    assert h.series["overstride_cm"].mean[0] == pytest.approx(10.0)
    assert math.isnan(h.series["overstride"].mean[1])
    assert h.series["shank_angle"].band == pytest.approx(4.8)  # upper SDD, Dingenen 2018


def test_pool_matches_the_union_of_values() -> None:
    a, b = [1.0, 2.0, 4.0], [10.0, 11.0]
    mean, sd, n = pool([Stat.of(a), Stat.of(b)])
    assert n == 5
    assert mean == pytest.approx(np.mean(a + b))
    assert sd == pytest.approx(np.std(a + b, ddof=1))


def test_landing_from_the_pose_cache(clinic, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Keypoints cached by automatic detection give landing measures; none -> not measured."""
    from app.analysis.keypoints import KeypointTrack, save_npz
    from app.history.trends import pose_cache_landing

    with clinic.db.session() as s:
        pid = make_patient(s)
        add_visit(s, pid, "2026-06-01", 160.0, jitter_s=0.0)
        add_visit(s, pid, "2026-06-08", 160.0, jitter_s=0.0)
    with clinic.db.session() as s:
        h = load_history(s, pid)
    rec = h.recordings[0]
    n = 2400  # 10 s at 240 fps, longer than the marked run
    xy = np.zeros((n, 2, 5, 2))
    # Runner travelling right: both legs land ahead of the hip, toes ahead of heels.
    leg = [(0, 0), (30, 40), (40, 80), (35, 90), (55, 80)]
    xy[:, 0] = leg
    xy[:, 1] = leg
    cache = tmp_path / "cache"
    cache.mkdir()
    stem = rec.video_path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    # A cache of another patient's video with the same file name is never used for this one.
    other = {"video": str(clinic.videos_root / "patient-x" / "visit-y" / f"{stem}.mp4")}
    save_npz(KeypointTrack(np.arange(n) / 240.0, xy * 2, meta=other), cache / f"{stem}.def456.pose.npz", "def456")
    with clinic.db.session() as s:
        h = load_history(s, pid, landing=pose_cache_landing(cache, clinic.videos_root))
    assert not h.series["shank_angle"].has_data
    mine = {"video": str(clinic.videos_root / rec.video_path)}
    save_npz(KeypointTrack(np.arange(n) / 240.0, xy, meta=mine), cache / f"{stem}.abc123.pose.npz", "abc123")
    with clinic.db.session() as s:
        h = load_history(s, pid, landing=pose_cache_landing(cache, clinic.videos_root))
    shank = h.series["shank_angle"]
    assert shank.mean[0] == pytest.approx(np.degrees(np.arctan2(10, 40)), abs=0.01)
    assert shank.n[0] == 30 and math.isnan(shank.mean[1])  # second visit: no cache
    assert h.landing_units == "leg_pct"
    assert h.series["overstride"].mean[0] == pytest.approx(100 * 35 / np.hypot(40, 80), abs=0.01)
    # A missing cache folder is simply "not measured".
    with clinic.db.session() as s:
        h = load_history(s, pid, landing=pose_cache_landing(tmp_path / "none"))
    assert not h.series["shank_angle"].has_data


def test_visit_row_carries_outcomes_and_the_last_printed_program(clinic) -> None:  # type: ignore[no-untyped-def]
    """The visits query brings each visit's outcome scores and its last printed home program."""
    import datetime as dt

    from app.db.models import HomeProgram, VisitOutcome

    with clinic.db.session() as s:
        pid = make_patient(s)
        vids = [add_visit(s, pid, f"2026-04-{d:02d}", 160.0) for d in (1, 8, 15)]
        s.add(VisitOutcome(visit_id=vids[0], rmdq=12, odi=None,
                           psfs=[{"activity": "running", "score": 4, "running": True}]))  # fmt: skip
        s.add(VisitOutcome(visit_id=vids[1], rmdq=None, odi=None, psfs=None))  # a row, no scores
        for day in (3, 9, 5):  # printed three times: the latest day is shown
            s.add(HomeProgram(visit_id=vids[0], printed_at=dt.datetime(2026, 4, day, 10, 0)))
        s.add(HomeProgram(visit_id=vids[1], printed_at=None))  # saved, never printed
    with clinic.db.session() as s:
        h = load_history(s, pid)
    assert [v.rmdq for v in h.visits] == [12, None, None]
    assert h.visits[0].psfs == [{"activity": "running", "score": 4, "running": True}]
    assert h.series["disability"].mean[0] == 12 and np.isnan(h.series["disability"].mean[1])
    assert h.series["psfs_running"].mean[0] == 4
    assert [v.printed for v in h.visits] == [dt.date(2026, 4, 9), None, None]
