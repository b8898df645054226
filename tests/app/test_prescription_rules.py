"""Cadence prescription rules: rounding, warnings, validation, follow-up."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.prescription.rules import (
    PrescriptionError,
    PrescriptionSettings,
    WarningCode,
    assess_follow_up,
    baseline_from_measurement,
    baseline_typed,
    cadence_noise_spm,
    prescribe,
    round_half_up,
    target_spm,
    validate_percent,
    validate_spm,
)


@pytest.mark.parametrize(
    ("baseline", "pct", "expected"),
    [
        (165, 5, 173),  # 173.25
        (160, 5, 168),  # exact
        (170, 5, 179),  # 178.5: half up (float gives 178.50000000000003; banker's would give 178)
        (150, 7.5, 161),  # 161.25
        (166, 7.5, 178),  # 178.45
        (165, 10, 182),  # 181.5 -> 182 (banker's would also give 182: even)
        (175, 10, 193),  # 192.5 -> 193 (banker's would give 192)
        (163.5, 0, 164),  # typed decimal baseline, .5 rounds up
        (162.5, 0, 163),  # banker's would give 162
        (171, -10, 154),  # 153.9
    ],
)
def test_target_rounding_half_up(baseline: float, pct: float, expected: int) -> None:
    assert target_spm(baseline, pct) == expected


def test_round_half_up_negative_is_away_from_zero() -> None:
    assert round_half_up(-2.5) == -3
    assert round_half_up(2.5) == 3
    assert round_half_up(2.4999) == 2


def test_prescribe_presets_not_custom_and_bpm_equals_target() -> None:
    p = prescribe(baseline_typed(165), 7.5)
    assert p.target_spm == 177  # 177.375
    assert not p.custom
    assert p.metronome_bpm == p.target_spm
    assert prescribe(baseline_typed(165), 6).custom


def test_prescribe_direct_target_derives_percent() -> None:
    p = prescribe(baseline_typed(160), target=176)
    assert p.custom
    assert p.percent == pytest.approx(10.0)
    assert not p.warnings
    p2 = prescribe(baseline_typed(160), target=180)
    assert [w.code for w in p2.warnings] == [WarningCode.JUMP_TOO_LARGE]


def test_prescribe_needs_exactly_one_of_percent_or_target() -> None:
    with pytest.raises(PrescriptionError):
        prescribe(baseline_typed(160))
    with pytest.raises(PrescriptionError):
        prescribe(baseline_typed(160), 5, target=170)


@pytest.mark.parametrize(
    "bad",
    ["", "abc", None, float("nan"), float("inf"), -float("inf"), 0, -160, 59.9, 300.1, True, [160]],
)
def test_baseline_validation_errors(bad: object) -> None:
    with pytest.raises(PrescriptionError) as e:
        baseline_typed(bad)
    assert "Traceback" not in str(e.value) and len(str(e.value)) > 10


def test_baseline_accepts_text_and_decimal_comma() -> None:
    assert baseline_typed(" 164,5 ").spm == 164.5
    assert validate_spm("60") == 60 and validate_spm(300) == 300


@pytest.mark.parametrize("bad", ["x", float("nan"), float("inf"), -50.1, 50.1, 100, None])
def test_percent_validation_errors(bad: object) -> None:
    with pytest.raises(PrescriptionError):
        validate_percent(bad)


def test_contacts_validation() -> None:
    with pytest.raises(PrescriptionError):
        baseline_from_measurement(165, (7,))
    with pytest.raises(PrescriptionError):
        baseline_from_measurement(165, (7, -1))
    with pytest.raises(PrescriptionError):
        baseline_from_measurement(165, (7, 2.5))
    b = baseline_from_measurement(165, (8, 7))
    assert b.measured and "8 left / 7 right" in b.source_text
    assert not baseline_typed(165).measured


def codes(p) -> set[WarningCode]:
    return {w.code for w in p.warnings}


def test_warnings_each_condition() -> None:
    assert codes(prescribe(baseline_from_measurement(165, (8, 8)), 5)) == set()
    assert codes(prescribe(baseline_typed(165), 12)) == {WarningCode.JUMP_TOO_LARGE}
    assert codes(prescribe(baseline_typed(165), 10)) == set()  # exactly 10 % is not "over"
    assert codes(prescribe(baseline_from_measurement(165, (6, 9)), 5)) == {WarningCode.FEW_CONTACTS}
    assert codes(prescribe(baseline_typed(135), 5)) == {WarningCode.BASELINE_OUTSIDE_RANGE}
    # baseline in range, target above 200
    assert codes(prescribe(baseline_typed(195), 5)) == {WarningCode.TARGET_OUTSIDE_RANGE}
    assert codes(prescribe(baseline_typed(165), 0)) == {WarningCode.NOT_AN_INCREASE}


def test_range_is_a_setting() -> None:
    s = PrescriptionSettings(
        sane_min_spm=150, sane_max_spm=180, max_jump_percent=7.5, min_contacts_per_side=10
    )
    p = prescribe(baseline_from_measurement(175, (8, 12)), 10, settings=s)
    assert codes(p) == {
        WarningCode.JUMP_TOO_LARGE,
        WarningCode.TARGET_OUTSIDE_RANGE,
        WarningCode.FEW_CONTACTS,
    }
    with pytest.raises(PrescriptionError):
        PrescriptionSettings(sane_min_spm=200, sane_max_spm=140)


def test_to_dict_is_plain() -> None:
    d = prescribe(baseline_from_measurement(165, (8, 8)), 5).to_dict()
    assert d["target_spm"] == 173 and d["baseline_source"] == "reviewed"
    assert d["contacts_per_side"] == [8, 8]


# --- property tests ----------------------------------------------------------------------------

spm_st = st.floats(min_value=60, max_value=300, allow_nan=False).map(lambda x: round(x, 1))
pct_st = st.floats(min_value=-50, max_value=50, allow_nan=False).map(lambda x: round(x, 2))
contacts_st = st.none() | st.tuples(st.integers(0, 30), st.integers(0, 30))


@settings(max_examples=300, deadline=None)
@given(spm_st, pct_st)
def test_property_target_within_half_a_step_of_formula(b: float, p: float) -> None:
    t = target_spm(b, p)
    exact = Decimal(repr(b)) * (1 + Decimal(repr(p)) / 100)
    assert abs(Decimal(t) - exact) <= Decimal("0.5")
    # ties go up (away from zero): exactly .5 below the result, never above it
    if abs(Decimal(t) - exact) == Decimal("0.5"):
        assert Decimal(t) > exact
    assert abs(t - b * (1 + p / 100)) <= 0.5 + 1e-9


@settings(max_examples=300, deadline=None)
@given(spm_st, pct_st, contacts_st)
def test_property_warnings_iff_conditions(b: float, p: float, contacts) -> None:
    s = PrescriptionSettings()
    base = baseline_typed(b) if contacts is None else baseline_from_measurement(b, contacts)
    pr = prescribe(base, p)
    got = codes(pr)
    t = pr.target_spm
    assert (WarningCode.JUMP_TOO_LARGE in got) == (p > s.max_jump_percent)
    assert (WarningCode.NOT_AN_INCREASE in got) == (p <= 0)
    assert (WarningCode.TARGET_OUTSIDE_RANGE in got) == (t < 140 or t > 200)
    assert (WarningCode.BASELINE_OUTSIDE_RANGE in got) == (b < 140 or b > 200)
    assert (WarningCode.FEW_CONTACTS in got) == (contacts is not None and min(contacts) < 7)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(100, 250),
    spm_st,
    st.none() | st.floats(0, 20),
    st.none() | st.integers(2, 60),
    st.none() | st.sampled_from([30.0, 60.0, 120.0, 240.0]),
)
def test_property_follow_up_status_matches_noise(target, measured, sd, n, fps) -> None:
    f = assess_follow_up(target, measured, sd_spm=sd, n_contacts=n, frame_rate_hz=fps)
    diff = measured - target
    assert f.noise_spm > 0
    assert f.reached == (diff >= -f.noise_spm)
    assert (f.status.value == "reached") == (abs(diff) <= f.noise_spm)


# --- follow-up ---------------------------------------------------------------------------------


def test_noise_definition() -> None:
    # SE only: 1.96 * 4 / sqrt(16) = 1.96
    assert cadence_noise_spm(170, sd_spm=4, n_contacts=16) == pytest.approx(1.96)
    # frame error only: 170 spm, 16 contacts at 240 fps: T = 60*15/170 = 5.294 s; 170*(2/240)/T
    assert cadence_noise_spm(170, n_contacts=16, frame_rate_hz=240) == pytest.approx(
        max(0.5, 170 * (2 / 240) / (60 * 15 / 170))
    )
    both = cadence_noise_spm(170, sd_spm=4, n_contacts=16, frame_rate_hz=30)
    frame = 170 * (2 / 30) / (60 * 15 / 170)
    assert both == pytest.approx(math.hypot(1.96, frame))
    assert cadence_noise_spm(170) == PrescriptionSettings().default_tolerance_spm
    assert cadence_noise_spm(170, sd_spm=0.1, n_contacts=100) == 0.5  # floor


def test_follow_up_reached_and_next_step() -> None:
    f = assess_follow_up(173, 172.2, sd_spm=3, n_contacts=20, original_baseline_spm=165)
    assert f.status.value == "reached" and f.reached
    assert f.next_percent == 7.5 and f.next_target_spm == 177
    assert "177" in f.message and "Barton" in f.next_step


def test_follow_up_below_keeps_target() -> None:
    f = assess_follow_up(173, 166, sd_spm=3, n_contacts=20, original_baseline_spm=165)
    assert f.status.value == "below" and not f.reached
    assert f.next_target_spm is None and "same target" in f.next_step


def test_follow_up_last_step_and_unknown_baseline() -> None:
    f = assess_follow_up(182, 182, original_baseline_spm=165)  # +10 % reached
    assert f.next_target_spm is None and "last step" in f.next_step
    f2 = assess_follow_up(173, 180, sd_spm=2, n_contacts=30)
    assert f2.status.value == "above" and f2.reached and f2.next_target_spm is None
    assert f2.to_dict()["status"] == "above"


def test_follow_up_validation() -> None:
    with pytest.raises(PrescriptionError):
        assess_follow_up("abc", 170)
    with pytest.raises(PrescriptionError):
        assess_follow_up(173, float("nan"))
