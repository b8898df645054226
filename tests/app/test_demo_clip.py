"""The demo ships a real runner clip with its licence, reviewed marks and pose result."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from app.analysis.events import EventSource, EventType, Foot
from app.analysis.pose import load_cached_pose
from app.clinic import open_clinic
from app.db.models import FootEventRecord, Recording
from app.demo import CLIP_FRAMES, DEMO_CLIP, ensure_demo_data, reference_events
from app.history.trends import load_history, pose_cache_landing
from resources import resource_path

REPO = Path(__file__).resolve().parents[2]


def test_the_clip_travels_with_its_licence_notice() -> None:
    folder = resource_path(DEMO_CLIP).parent
    assert resource_path(DEMO_CLIP).stat().st_size > 1_000_000
    licence = (folder / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License") and "Copyright (c) 2026 zzzhushi" in licence
    notice = (folder / "NOTICE.md").read_text(encoding="utf-8")
    assert "zzzhushi/running-gait-analysis" in notice and "MIT" in notice


def test_reference_marks_are_every_hand_marked_event_as_reviewed() -> None:
    events = reference_events()
    ics = [e for e in events if e.type is EventType.INITIAL_CONTACT]
    tos = [e for e in events if e.type is EventType.TOE_OFF]
    assert (len(ics), len(tos)) == (33, 34)  # as the sample data README counts them
    assert all(e.source is EventSource.MANUAL for e in events)
    assert all(0 <= e.frame < CLIP_FRAMES for e in events)
    # the first contact is the far foot (runner's right) at frames 6/7
    assert ics[0].foot is Foot.RIGHT and ics[0].frame == 6
    assert {e.foot for e in ics} == {Foot.LEFT, Foot.RIGHT}


@pytest.fixture
def demo():  # type: ignore[no-untyped-def]
    c = open_clinic(demo=True)
    ensure_demo_data(c)
    yield c
    c.close()


def test_every_demo_recording_is_the_real_clip_with_marks_and_a_skeleton(demo) -> None:  # type: ignore[no-untyped-def]
    with demo.db.session() as s:
        recs = s.scalars(select(Recording)).all()
        assert recs
        for rec in recs:
            path = demo.videos_root / rec.video_path
            if rec.visit.notes == "Initial assessment.":  # the clip as filmed
                assert path.stat().st_size == resource_path(DEMO_CLIP).stat().st_size
                assert rec.capture_fps == 30.0
            else:  # the same packets re-timed: about the same size, not slow motion
                assert abs(path.stat().st_size - resource_path(DEMO_CLIP).stat().st_size) < 10_000
                assert rec.capture_fps == rec.container_fps > 30.0
            assert rec.frame_count == CLIP_FRAMES
            assert load_cached_pose(path, demo.folder.cache) is not None  # skeleton at once
            n = len(
                s.scalars(
                    select(FootEventRecord).where(
                        FootEventRecord.recording_id == rec.id,
                        FootEventRecord.type == "initial_contact",
                    )
                ).all()
            )
            assert n == 33
        landing = pose_cache_landing(demo.folder.cache, demo.videos_root)  # as the History tab
        history = load_history(s, recs[0].visit.patient_id, landing=landing)
    cadence = history.series["cadence"].mean
    assert 166 < cadence[0] < 171  # the clip's cadence: 168.9 ± 0.5 by two pixel methods
    assert history.series["overstride"].has_data and history.series["knee_flexion"].has_data


def test_the_installer_bundles_the_demo_folder() -> None:
    spec = (REPO / "installer" / "stride-clinic.spec").read_text(encoding="utf-8")
    assert '_data_tree(REPO / "resources", "resources")' in spec
    tree = ast.parse(spec)
    func = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "_data_tree")
    namespace: dict[str, object] = {"Path": Path}
    exec(compile(ast.Module([func], []), "spec", "exec"), namespace)  # noqa: S102 - our own spec
    pairs = namespace["_data_tree"](REPO / "resources", "resources")  # type: ignore[operator]
    shipped = {Path(src).name: dest for src, dest in pairs}
    for name in ("treadmill_run_side_30fps.mp4", "LICENSE", "NOTICE.md",
                 "treadmill_run_side_30fps_events.csv", "treadmill_run_side_30fps.pose.npz"):  # fmt: skip
        assert Path(shipped[name]) == Path("resources/demo"), name
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert '"resources" = ["demo/*", "help/*"]' in pyproject  # wheels too


def test_follow_up_clips_are_the_run_re_timed_so_cadence_rises(demo) -> None:  # type: ignore[no-untyped-def]
    """Each follow-up shows the same run re-timed by its story's factor: the History's cadence
    rises visit by visit, and every recording's cadence, measured on its file's own timestamps,
    is the first visit's times the factor (within 0.5 steps/min)."""
    from app.analysis.metrics import temporal_metrics
    from app.db.models import Patient
    from app.demo import DEMO_PATIENTS, retime_factor
    from app.records.visits import visits_of
    from app.video.probe import scan_index
    from app.video.timebase import Timebase, timestamp_map

    stories = {name: story for name, *_rest, story in DEMO_PATIENTS}
    marks = reference_events()
    checked = 0
    with demo.db.session() as s:
        landing = pose_cache_landing(demo.folder.cache, demo.videos_root)
        for patient in s.scalars(select(Patient)):
            story = stories[patient.full_name]
            history = load_history(s, patient.id, landing=landing)
            cadence = history.series["cadence"].mean
            assert len(cadence) == len(story)
            assert np.all(np.diff(cadence) > 0), (patient.full_name, cadence)
            # the landing measures stay (same frames, same keypoints)
            assert np.isfinite(history.series["overstride"].mean).all()
            first = None
            for k, visit in enumerate(visits_of(s, patient.id)):
                (rec,) = visit.recordings
                path = demo.videos_root / rec.video_path
                # the file's own clock, read as opening the video reads it
                info, index = scan_index(path)
                clock = Timebase.from_index(info, index, None)
                timed = [replace(e, time_s=clock.time_of(e.frame)) for e in marks]
                measured = temporal_metrics(timed).cadence_spm
                first = measured if k == 0 else first
                assert measured == pytest.approx(first * retime_factor(story, k), abs=0.5)
                assert cadence[k] == pytest.approx(measured, abs=0.05)  # History = the file
                if k:
                    assert rec.timestamps == timestamp_map(info, index)  # the stored clock
                    assert "re-timed" in (rec.original_name or "") and "re-timed" in visit.notes
                checked += 1
            assert patient.notes and "fictional" in patient.notes and "re-timed" in patient.notes
    assert checked == sum(len(story) for story in stories.values())


