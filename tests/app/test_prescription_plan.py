"""Plan generation, sources on every default, JSON round trip."""

from __future__ import annotations

import json

import pytest

from app.prescription.plan import (
    CadencePlan,
    PracticeDose,
    build_plan,
    default_feedback_schedule,
    plan_for,
)
from app.prescription.rules import (
    PrescriptionError,
    assess_follow_up,
    baseline_from_measurement,
    baseline_typed,
    prescribe,
)


def test_default_plan_steps_from_five_percent() -> None:
    plan = plan_for(baseline_typed(165), 5)
    assert [s.percent for s in plan.steps] == [5, 7.5, 10]
    assert [s.target_spm for s in plan.steps] == [173, 177, 182]
    assert plan.target_spm == plan.steps[0].target_spm == plan.metronome_bpm
    assert "automatic" in plan.steps[1].when
    assert all("Barton 2016" in s.source for s in plan.steps)


def test_custom_start_keeps_later_standard_steps() -> None:
    plan = plan_for(baseline_typed(160), 8)
    assert [s.percent for s in plan.steps] == [8, 10]
    assert [s.percent for s in plan_for(baseline_typed(160), 10).steps] == [10]
    assert [s.percent for s in plan_for(baseline_typed(160), 12).steps] == [12]


def test_dose_and_fading_defaults_with_sources() -> None:
    plan = plan_for(baseline_typed(165))
    d = plan.dose
    assert (d.runs_per_week_min, d.runs_per_week_max, d.weeks, d.minutes_max) == (2, 3, 2, 30)
    assert "Huber & Verhoff 2024" in d.source
    fb = plan.feedback
    assert (
        fb[0].first_session == 1 and fb[0].last_session == 4 and "whole run" in fb[0].metronome_use
    )
    # withdrawn progressively over sessions 5-8, then none
    covered = [s for f in fb[1:-1] for s in range(f.first_session, f.last_session + 1)]
    assert covered == [5, 6, 7, 8]
    assert fb[-1].last_session is None and "No metronome" in fb[-1].metronome_use
    assert all("Willy, Scholz & Davis 2012" in f.source for f in fb)
    # the program's own split is labelled as such
    assert "not from the source" in fb[1].source
    assert "shorter, quicker, lighter steps" in plan.wording.cues[0].lower()
    assert (
        "Barton 2016" in plan.wording.cues_source and "Anderson 2022" in plan.wording.costs_source
    )


def test_round_trip_json_preserves_edits() -> None:
    pr = prescribe(baseline_from_measurement(158.4, (6, 8)), 7.5)
    fu = assess_follow_up(170, 168.9, sd_spm=3, n_contacts=14)
    plan = build_plan(pr, follow_up=fu, treadmill_speed_kmh=10.5)
    plan.dose.minutes_max = 20
    plan.feedback[1].metronome_use = "First 10 minutes only"
    plan.wording.cues.append("Quiet feet")
    d = json.loads(json.dumps(plan.to_dict()))
    assert d["metronome_bpm"] == plan.target_spm and d["baseline_source"] == "reviewed"
    assert d["warnings"] and d["warnings"][0]["code"] == "few_contacts"
    back = CadencePlan.from_dict(d)
    assert back == plan
    assert back.contacts_per_side == (6, 8)


def test_from_dict_fills_missing_parts_with_defaults() -> None:
    back = CadencePlan.from_dict({"baseline_spm": 165, "percent": 5, "target_spm": 173, "extra": 1})
    assert [s.percent for s in back.steps] == [5, 7.5, 10]
    assert back.feedback == default_feedback_schedule()
    assert back.dose == PracticeDose()


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        {},
        {"baseline_spm": "x", "percent": 5, "target_spm": 173},
        {"baseline_spm": 165, "percent": 5, "target_spm": 173, "dose": {"runs_per_week_min": 0}},
        {"baseline_spm": 165, "percent": 5, "target_spm": 173, "schema_version": 99},
        {"baseline_spm": 165, "percent": 5, "target_spm": 173, "steps": [{"percent": 5}]},
    ],
)
def test_from_dict_damaged_records_raise_plain_error(bad) -> None:
    with pytest.raises(PrescriptionError):
        CadencePlan.from_dict(bad)


def test_dose_validation() -> None:
    with pytest.raises(PrescriptionError):
        PracticeDose(runs_per_week_min=4, runs_per_week_max=3).validate()
    assert PracticeDose(runs_per_week_min=3, runs_per_week_max=3).text.startswith("3 runs a week")


def test_home_program_lines() -> None:
    lines = plan_for(baseline_typed(165)).home_program_lines()
    text = "\n".join(lines)
    assert "173 steps per minute" in text and "173 beats per minute" in text
    assert "Sessions 1–4: Metronome for the whole run." in text
    assert "Land closer underneath you" in text
