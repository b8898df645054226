from __future__ import annotations

import math

import numpy as np
import pytest

from app.analysis.events import EventType, Foot, FootEvent
from app.analysis.keypoints import KeypointTrack
from app.analysis.metrics import (
    landing_metrics,
    strike_pattern,
    symmetry_index,
    temporal_metrics,
)
from tests.synthetic_gait import alternating_events

IC, TO = EventType.INITIAL_CONTACT, EventType.TOE_OFF


def _events(n_steps: int, step: float, contact: float) -> list[FootEvent]:
    ev = []
    for k in range(n_steps):
        foot = Foot.LEFT if k % 2 == 0 else Foot.RIGHT
        ev.append(FootEvent(foot, IC, k * 10, k * step))
        ev.append(FootEvent(foot, TO, k * 10 + 5, k * step + contact))
    return ev


def test_cadence_contact_flight_duty() -> None:
    tm = temporal_metrics(_events(16, 0.4, 0.25))
    assert tm.cadence_spm == pytest.approx(150.0)  # 60 * 15 / 6.0
    assert tm.contact_time_s["left"].mean == pytest.approx(0.25)
    assert tm.flight_time_s["right"].mean == pytest.approx(0.15)
    assert tm.duty_factor["left"].mean == pytest.approx(0.25 / 0.8)
    assert tm.step_time_s["right"].mean == pytest.approx(0.4)
    assert tm.contacts == {"left": 8, "right": 8}
    assert tm.warnings == []


def test_missing_contact_keeps_cadence_and_warns_few_contacts() -> None:
    ev = [e for e in _events(10, 0.4, 0.25) if e.frame != 40]  # drop one contact
    tm = temporal_metrics(ev)
    assert tm.cadence_spm == pytest.approx(150.0)
    assert tm.steps == 9
    assert any("at least 7" in w for w in tm.warnings)


def test_cadence_rests_on_every_contact_not_on_the_first_and_last() -> None:
    # 24 contacts at 170 spm marked on whole frames at 30 fps; the first contact two frames late
    # and the last two frames early (an automatic contact at a clip's end, a hurried mark).
    fps, step = 30.0, 60.0 / 170.0
    ev = [e for e in alternating_events(fps, 24, step=step) if e.type is IC]
    ev[0] = FootEvent(ev[0].foot, IC, ev[0].frame + 2, (ev[0].frame + 2) / fps)
    ev[-1] = FootEvent(ev[-1].foot, IC, ev[-1].frame - 2, (ev[-1].frame - 2) / fps)
    endpoints = 60.0 * 23 / (ev[-1].time_s - ev[0].time_s)
    assert endpoints - 170.0 > 2.0  # the (N − 1) / span formula reads 2.5 spm fast
    fitted = temporal_metrics(ev).cadence_spm
    assert fitted is not None and abs(fitted - 170.0) < (endpoints - 170.0) / 3  # 0.6 spm


def test_cadence_of_evenly_spaced_contacts_is_n_minus_1_over_span() -> None:
    ev = _events(16, 0.4, 0.25)
    assert temporal_metrics(ev).cadence_spm == pytest.approx(60.0 * 15 / 6.0, rel=1e-12)
    two = [e for e in ev if e.type is IC][:2]
    tm = temporal_metrics(two, fps=25.0)
    assert tm.cadence_spm == pytest.approx(150.0)
    # Two contacts: the slope is the span, its uncertainty that of two independent marks.
    assert tm.cadence_fps_u == pytest.approx(150.0 * (1 / 25.0) / math.sqrt(6.0) / 0.4, rel=0.05)


def test_asymmetric_step_time_symmetry_index() -> None:
    ev = []
    t = 0.0
    for k in range(20):
        foot = Foot.LEFT if k % 2 == 0 else Foot.RIGHT
        ev.append(FootEvent(foot, IC, k, t))
        t += 0.42 if foot is Foot.LEFT else 0.38  # the step ending on the right lasts 0.42 s
    tm = temporal_metrics(ev)
    assert tm.step_time_s["right"].mean == pytest.approx(0.42)
    assert tm.step_time_s["left"].mean == pytest.approx(0.38)
    assert tm.symmetry_pct["step_time"] == pytest.approx(100 * (0.38 - 0.42) / 0.40)
    assert symmetry_index(1.0, 1.0) == 0.0


def test_strike_pattern_thresholds() -> None:
    assert strike_pattern(10.0) == "rearfoot"
    assert strike_pattern(7.4) == "midfoot"
    assert strike_pattern(0.0) == "midfoot"
    assert strike_pattern(-1.0) == "forefoot"


