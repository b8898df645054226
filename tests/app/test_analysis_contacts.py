"""Contact detection on force-plate-truth marker trials, robustness cases and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.analysis.contacts import detect_contacts
from app.analysis.errors import AnalysisError
from app.analysis.events import EventType, Foot
from app.analysis.keypoints import KeypointTrack
from app.analysis.metrics import temporal_metrics

from ._analysis_helpers import load_trial, match, resample

IC = EventType.INITIAL_CONTACT


def _ics(res) -> list:
    return [e for e in res.events if e.type is IC]


def _check_alternating(res, truth, min_recall: float = 0.95, tol: float = 0.06) -> None:
    ics = _ics(res)
    # Score only where truth exists (the force plate may end before the track).
    last = truth["strike_time_s"][-1] + 0.1
    rec, prec, err = match(
        [e.time_s for e in ics if e.time_s < last], list(truth["strike_time_s"]), tol
    )
    assert rec >= min_recall, f"recall {rec:.2f}"
    assert prec >= min_recall, f"precision {prec:.2f}"
    feet = [e.foot for e in ics]
    alternations = np.mean([a is not b for a, b in zip(feet[:-1], feet[1:], strict=True)])
    assert alternations >= 0.95
    truth_cad = 60 * (len(truth["side"]) - 1) / np.ptp(truth["strike_time_s"])
    assert temporal_metrics(res.events).cadence_spm == pytest.approx(truth_cad, rel=0.02)


@pytest.mark.parametrize("kind", ["forefoot", "rearfoot"])
def test_marker_trial_accuracy(shared_data: Path, kind: str) -> None:
    track, truth = load_trial(shared_data, kind)
    res = detect_contacts(track)
    ics = _ics(res)
    rec, prec, err = match([e.time_s for e in ics], list(truth["strike_time_s"]))
    assert rec >= 0.98 and prec >= 0.98
    assert abs(err.mean()) < 0.010 and err.std() < 0.012
    # Sides from labels + alternation agree with the force-plate side.
    side = {"L": Foot.LEFT, "R": Foot.RIGHT}
    idx = [int(np.argmin(np.abs(truth["strike_time_s"] - e.time_s))) for e in ics]
    assert np.mean([side[truth["side"][i]] is e.foot for i, e in zip(idx, ics, strict=True)]) > 0.97
    tos = [e.time_s for e in res.events if e.type is EventType.TOE_OFF]
    trec, _, terr = match(tos, list(truth["toe_off_time_s"]))
    assert trec >= 0.95 and abs(terr.mean()) < 0.025
    assert res.direction == "right"
    assert all(0.0 <= e.confidence <= 1.0 for e in res.events)


def test_swapped_labels_on_random_stretches(shared_data: Path) -> None:
    track, truth = load_trial(shared_data, "rearfoot", seconds=12.0)
    rng = np.random.default_rng(7)
    xy = track.xy.copy()
    start = 0
    while start < track.n_frames:
        length = int(rng.integers(20, 120))
        if rng.random() < 0.4:
            xy[start : start + length] = xy[start : start + length, ::-1]
        start += length + int(rng.integers(20, 150))
    res = detect_contacts(KeypointTrack(track.times, xy))
    _check_alternating(res, truth)


@pytest.mark.parametrize("mode", ["nan", "lowconf"])
def test_far_leg_lost_when_legs_cross(shared_data: Path, mode: str) -> None:
    track, truth = load_trial(shared_data, "forefoot", seconds=12.0)
    xy, conf = track.xy.copy(), track.conf.copy()
    leg = np.nanmedian(np.linalg.norm(xy[:, 0, 0] - xy[:, 0, 2], axis=-1))
    crossing = np.abs(xy[:, 0, 3, 0] - xy[:, 1, 3, 0]) < 0.35 * leg  # far leg behind near leg
    assert 0.15 < crossing.mean() < 0.6
    if mode == "nan":
        xy[crossing, 1] = np.nan
        conf[crossing, 1] = 0.0
    else:
        conf[crossing, 1] = 0.05
    res = detect_contacts(KeypointTrack(track.times, xy, conf))
    _check_alternating(res, truth)


def test_mirrored_direction(shared_data: Path) -> None:
    track, truth = load_trial(shared_data, "rearfoot", seconds=12.0)
    xy = track.xy.copy()
    xy[..., 0] = 4000.0 - xy[..., 0]
    res = detect_contacts(KeypointTrack(track.times, xy))
    assert res.direction == "left"
    _check_alternating(res, truth)


@pytest.mark.parametrize("fps", [30, 60, 120, 240])
@pytest.mark.parametrize("kind", ["forefoot", "rearfoot"])
def test_resampled_frame_rates(shared_data: Path, fps: int, kind: str) -> None:
    track, truth = load_trial(shared_data, kind, seconds=12.0)
    res = detect_contacts(resample(track, fps))
    # Timing within 60 ms at every rate, within two frames' worth where frames are coarse.
    _check_alternating(res, truth)
    _, _, err = match([e.time_s for e in _ics(res)], list(truth["strike_time_s"]))
    assert abs(err.mean()) < max(0.012, 1.0 / fps)


def test_short_clip_warns_or_refuses(shared_data: Path) -> None:
    track, _ = load_trial(shared_data, "rearfoot", seconds=3.0)
    res = detect_contacts(track)
    assert any("at least 7" in w for w in temporal_metrics(res.events).warnings)
    tiny, _ = load_trial(shared_data, "rearfoot", seconds=0.8)
    with pytest.raises(AnalysisError, match="too short"):
        detect_contacts(tiny)


def test_no_person(shared_data: Path) -> None:
    track, _ = load_trial(shared_data, "rearfoot", seconds=6.0)
    xy = track.xy.copy()
    xy[: int(0.7 * len(xy))] = np.nan
    with pytest.raises(AnalysisError, match="legs were found"):
        detect_contacts(KeypointTrack(track.times, xy))


def test_front_view_refused(shared_data: Path) -> None:
    track, _ = load_trial(shared_data, "rearfoot", seconds=6.0)
    xy = track.xy.copy()
    # A front view: horizontal motion of the feet squashed to a few percent.
    hip_x = xy[:, :, 0:1, 0].mean(axis=1, keepdims=True)
    xy[..., 0] = hip_x + 0.05 * (xy[..., 0] - hip_x)
    xy[:, 0, :, 0] -= 80
    xy[:, 1, :, 0] += 80
    with pytest.raises(AnalysisError, match="front or rear view"):
        detect_contacts(KeypointTrack(track.times, xy))


def test_random_jitter_gives_no_contacts() -> None:
    rng = np.random.default_rng(3)
    n = 600
    base = np.array([[0, 0], [20, 400], [0, 800], [-40, 850], [150, 850]], float)
    xy = np.stack([base, base + [300, 0]])[None].repeat(n, axis=0)
    xy = xy + rng.normal(0, 40, xy.shape)
    with pytest.raises(AnalysisError):
        detect_contacts(KeypointTrack(np.arange(n) / 60.0, xy))


def test_second_person_taking_over_is_cut_out(shared_data: Path) -> None:
    track, truth = load_trial(shared_data, "rearfoot", seconds=12.0)
    xy = track.xy.copy()
    # The last 3 s: the detector follows someone else, two leg lengths to the side and standing.
    cut = int(np.searchsorted(track.times, 9.0))
    xy[cut:] = xy[cut, None] + np.array([2000.0, 0.0])
    res = detect_contacts(KeypointTrack(track.times, xy))
    assert any("second person" in w for w in res.warnings)
    ics = [e.time_s for e in _ics(res)]
    assert max(ics) < 9.0
    rec, _, _ = match(ics, [t for t in truth["strike_time_s"] if t < 8.9])
    assert rec >= 0.95


def test_runner_leaving_the_frame_is_reported(shared_data: Path) -> None:
    track, truth = load_trial(shared_data, "rearfoot", seconds=12.0)
    xy = track.xy.copy()
    out = (track.times > 5.0) & (track.times < 6.5)  # feet out of the picture for 1.5 s
    xy[out, :, 1:] = np.nan
    res = detect_contacts(KeypointTrack(track.times, xy))
    assert any("out of view" in w for w in res.warnings)
    ics = [e.time_s for e in _ics(res)]
    assert not any(5.05 < t < 6.45 for t in ics)  # nothing invented while the feet were unseen
    rec, _, _ = match(ics, [t for t in truth["strike_time_s"] if not 4.9 < t < 6.6])
    assert rec >= 0.95


def test_pose_like_jitter_keeps_cadence_and_contacts(shared_data: Path) -> None:
    # White jitter of 1 % of leg length on every keypoint at 60 Hz, like a pose model's.
    track, truth = load_trial(shared_data, "forefoot", seconds=12.0)
    r = resample(track, 60)
    rng = np.random.default_rng(11)
    noisy = KeypointTrack(r.times, r.xy + rng.normal(0, 9.0, r.xy.shape))
    res = detect_contacts(noisy)
    _check_alternating(res, truth, min_recall=0.9)