def test_landing_without_uncertainty_keeps_every_figure_the_history_shows() -> None:
    # The History leaves the frame-rate uncertainties out (they triple the keypoint look-ups);
    # on the real clip and its pose result every mean, SD and n must stay the same.
    from app.analysis.keypoints import load_npz
    from app.analysis.landing import landing_metrics
    from app.demo import DEMO_POSE, DEMO_POSE_KEY

    track = load_npz(resource_path(DEMO_POSE), DEMO_POSE_KEY)
    assert track is not None
    events = reference_events()
    full = landing_metrics(events, track, "left")
    lean = landing_metrics(events, track, "left", uncertainty=False)
    assert full.overstride["left"].fps_u is not None  # the full result has them
    for name in ("overstride", "shank_angle_deg", "knee_flexion_deg", "foot_strike_angle_deg"):
        for side in ("left", "right"):
            a, b = getattr(full, name)[side], getattr(lean, name)[side]
            assert (a.mean, a.sd, a.n) == (b.mean, b.sd, b.n) and a.n > 10
            assert b.fps_u is None
    assert lean.unresolved == [] and lean.reference == full.reference


def test_history_remembers_landing_until_the_pose_cache_or_marks_change(  # type: ignore[no-untyped-def]
    demo, monkeypatch
) -> None:
    import os

    import app.analysis.landing as metrics  # where landing_metrics lives (History imports it there)
    from app.analysis.pose import default_cache_file
    from app.db.models import Patient
    from app.history import landing as landing_mod
    from app.records.recordings import replace_events

    landing_mod._MEMO.clear()
    calls = []
    real = metrics.landing_metrics
    monkeypatch.setattr(
        metrics, "landing_metrics", lambda *a, **k: calls.append(1) or real(*a, **k)
    )

    def load():  # type: ignore[no-untyped-def]
        with demo.db.session() as s:
            pid = s.scalar(select(Patient.id).where(Patient.full_name.like("Jonas%")))
            landing = pose_cache_landing(demo.folder.cache, demo.videos_root)
            return load_history(s, pid, landing=landing)

    first = load()
    assert len(calls) == 4 and first.series["overstride"].has_data
    again = load()  # reopening: nothing recomputed, the same figures
    assert len(calls) == 4
    np.testing.assert_array_equal(again.series["overstride"].mean, first.series["overstride"].mean)
    # detection run again rewrites the cache: its visit is recomputed
    rec = first.recordings[0]
    cache, _key = default_cache_file(demo.videos_root / rec.video_path, demo.folder.cache)
    st = os.stat(cache)
    os.utime(cache, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    load()
    assert len(calls) == 5
    # an edited mark changes the key too
    with demo.db.session() as s:
        replace_events(s, first.recordings[1].id, reference_events()[2:])
    load()
    assert len(calls) == 6