def test_landing_metrics_hand_computed() -> None:
    # One frame, runner travelling right. Left leg landing ahead; right leg behind.
    xy = np.zeros((2, 2, 5, 2))
    # left: hip (0,0), knee (30, 40) straight below-forward, ankle (40, 80), heel (35, 90), toe (55, 80)
    left = [(0, 0), (30, 40), (40, 80), (35, 90), (55, 80)]
    right = [(0, 0), (-20, 40), (-40, 70), (-50, 60), (-30, 65)]
    for f in range(2):
        xy[f, 0] = left
        xy[f, 1] = right
    track = KeypointTrack(np.array([0.0, 0.01]), xy)
    ev = [FootEvent(Foot.LEFT, IC, 0, 0.0)]
    lm = landing_metrics(ev, track, "right", standing_foot_angle_deg=0.0)
    row = lm.per_step[0]
    leg = np.hypot(40, 80)
    assert row["overstride"] == pytest.approx(100 * 35 / leg, abs=1e-2)
    assert row["shank_angle_deg"] == pytest.approx(np.degrees(np.arctan2(10, 40)), abs=1e-2)
    hip_knee, ankle_knee = np.array([-30, -40]), np.array([10, 40])
    ang = np.degrees(np.arccos(hip_knee @ ankle_knee / np.hypot(30, 40) / np.hypot(10, 40)))
    assert row["knee_flexion_deg"] == pytest.approx(180 - ang, abs=1e-2)
    assert row["foot_strike_angle_deg"] == pytest.approx(np.degrees(np.arctan2(10, 20)), abs=1e-2)
    assert row["foot_strike_pattern"] == "rearfoot"
    # Mirrored (travelling left) gives the same numbers.
    xy_m = xy.copy()
    xy_m[..., 0] *= -1
    lm2 = landing_metrics(ev, KeypointTrack(np.array([0.0, 0.01]), xy_m), "left",
                          standing_foot_angle_deg=0.0)  # fmt: skip
    assert lm2.per_step[0]["shank_angle_deg"] == pytest.approx(row["shank_angle_deg"])
    assert lm2.per_step[0]["overstride"] == pytest.approx(row["overstride"])
    # With a calibration the overstride stays in % of leg length and cm is added alongside.
    lm3 = landing_metrics(ev, track, "right", cm_per_px=0.5, standing_foot_angle_deg=0.0)
    assert lm3.per_step[0]["overstride"] == pytest.approx(row["overstride"])
    assert lm3.per_step[0]["overstride_cm"] == pytest.approx(17.5, abs=1e-2)
    assert lm3.calibrated and not lm.calibrated
    assert {"overstride_cm", "overstride_leg_pct"} <= set(lm3.to_json())
    assert lm.shank_angle_deg["left"].sdd == (2.2, 4.8)


# -- uncertainty from the frame rate alone -------------------------------------------------------
def _framed(fps: float, n_steps: int = 16, step: float = 0.35, contact: float = 0.22):
    """Events on whole frames at ``fps`` (as a clinician marks them)."""
    return alternating_events(fps, n_steps, step, contact)


def test_frame_rate_uncertainty_of_durations_and_means() -> None:
    dt = 1 / 30.0
    # A stride of 21.37 frames: the contacts' sub-frame phases drift and the errors average out
    # (at least as well as independent ones, Δ/√6/√n).
    drift = temporal_metrics(_framed(30.0, step=0.3562))
    assert drift.fps == pytest.approx(30.0)  # implied by the events' frames and times
    n = drift.step_time_s["left"].n
    assert 0 < drift.step_time_s["left"].fps_u <= dt / np.sqrt(6) / np.sqrt(n)
    # A stride of exactly 21 frames: the phases stay locked and the means do not average out.
    locked = temporal_metrics(_framed(30.0, step=0.35))
    assert locked.step_time_s["left"].fps_u > 1.5 * drift.step_time_s["left"].fps_u
    assert locked.step_time_s["left"].fps_u <= dt / np.sqrt(6)  # never worse than one value
    # Back-to-back strides telescope: only the first and last contact count, Δ/√6/n.
    ns = drift.stride_time_s["left"].n
    assert drift.stride_time_s["left"].fps_u == pytest.approx(dt / np.sqrt(6) / ns, rel=0.1)
    assert drift.contact_time_s["right"].fps_u is not None
    # Higher frame rate, smaller uncertainty: 8x the rate, 8x smaller when equally locked.
    hi = temporal_metrics(_framed(240.0, step=0.35))
    assert hi.step_time_s["left"].fps_u == pytest.approx(
        locked.step_time_s["left"].fps_u / 8, rel=0.35
    )
    assert drift.cadence_fps_u is not None and 0 < drift.cadence_fps_u < 1.0
    assert "fps_u" in drift.to_json()["step_time_s"]["left"]  # type: ignore[index]


