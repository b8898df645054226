"""Per-keypoint outlier rejection and person-change detection (synthetic tracks + markers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.analysis.contacts import detect_contacts
from app.analysis.evaluation import inject_glitches
from app.analysis.events import EventType
from app.analysis.keypoints import KeypointTrack, jump_frames, reject_outliers

from ._analysis_helpers import load_trial, match


def _walker(n: int = 300, fps: float = 60.0) -> KeypointTrack:
    """A synthetic runner: hips fixed, each foot swinging ±0.4 leg on a 0.7 s stride."""
    t = np.arange(n) / fps
    base = np.array([[0, 0], [10, 450], [0, 900], [-50, 950], [150, 950]], float)
    xy = np.repeat(np.stack([base, base])[None], n, axis=0)
    for s, phase in ((0, 0.0), (1, np.pi)):
        swing = 360 * np.sin(2 * np.pi * t / 0.7 + phase)
        xy[:, s, 2:, 0] += swing[:, None]
        xy[:, s, 1, 0] += 0.5 * swing
    return KeypointTrack(t, xy)


def test_single_frame_glitches_are_replaced_and_motion_kept() -> None:
    track = _walker()
    glitched, where = inject_glitches(track, 12, seed=1)
    clean, count = reject_outliers(glitched)
    assert count == len(where) == 12
    # The glitched points are back on the true (smooth, fast) motion; nothing else moved.
    assert np.nanmax(np.abs(clean.xy - track.xy)) < 0.05 * 900
    untouched, none = reject_outliers(track)
    assert none == 0 and np.array_equal(untouched.xy, track.xy)


def test_fast_motion_is_not_an_outlier_at_low_frame_rates() -> None:
    # At 25 fps the swinging foot moves a third of a leg between frames: still no outlier.
    track = _walker(n=120, fps=25.0)
    assert reject_outliers(track)[1] == 0


def test_a_glitch_is_not_a_second_person_but_a_lasting_jump_is() -> None:
    track = _walker()
    xy = track.xy.copy()
    xy[100, :, 0] += 2000.0  # both hips thrown away for one frame
    assert len(jump_frames(KeypointTrack(track.times, xy))) == 0
    xy = track.xy.copy()
    xy[150:] += 2000.0  # everything moves for good: someone else
    assert list(jump_frames(KeypointTrack(track.times, xy))) == [150]


def test_glitched_marker_trial_gives_the_same_contacts(shared_data: Path) -> None:
    track, truth = load_trial(shared_data, "rearfoot", seconds=15.0)
    clean = detect_contacts(track)
    glitched, where = inject_glitches(track, 15, seed=5)
    res = detect_contacts(glitched)
    assert res.analysed_frames == (0, track.n_frames - 1) and res.analysed_reason == ""
    assert res.outliers_rejected >= len(where)
    ics = [e.time_s for e in res.events if e.type is EventType.INITIAL_CONTACT]
    rec, prec, err = match(ics, list(truth["strike_time_s"]))
    assert rec >= 0.98 and prec >= 0.98 and abs(err.mean()) < 0.005
    key = [(e.foot, e.type, e.frame) for e in clean.events]
    near = [
        any(g.foot is f and g.type is ty and abs(g.frame - fr) <= 1 for g in res.events)
        for f, ty, fr in key
    ]
    assert all(near)


def test_a_second_person_cut_says_which_frames(shared_data: Path) -> None:
    track, _ = load_trial(shared_data, "rearfoot", seconds=12.0)
    xy = track.xy.copy()
    cut = int(np.searchsorted(track.times, 9.0))
    xy[cut:] = xy[cut, None] + np.array([2000.0, 0.0])
    res = detect_contacts(KeypointTrack(track.times, xy))
    assert res.analysed_frames == (0, cut - 1)
    assert f"frames 0-{cut - 1}" in res.analysed_reason
    assert any(f"Only frames 0-{cut - 1}" in w for w in res.warnings)
    assert res.to_json()["analysed_frames"] == [0, cut - 1]
