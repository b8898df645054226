"""Property-based tests (hypothesis) for the gait metrics and the prescription rules."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.analysis.metrics import temporal_metrics
from app.prescription import rules

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def regular_run(n: int, step_s: float, t0: float = 0.0, first: Foot = Foot.LEFT) -> list[FootEvent]:
    """Perfectly regular alternating contacts (with toe-offs at 40 % of the step)."""
    events = []
    foot = first
    for k in range(n):
        t = t0 + k * step_s
        events.append(FootEvent(foot, EventType.INITIAL_CONTACT, k, t))
        events.append(FootEvent(foot, EventType.TOE_OFF, k, t + 0.4 * step_s))
        foot = foot.other
    return events


@FAST
@given(n=st.integers(2, 60), step_s=st.floats(0.2, 1.0), t0=st.floats(0.0, 100.0))
def test_cadence_of_a_regular_sequence_is_60_over_step(n: int, step_s: float, t0: float) -> None:
    m = temporal_metrics(regular_run(n, step_s, t0))
    assert m.cadence_spm == pytest.approx(60.0 / step_s, rel=1e-6)
    assert m.steps == n - 1


@FAST
@given(
    n=st.integers(3, 40),
    step_s=st.floats(0.25, 0.6),
    shift=st.floats(-50.0, 500.0),
    first=st.sampled_from(list(Foot)),
)
def test_metrics_do_not_change_with_a_time_shift(
    n: int, step_s: float, shift: float, first: Foot
) -> None:
    a = temporal_metrics(regular_run(n, step_s, 0.0, first))
    b = temporal_metrics(regular_run(n, step_s, 0.0 + shift, first))
    if a.cadence_spm is None:
        assert b.cadence_spm is None
    else:
        assert b.cadence_spm == pytest.approx(a.cadence_spm, rel=1e-6)
    assert a.steps == b.steps
    assert a.contacts == b.contacts
    for side in ("left", "right"):
        for name in ("step_time_s", "contact_time_s", "stride_time_s", "flight_time_s"):
            sa, sb = getattr(a, name)[side], getattr(b, name)[side]
            assert sa.n == sb.n
            if sa.mean is not None:
                assert sb.mean == pytest.approx(sa.mean, rel=1e-6, abs=1e-9)


event_strategy = st.builds(
    FootEvent,
    foot=st.sampled_from(list(Foot)),
    type=st.sampled_from(list(EventType)),
    frame=st.integers(0, 100_000),
    time_s=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    source=st.sampled_from(list(EventSource)),
    confidence=st.floats(0.0, 1.0),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(event_strategy, max_size=40))
def test_temporal_metrics_never_raise_on_arbitrary_events(events: list[FootEvent]) -> None:
    m = temporal_metrics(events)
    if m.cadence_spm is not None:
        assert math.isfinite(m.cadence_spm) and m.cadence_spm > 0
    assert m.contacts["left"] + m.contacts["right"] == sum(
        1 for e in events if e.type is EventType.INITIAL_CONTACT
    )
    assert isinstance(m.to_json(), dict)


# --- prescription rules -----------------------------------------------------------------------

spm_ok = st.floats(rules.ABSURD_MIN_SPM, rules.ABSURD_MAX_SPM)
pct_ok = st.floats(rules.ABSURD_MIN_PERCENT, rules.ABSURD_MAX_PERCENT)


@FAST
@given(spm=spm_ok, pct=pct_ok)
def test_target_is_the_rounded_percentage_of_the_baseline(spm: float, pct: float) -> None:
    p = rules.prescribe(rules.baseline_typed(spm), pct)
    exact = spm * (1 + pct / 100)
    assert abs(p.target_spm - exact) <= 0.5 + 1e-6
    assert p.metronome_bpm == p.target_spm
    if pct >= 0:
        assert p.target_spm >= math.floor(spm)


@FAST
@given(spm=spm_ok, a=pct_ok, b=pct_ok)
def test_target_grows_with_the_percentage(spm: float, a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert rules.target_spm(spm, lo) <= rules.target_spm(spm, hi)


@FAST
@given(spm=spm_ok, target=st.floats(rules.ABSURD_MIN_SPM, rules.ABSURD_MAX_SPM))
def test_direct_target_round_trips(spm: float, target: float) -> None:
    exact_pct = (round(target) / spm - 1) * 100
    assume(rules.ABSURD_MIN_PERCENT + 0.01 < exact_pct < rules.ABSURD_MAX_PERCENT - 0.01)
    assume(abs(target - round(target)) != 0.5)
    p = rules.prescribe(rules.baseline_typed(spm), target=target)
    assert p.target_spm == int(Decimal(repr(target)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert p.custom
    assert p.percent == pytest.approx(exact_pct, abs=1e-3)


@FAST
@given(st.one_of(st.none(), st.booleans(), st.text(max_size=20), st.floats(), st.integers()))
def test_bad_cadence_input_gives_a_prescription_error_or_a_valid_value(value: object) -> None:
    try:
        spm = rules.validate_spm(value)
    except rules.PrescriptionError as exc:
        assert str(exc)  # a sentence for the clinician
    else:
        assert rules.ABSURD_MIN_SPM <= spm <= rules.ABSURD_MAX_SPM


@FAST
@given(spm=spm_ok, pct=pct_ok)
def test_warnings_match_their_conditions(spm: float, pct: float) -> None:
    p = rules.prescribe(rules.baseline_typed(spm), pct)
    codes = {w.code for w in p.warnings}
    s = rules.PrescriptionSettings()
    assert (rules.WarningCode.NOT_AN_INCREASE in codes) == (p.percent <= 0)
    assert (rules.WarningCode.JUMP_TOO_LARGE in codes) == (p.percent > s.max_jump_percent)
    out_of_range = p.target_spm < s.sane_min_spm or p.target_spm > s.sane_max_spm
    assert (rules.WarningCode.TARGET_OUTSIDE_RANGE in codes) == out_of_range


@FAST
@given(x=st.floats(-1e6, 1e6, allow_nan=False))
def test_round_half_up_is_within_half(x: float) -> None:
    r = rules.round_half_up(x)
    assert abs(r - x) <= 0.5 + 1e-9