def test_left_right_difference_within_frame_rate_is_flagged() -> None:
    # 3 ms of step asymmetry: invisible at 30 fps, clear at 1000 fps.
    def asym(fps: float) -> list[FootEvent]:
        ev, t = [], 0.0
        for k in range(40):
            foot = Foot.LEFT if k % 2 == 0 else Foot.RIGHT
            f = int(round(t * fps))
            ev.append(FootEvent(foot, IC, f, f / fps))
            t += 0.3515 if foot is Foot.LEFT else 0.3485
        return ev

    assert "step time" in temporal_metrics(asym(30.0)).unresolved
    assert "step time" not in temporal_metrics(asym(1000.0)).unresolved
    assert temporal_metrics([]).unresolved == []


def test_landing_measure_uncertainty_is_the_change_over_one_frame() -> None:
    # The heel moves back at a constant 30 px a frame while the hip stands: overstride falls by
    # 30 px per frame, so each value's uncertainty is (30 px / leg) / √12.
    fps, n = 30.0, 200
    t = np.arange(n) / fps
    xy = np.zeros((n, 2, 5, 2))
    xy[:, :, 0] = [0.0, 0.0]  # hips
    xy[:, :, 1] = [0.0, 450.0]
    xy[:, :, 2] = [0.0, 900.0]  # ankles: leg = 900 px
    xy[:, 0, 3] = np.stack([300.0 - 30.0 * np.arange(n), np.full(n, 950.0)], axis=1)
    xy[:, 1, 3] = [-300.0, 950.0]
    xy[:, :, 4] = xy[:, :, 3] + [150.0, 0.0]
    track = KeypointTrack(t, xy)
    ev = [FootEvent(Foot.LEFT, IC, k, k / fps) for k in (2, 4, 6, 8)]
    m = landing_metrics(ev, track, "right")
    per = 100 * 30.0 / 900.0 / np.sqrt(12)
    assert m.per_step[0]["overstride_fps_u"] == pytest.approx(per, rel=1e-3)
    # Four contacts two frames apart: phases locked, so between independent (u/√4) and one u.
    assert per / 2 * 0.99 <= m.overstride["left"].fps_u <= per * 1.01
    assert m.fps == pytest.approx(30.0)


def test_cadence_stays_finite_for_contacts_a_few_ulps_apart() -> None:
    """Found by hypothesis: a median step of 5e-324 s made round(gap / median) infinite."""
    from app.analysis.events import EventSource

    events = [
        FootEvent(Foot.LEFT, EventType.INITIAL_CONTACT, 0, 0.0, EventSource.MANUAL, 0.0),
        FootEvent(Foot.LEFT, EventType.INITIAL_CONTACT, 0, -1.0, EventSource.MANUAL, 0.0),
        FootEvent(Foot.RIGHT, EventType.INITIAL_CONTACT, 0, 5e-324, EventSource.MANUAL, 0.0),
    ]
    m = temporal_metrics(events)
    assert m.cadence_spm is not None and math.isfinite(m.cadence_spm) and m.cadence_spm > 0


def test_without_uncertainty_every_other_figure_is_the_same() -> None:
    # The History asks for means and SDs only; leaving the frame-rate uncertainties out must
    # not change any figure it shows.
    events = _framed(30.0, step=0.3562)
    full = temporal_metrics(events)
    lean = temporal_metrics(events, uncertainty=False)
    assert full.step_time_s["left"].fps_u is not None  # the full result has them
    for kind in ("step_time_s", "stride_time_s", "contact_time_s", "flight_time_s",
                 "duty_factor"):  # fmt: skip
        for side in ("left", "right"):
            a, b = getattr(full, kind)[side], getattr(lean, kind)[side]
            assert (a.mean, a.sd, a.n) == (b.mean, b.sd, b.n)
            assert b.fps_u is None
    assert (lean.cadence_spm, lean.steps, lean.contacts, lean.symmetry_pct, lean.warnings) == (
        full.cadence_spm,
        full.steps,
        full.contacts,
        full.symmetry_pct,
        full.warnings,
    )
    assert lean.fps == full.fps and lean.unresolved == []


def test_overstride_lives_in_the_landing_measures_only() -> None:
    # One definition: the temporal metrics (events alone) carry no overstride, calibrated or not.
    from dataclasses import fields

    from app.analysis.metrics import LandingMetrics, TemporalMetrics

    assert "overstride_cm" in {f.name for f in fields(LandingMetrics)}
    assert not {"overstride", "overstride_cm"} & {f.name for f in fields(TemporalMetrics)}
    assert not hasattr(temporal_metrics(_events(16, 0.4, 0.25)), "calibrated")
