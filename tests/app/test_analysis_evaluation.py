from __future__ import annotations

import numpy as np
import pytest

from app.analysis.evaluation import inject_glitches, match_events, match_frames, resample_track
from app.analysis.keypoints import KeypointTrack


def test_matching_is_one_to_one_within_tolerance() -> None:
    reference = [1.00, 1.40, 1.80, 2.20]
    detected = [1.01, 1.39, 1.395, 2.50]  # one duplicate near 1.40, one far-off false positive
    recall, precision, errors = match_events(detected, reference, tol=0.06)
    assert recall == pytest.approx(2 / 4)
    assert precision == pytest.approx(2 / 4)
    assert sorted(np.round(errors, 3)) == [-0.005, 0.01]  # 1.40 takes the nearer 1.395


def test_a_close_pair_is_not_lost_to_the_first_match() -> None:
    recall, precision, _ = match_events([1.00, 1.05], [1.02, 1.06], tol=0.06)
    assert recall == 1.0 and precision == 1.0


def test_resampling_keeps_motion() -> None:
    n = 151
    t = np.arange(n) / 150.0
    xy = np.zeros((n, 2, 5, 2))
    xy[..., 0] = (100 * t)[:, None, None]
    out = resample_track(KeypointTrack(t, xy), 30.0, source_fps=150.0)
    assert out.n_frames == 30
    assert out.xy[10, 0, 0, 0] == pytest.approx(100 * 10 / 30)


def test_frame_matching_prefers_the_closest_pairs() -> None:
    # Detection 10 is closer to truth 10.5 than to 8; greedy on distance keeps both pairs.
    assert match_frames([8.0, 10.0], [10.5, 7.5], 3.0) == [(1, 0), (0, 1)]
    assert match_frames([20.0], [10.0], 3.0) == []


def test_injected_glitches_are_single_far_frames() -> None:
    n = 200
    xy = np.zeros((n, 2, 5, 2))
    xy[:, :, 2, 1] = 900.0  # ankles: leg 900
    track = KeypointTrack(np.arange(n) / 60.0, xy)
    g, where = inject_glitches(track, 10, seed=3)
    again, where2 = inject_glitches(track, 10, seed=3)
    assert where == where2 and len(where) == 10  # fixed seed, same glitches
    moved = np.linalg.norm(g.xy - track.xy, axis=-1)
    assert np.count_nonzero(moved) == 10
    for f, s, j in where:
        assert moved[f, s, j] == pytest.approx(1800.0)
    frames = sorted(f for f, _, _ in where)
    assert min(np.diff(frames)) >= 3
