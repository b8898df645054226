"""Practice session logic: the faded schedule, overrides, pauses, 1 Hz samples, time on target."""

from __future__ import annotations

import pytest

from app.practice.live_cadence import CadenceEstimate, Status
from app.practice.session import (
    PracticeError,
    PracticeSession,
    Sample,
    State,
    always_off,
    always_on,
    band,
    faded,
    schedule_from_plan,
    totals,
)
from app.prescription.plan import default_feedback_schedule


def _est(spm: float | None, status: Status = Status.OK) -> CadenceEstimate:
    return CadenceEstimate(0.0, spm, 0.9 if spm else 0.0, status)


def test_faded_schedule_switches_at_the_planned_times() -> None:
    s = faded(first_on_s=120, off_s=(60, 120), cue_s=30)
    assert [s.metronome_at(t) for t in (0, 119.9, 120, 179.9, 180, 209.9, 210, 329, 330, 5000)] == [
        True, True, False, False, True, True, False, False, False, False,
    ]  # fmt: skip
    assert s.next_change(0) == 120 and s.next_change(150) == 180 and s.next_change(400) is None
    assert "2 min" in s.label
    with pytest.raises(PracticeError):
        faded(off_s=(0,))


def test_schedule_from_the_plan_phase() -> None:
    class Plan:
        feedback = default_feedback_schedule()

    assert schedule_from_plan(Plan(), 1).label.startswith("Faded")
    assert schedule_from_plan(Plan(), 9).label == always_off().label  # "No metronome" phase
    assert schedule_from_plan(None).label.startswith("Faded")


def test_band_edges() -> None:
    assert band(170.0, 172, 2) == "on" and band(174.0, 172, 2) == "on"
    assert band(169.9, 172, 2) == "slow" and band(174.1, 172, 2) == "fast"
    assert band(None, 172, 2) is None


def test_session_clock_pause_and_samples() -> None:
    s = PracticeSession(172, 2.0, faded(first_on_s=10, off_s=(10,), cue_s=0))
    assert s.state is State.READY and s.tick(0.0, _est(172)) is False
    s.start(100.0)
    for k in range(0, 81):  # 8 s running at 10 Hz polls
        s.tick(100.0 + k / 10, _est(172.0))
    s.pause(108.0)
    assert s.tick(150.0, _est(172.0)) is False  # paused: silent, no samples
    assert s.elapsed(150.0) == pytest.approx(8.0)
    s.resume(150.0)
    for k in range(0, 121):  # 12 s more: crosses the switch at 10 s of session time
        s.tick(150.0 + k / 10, _est(160.0 if k > 60 else 172.0))
    s.stop(162.0)
    assert s.state is State.STOPPED and s.duration_s == pytest.approx(20.0)
    assert [x.t for x in s.samples] == [float(i) for i in range(20)]
    assert s.spans == [[0.0, 10.0, True], [10.0, 20.0, False]]
    t = s.totals()
    assert t.measured_cue_s == 10 and t.on_target_cue_s == 10
    assert t.measured_nocue_s == 10 and t.on_target_nocue_s == 5
    assert t.percent(False) == pytest.approx(50.0)


def test_override_holds_until_the_next_scheduled_switch() -> None:
    s = PracticeSession(170, schedule=faded(first_on_s=10, off_s=(10, 10), cue_s=10))
    s.start(0.0)
    s.tick(2.0, None)
    s.override(False, 2.0)
    assert s.tick(5.0, None) is False and s.overridden
    assert s.tick(10.5, None) is False  # schedule says off now anyway; override over
    assert s.tick(20.5, None) is True  # the cue stretch comes back on its own
    s.override(None, 21.0)
    assert not s.overridden
    assert any("clinician" in e for e in s.events)
    assert [sp[2] for sp in s.spans] == [True, False, True]


def test_camera_gaps_are_samples_without_cadence() -> None:
    s = PracticeSession(170, schedule=always_on())
    s.start(0.0)
    for k in range(50):
        est = _est(None, Status.NOBODY) if 20 <= k < 30 else _est(170.0)
        s.tick(k / 10 * 1.0, est)  # 0..4.9 s
    spm = [x.spm for x in s.samples]
    assert spm[:2] == [170.0, 170.0] and spm[2] is None and spm[3:] == [170.0, 170.0]
    assert s.totals().measured_s == 4


def test_bad_targets_refused() -> None:
    with pytest.raises(PracticeError):
        PracticeSession("fast")  # type: ignore[arg-type]
    with pytest.raises(PracticeError):
        PracticeSession(172, tolerance_spm=0)
    with pytest.raises(PracticeError):
        PracticeSession(float("nan"))


def test_totals_means() -> None:
    samples = [Sample(0, 170, True, 1), Sample(1, 174, True, 1), Sample(2, 168, False, 1),
               Sample(3, None, False, 0)]  # fmt: skip
    t = totals(samples, 172, 2)
    assert t.mean_cue_spm == 172 and t.mean_nocue_spm == 168 and t.on_target_s == 2


def test_upcoming_switches_follow_the_schedule_and_the_override() -> None:
    s = PracticeSession(170, schedule=faded(first_on_s=10, off_s=(20, 30), cue_s=5))
    assert s.upcoming_switches(100.0, 60) == []  # not running: nothing planned
    s.start(100.0)
    # on 0-10, off 10-30, on 30-35, off from 35 (session time); now = 100 is session time 0
    assert s.upcoming_switches(100.0, 60) == [(110.0, False), (130.0, True), (135.0, False)]
    assert s.upcoming_switches(100.0, 20) == [(110.0, False)]  # only within the horizon
    s.override(False, 102.0)  # off by hand until the schedule's next switch (10 s)
    assert s.upcoming_switches(102.0, 60) == [(130.0, True), (135.0, False)]
    s.pause(104.0)
    assert s.upcoming_switches(104.0, 60) == []
    s.resume(200.0)  # 4 s of session time banked: the switches move with the pause
    assert s.upcoming_switches(200.0, 60)[0] == (226.0, True)
