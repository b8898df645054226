"""Dense pose around proposed events (app.analysis.dense) and its place in the pose pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.analysis.contacts import detect_contacts
from app.analysis.dense import frames_near, interpolate_unrun, refine
from app.analysis.evaluation import strided
from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.analysis.keypoints import KeypointTrack

from ._analysis_helpers import load_trial, match, resample

IC = EventType.INITIAL_CONTACT


def _event(frame: int) -> FootEvent:
    return FootEvent(Foot.LEFT, IC, frame, frame / 60.0, EventSource.AUTOMATIC, 0.9)


def test_frames_near_only_unrun_frames_inside_the_clip() -> None:
    ran = np.arange(20) % 2 == 0
    assert frames_near([_event(1), _event(10), _event(19)], 20, ran, 2) == [1, 3, 9, 11, 17, 19]
    assert frames_near([], 20, ran, 2) == []


def test_interpolate_unrun_uses_any_run_frames_and_never_crosses_a_miss() -> None:
    n = 10
    xy = np.full((n, 2, 5, 2), np.nan)
    conf = np.zeros((n, 2, 5))
    ran = np.zeros(n, dtype=bool)
    for i in (0, 2, 3, 4, 8):  # frame 3 was run densely; frame 6 ran and found nobody
        xy[i], conf[i], ran[i] = float(i), 0.8, True
    ran[6] = True
    out, c = interpolate_unrun(xy, conf, ran, 2)
    assert out[1, 0, 0, 0] == 1.0 and c[1, 1, 4] == pytest.approx(0.8)
    assert out[3, 1, 2, 1] == 3.0  # a run frame is kept as it is
    assert np.isnan(out[5]).all() and np.isnan(out[7]).all() and np.isnan(out[6]).all()
    assert np.isnan(out[9]).all()  # after the last run frame: nothing to interpolate to


def test_refine_runs_only_skipped_frames_near_events(shared_data: Path) -> None:
    track, _ = load_trial(shared_data, "rearfoot", seconds=12.0)
    full = resample(track, 60)
    asked: list[list[int]] = []

    def runner(frames: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        asked.append(frames)
        return {i: (full.xy[i], full.conf[i]) for i in frames}

    n = full.n_frames
    ran = np.arange(n) % 2 == 0
    raw_xy = np.where(ran[:, None, None, None], full.xy, np.nan)
    raw_conf = np.where(ran[:, None, None], full.conf, 0.0)
    base = KeypointTrack(full.times, *interpolate_unrun(raw_xy, raw_conf, ran, 2))
    events = detect_contacts(base).events
    out, count = refine(base, raw_xy, raw_conf, ran, runner, stride=2)
    first = asked[0]
    assert all(i % 2 == 1 for i in first)  # never re-runs a frame the base pass ran
    assert all(min(abs(i - e.frame) for e in events) <= 2 for i in first)
    assert count == sum(len(a) for a in asked) and count < 0.6 * n / 2
    assert len(set(first).intersection(*asked[1:])) == 0  # a second round asks only new frames
    np.testing.assert_allclose(out.xy[first], full.xy[first])
    assert out.meta["dense_frames"] == count


def test_refine_gives_back_the_track_when_no_events_can_be_found() -> None:
    t = np.arange(30) / 60.0
    xy = np.zeros((30, 2, 5, 2))
    track = KeypointTrack(t, xy)
    ran = np.arange(30) % 2 == 0
    calls: list[list[int]] = []
    out, count = refine(track, xy, track.conf, ran, lambda f: calls.append(f) or {}, stride=2)
    assert out is track and count == 0 and not calls


@pytest.mark.parametrize("kind", ["forefoot", "rearfoot"])
def test_dense_pass_recovers_every_frame_timing_at_60hz(shared_data: Path, kind: str) -> None:
    """Markers at 60 Hz with every 2nd frame interpolated lose contact timing (the pose pass
    above 40 fps); the dense pass around each event wins it back."""
    track, truth = load_trial(shared_data, kind)
    full = resample(track, 60)
    sd = {}
    for name, tr in (
        ("every", full),
        ("strided", strided(full, 2, dense=False)[0]),
        ("dense", strided(full, 2, dense=True)[0]),
    ):
        ics = [e.time_s for e in detect_contacts(tr).events if e.type is IC]
        rec, prec, err = match(ics, list(truth["strike_time_s"]))
        assert rec >= 0.98 and prec >= 0.98
        sd[name] = 1000 * float(np.std(err, ddof=1))
    assert sd["strided"] > 1.5 * sd["every"]
    assert sd["dense"] <= sd["every"] + 1.0


def test_run_pose_at_60fps_runs_the_model_densely_around_events(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pose pass with the model mocked by a 60 Hz marker track: every 2nd frame first
    (unfiltered), then only skipped frames near the proposed events."""
    from app.analysis import pose

    track, _ = load_trial(shared_data, "rearfoot", seconds=12.0)
    full = resample(track, 60)
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not decoded: the model is mocked")
    passes: list[tuple[bool, list[int]]] = []

    def fake_pass(video, rotation, info, want, *, smooth, last, **_):  # type: ignore[no-untyped-def]
        frames = [i for i in range(full.n_frames if last is None else last + 1) if want(i)]
        passes.append((smooth, frames))
        times = list(full.times[: (full.n_frames if last is None else last + 1)])
        return times, {i: (full.xy[i], full.conf[i]) for i in frames}

    monkeypatch.setattr(pose, "_display_rotation", lambda v: 0)
    monkeypatch.setattr(
        pose, "_stream_info", lambda v, r: {"width": 3000, "height": 2000, "rate": 60.0,
                                            "frames": full.n_frames}
    )  # fmt: skip
    monkeypatch.setattr(pose, "_model_pass", fake_pass)
    out = pose.run_pose(video, cache_dir=tmp_path / "cache")
    assert out.meta["stride"] == 2
    assert passes[0] == (False, list(range(0, full.n_frames, 2)))  # unfiltered base pass
    dense = [f for _, frames in passes[1:] for f in frames]
    assert dense and all(f % 2 == 1 for f in dense)
    assert out.meta["dense_frames"] == len(dense) < 0.6 * full.n_frames / 2
    np.testing.assert_allclose(out.xy[dense], full.xy[dense])
    passes.clear()
    without = pose.run_pose(video, dense=False)
    assert len(passes) == 1 and without.meta["dense_frames"] == 0
