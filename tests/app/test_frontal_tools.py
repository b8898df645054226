"""Rear-view measures as marking-tool drawings: value, sign and label from the clicked points."""

from __future__ import annotations

import pytest

from app.annotation.geometry import (
    FRONTAL_POINTS,
    POINTS_NEEDED,
    make_measurement,
    moved_measurement,
)


def test_every_frontal_tool_has_its_clicks() -> None:
    assert {k: POINTS_NEEDED[k] for k in FRONTAL_POINTS} == {
        "pelvic_drop": 2, "fppa_left": 3, "fppa_right": 3,
        "step_width_left": 2, "step_width_right": 2,
    }  # fmt: skip


def test_pelvic_drop_is_signed_by_the_lower_side() -> None:
    right_low = make_measurement("pelvic_drop", [(100, 200), (200, 210)])
    assert right_low["value"] == pytest.approx(5.71, abs=0.01)
    assert right_low["label"] == "pelvic drop 5.7° R low"
    left_low = make_measurement("pelvic_drop", [(100, 210), (200, 200)])
    assert left_low["value"] == pytest.approx(-5.71, abs=0.01)
    assert left_low["label"] == "pelvic drop 5.7° L low"
    # the hips clicked the wrong way round: no value, and the label says so
    assert make_measurement("pelvic_drop", [(200, 200), (100, 210)])["value"] is None


def test_knee_fppa_is_valgus_positive_for_each_leg() -> None:
    # Rear view: the left leg's medial side is image-right, the right leg's image-left.
    knee_right_of_line = [(100, 100), (110, 200), (100, 300)]
    left = make_measurement("fppa_left", knee_right_of_line)
    right = make_measurement("fppa_right", knee_right_of_line)
    assert left["value"] == pytest.approx(11.42, abs=0.01) and "valgus" in left["label"]
    assert right["value"] == pytest.approx(-11.42, abs=0.01) and "varus" in right["label"]
    assert left["label"].startswith("FPPA L") and right["label"].startswith("FPPA R")


def test_step_width_in_px_or_cm_and_crossover_is_negative() -> None:
    wide = make_measurement("step_width_right", [(150, 100), (170, 300)], cm_per_px=0.5)
    assert wide["value"] == pytest.approx(10.0) and wide["label"] == "step width R 10.0 cm"
    cross = make_measurement("step_width_left", [(150, 100), (170, 300)])
    assert cross["value"] == pytest.approx(-20.0) and cross["label"] == "crossover L 20 px"
    # moving the foot measures again, in the same unit
    moved = moved_measurement(wide, [(150, 100), (190, 300)], cm_per_px=0.5)
    assert moved["value"] == pytest.approx(20.0) and moved["label"] == "step width R 20.0 cm"
