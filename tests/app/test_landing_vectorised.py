"""The landing measures computed across all contacts at once are the per-contact ones, bit for bit:
on the demo clip's real pose cache and marks, and on synthetic running tracks with missing
keypoints, missed and doubled marks, both directions, calibrated or not, with and without the
frame-rate uncertainties. The reference is the per-contact code as it was
(tests/app/_landing_reference.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.analysis.keypoints import KeypointTrack, load_npz
from app.analysis.metrics import landing_metrics  # (landing is imported through metrics)
from tests.app._landing_reference import reference_landing_metrics

IC, TO = EventType.INITIAL_CONTACT, EventType.TOE_OFF


def _same(events, track, direction, **kw) -> None:  # type: ignore[no-untyped-def]
    """Both give the same result, compared through repr (every float exactly, NaN included),
    or both refuse the input with the same error."""
    try:
        ref = reference_landing_metrics(events, track, direction, **kw)
    except Exception as exc:  # noqa: BLE001 - the new code must fail in the same way
        with pytest.raises(type(exc)):
            landing_metrics(events, track, direction, **kw)
        return
    new = landing_metrics(events, track, direction, **kw)
    assert repr(new) == repr(ref)
    assert new.to_json() == ref.to_json()


def _runner(rng: np.random.Generator, n: int, fps: float, direction: str) -> KeypointTrack:
    """Two legs swinging in anti-phase under a hip that bobs, image y down, with jitter."""
    t = np.arange(n) / fps + rng.uniform(0, 0.5)
    d = 1.0 if direction == "right" else -1.0
    phase = 2 * math.pi * t / 0.72  # a stride of 0.72 s
    xy = np.zeros((n, 2, 5, 2))
    for side, offset in ((0, 0.0), (1, math.pi)):
        swing = np.sin(phase + offset)
        lift = np.clip(np.cos(phase + offset), 0, None)
        hip = np.stack([300 + 3 * np.sin(2 * phase), 200 + 4 * np.cos(2 * phase)], -1)
        knee = hip + np.stack([d * 40 * swing + 10 * d, 90 - 10 * lift], -1)
        ankle = knee + np.stack([d * 50 * swing - 15 * d * lift, 85 - 20 * lift], -1)
        heel = ankle + np.stack([np.full(n, -d * 12.0), 12 - 8 * lift], -1)
        toe = ankle + np.stack([np.full(n, d * 30.0), 14 - 15 * lift * swing], -1)
        xy[:, side] = np.stack([hip, knee, ankle, heel, toe], 1)
    xy += rng.normal(0, 1.5, xy.shape)
    return KeypointTrack(t, xy)


def _marks(rng: np.random.Generator, track: KeypointTrack, fps: float) -> list[FootEvent]:
    """Contacts every half stride with jitter, toe-offs 0.2-0.3 s later, whole frames."""
    t0 = float(track.times[0])
    out = []
    k, t = 0, 0.1
    span = float(track.times[-1] - t0)
    while t < span - 0.1:
        foot = Foot.LEFT if k % 2 == 0 else Foot.RIGHT
        f = int(round(t * fps))
        out.append(FootEvent(foot, IC, f, f / fps, EventSource.MANUAL, 1.0))
        if rng.random() > 0.15:  # now and then a toe-off is not marked
            g = f + int(round(rng.uniform(0.2, 0.3) * fps))
            out.append(FootEvent(foot, TO, g, g / fps, EventSource.MANUAL, 1.0))
        k += 1
        t += 0.36 + rng.normal(0, 0.01)
    return out


def test_demo_clip_pose_cache_identical() -> None:
    from app.demo import DEMO_POSE, DEMO_POSE_KEY, reference_events
    from resources import resource_path

    track = load_npz(resource_path(DEMO_POSE), DEMO_POSE_KEY)
    events = reference_events()
    assert sum(e.type is IC for e in events) > 20  # a real clip with many contacts
    for direction in ("right", "left"):
        for uncertainty in (True, False):
            _same(events, track, direction, uncertainty=uncertainty)
            _same(events, track, direction, uncertainty=uncertainty, cm_per_px=0.21)
    _same(events, track, "right", standing_foot_angle_deg=4.0)


@pytest.mark.parametrize("seed", range(12))
def test_synthetic_tracks_identical(seed: int) -> None:
    rng = np.random.default_rng(seed)
    fps = float(rng.choice([30.0, 60.0, 120.0, 240.0]))
    direction = "right" if seed % 2 else "left"
    track = _runner(rng, int(fps * rng.uniform(4, 9)), fps, direction)
    events = _marks(rng, track, fps)
    # Missing keypoints: whole frames, single joints, one label's heel for a stretch.
    xy = track.xy
    xy[rng.random(len(xy)) < 0.05] = np.nan
    xy[rng.random(xy.shape[:3]) < 0.03] = np.nan
    a = int(rng.integers(0, len(xy) - 10))
    xy[a : a + 10, int(rng.integers(0, 2)), 3] = np.nan
    if seed % 3 == 0:  # a contact marked twice and one out of order
        events.append(events[2])
        events.insert(0, events.pop(5))
    if seed % 4 == 1:  # a contact where no heel is known: left out by both
        ic = next(e for e in events if e.type is IC)
        xy[:, :, 3] = np.where(np.abs(track.times - track.times[0] - ic.time_s)[:, None, None]
                               < 2 / fps, np.nan, xy[:, :, 3])  # fmt: skip
    for uncertainty in (True, False):
        _same(events, track, direction, uncertainty=uncertainty)
        _same(events, track, direction, uncertainty=uncertainty, cm_per_px=0.3)
    _same(events, track, "left" if direction == "right" else "right")  # the wrong direction
    _same(events, track, direction, standing_foot_angle_deg=-2.5, uncertainty=False)


def test_degenerate_inputs_identical() -> None:
    rng = np.random.default_rng(99)
    track = _runner(rng, 200, 60.0, "right")
    events = _marks(rng, track, 60.0)
    _same([], track, "right")
    _same([e for e in events if e.type is TO], track, "right")  # toe-offs only
    _same(events[:1], track, "right")  # one contact
    blank = KeypointTrack(track.times, np.full_like(track.xy, np.nan))
    _same(events, blank, "right")  # no keypoints at all
    # All keypoints missing around mid-stance only: the per-contact code refused this input
    # (numpy's "All-NaN slice"); the vectorised code must refuse it the same way.
    holed = track.xy.copy()
    ic = next(e for e in events if e.type is IC)
    to = next(e for e in events if e.type is TO and e.foot is ic.foot and e.time_s > ic.time_s)
    mid = 0.5 * (ic.time_s + to.time_s)
    near = np.abs(track.times - track.times[0] - mid) < 2 / 60.0
    holed[near] = np.nan
    _same(events, KeypointTrack(track.times, holed), "right")
    still = KeypointTrack(np.zeros(50), track.xy[:50])  # one instant repeated: no frame rate
    _same(events[:6], still, "right")
