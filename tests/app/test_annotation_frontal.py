"""Rear-view frontal-plane measures (app.annotation.frontal)."""

from __future__ import annotations

import math

import pytest

from app.annotation.frontal import fppa_deg, pelvic_drop_deg, step_width
from app.annotation.geometry import GeometryError


def test_pelvic_drop_angle_and_lower_side() -> None:
    angle, side = pelvic_drop_deg((100, 200), (200, 200 + 100 * math.tan(math.radians(5))))
    assert angle == pytest.approx(5.0) and side == "right"
    angle, side = pelvic_drop_deg((100, 210), (200, 200))
    assert side == "left" and angle == pytest.approx(math.degrees(math.atan(0.1)))
    assert pelvic_drop_deg((0, 0), (10, 0)) == (0.0, "level")
    with pytest.raises(GeometryError, match="left hip first"):
        pelvic_drop_deg((200, 200), (100, 200))


def test_fppa_sign_is_valgus_positive_for_each_leg() -> None:
    # Left leg on image-left; a knee pushed to image-right (medially) is valgus.
    assert fppa_deg((100, 0), (110, 100), (100, 200), "left") > 0
    assert fppa_deg((100, 0), (90, 100), (100, 200), "left") < 0
    # Right leg: medial is image-left.
    assert fppa_deg((300, 0), (290, 100), (300, 200), "right") > 0
    value = fppa_deg((300, 0), (310, 100), (300, 200), "right")
    assert value == pytest.approx(-2 * math.degrees(math.atan(0.1)))
    assert fppa_deg((0, 0), (0, 100), (0, 200), "left") == pytest.approx(0.0)


def test_step_width_and_crossover() -> None:
    assert step_width((500, 300), (450, 900), "left") == 50
    assert step_width((500, 300), (520, 900), "left") == -20  # across the midline: crossover
    assert step_width((500, 300), (560, 900), "right", cm_per_px=0.1) == pytest.approx(6.0)
    with pytest.raises(GeometryError):
        step_width((500, 300), (560, 900), "both")
