"""Measurement maths on image points (x right, y down), checked against hand-computed values."""

from __future__ import annotations

import math

import pytest

from app.annotation.geometry import (
    GeometryError,
    angle_deg,
    calibrate,
    distance_cm,
    distance_px,
    knee_flexion_deg,
    segment_angle_to_vertical_deg,
    shank_angle_deg,
)


def test_distance_is_pythagoras() -> None:
    assert distance_px((0, 0), (3, 4)) == pytest.approx(5.0)
    assert distance_px((10, 10), (10, 10)) == 0.0


@pytest.mark.parametrize(
    ("a", "b", "c", "expected"),
    [
        ((1, 0), (0, 0), (0, 1), 90.0),
        ((1, 0), (0, 0), (-1, 0), 180.0),
        ((1, 0), (0, 0), (2, 0), 0.0),
        ((1, 0), (0, 0), (1, 1), 45.0),
        ((0, -10), (0, 0), (5, 5 * math.sqrt(3)), 150.0),  # 180 - 30
    ],
)
def test_angle_at_the_middle_point(a, b, c, expected) -> None:  # type: ignore[no-untyped-def]
    assert angle_deg(a, b, c) == pytest.approx(expected, abs=1e-9)
    assert angle_deg(c, b, a) == pytest.approx(expected, abs=1e-9)  # order of the ends is free


def test_knee_flexion_straight_and_bent_leg() -> None:
    # Straight leg, hip above knee above ankle (y down): no flexion.
    assert knee_flexion_deg((100, 100), (100, 200), (100, 300)) == pytest.approx(0.0)
    # Shank 30 degrees forward of the thigh line: 30 degrees of flexion.
    ankle = (100 + 100 * math.sin(math.radians(30)), 200 + 100 * math.cos(math.radians(30)))
    assert knee_flexion_deg((100, 100), (100, 200), ankle) == pytest.approx(30.0)
    # A right-angle knee.
    assert knee_flexion_deg((100, 100), (100, 200), (200, 200)) == pytest.approx(90.0)


def test_shank_angle_sign_follows_direction_of_travel() -> None:
    knee, ankle_right = (
        (200, 400),
        (200 + 40, 400 + 40 * math.sqrt(3)),
    )  # 30 deg, ankle to the right
    # Runner facing image-right: ankle to the right of the knee is ahead -> positive.
    assert shank_angle_deg(knee, ankle_right, +1) == pytest.approx(30.0)
    # Same picture, runner facing image-left: the ankle is behind -> negative.
    assert shank_angle_deg(knee, ankle_right, -1) == pytest.approx(-30.0)
    # Vertical tibia is 0 either way.
    assert shank_angle_deg((50, 10), (50, 90), -1) == pytest.approx(0.0)
    # 45 degrees, facing left, ankle to the left (ahead).
    assert shank_angle_deg((100, 100), (60, 140), -1) == pytest.approx(45.0)


def test_shank_angle_uses_image_y_down() -> None:
    # An ankle drawn *above* the knee (y smaller) is upside down: more than 90 degrees.
    assert shank_angle_deg((0, 100), (10, 0), +1) == pytest.approx(
        math.degrees(math.atan2(10, -100))
    )


def test_shank_angle_rejects_bad_input() -> None:
    with pytest.raises(GeometryError, match="direction"):
        shank_angle_deg((0, 0), (0, 10), 0)
    with pytest.raises(GeometryError, match="same place"):
        shank_angle_deg((5, 5), (5, 5), 1)


def test_segment_angle_to_vertical() -> None:
    assert segment_angle_to_vertical_deg((0, 0), (0, 10)) == pytest.approx(0.0)
    assert segment_angle_to_vertical_deg((0, 0), (10, 0)) == pytest.approx(90.0)
    assert segment_angle_to_vertical_deg((0, 0), (10, 10)) == pytest.approx(45.0)
    assert segment_angle_to_vertical_deg((10, 10), (0, 0)) == pytest.approx(45.0)
    assert segment_angle_to_vertical_deg((0, 0), (-1, math.sqrt(3))) == pytest.approx(30.0)


def test_coincident_points_give_a_plain_error() -> None:
    with pytest.raises(GeometryError, match="same place"):
        angle_deg((1, 1), (1, 1), (2, 2))
    with pytest.raises(GeometryError, match="same place"):
        segment_angle_to_vertical_deg((3, 3), (3, 3))


def test_non_finite_point_is_rejected() -> None:
    with pytest.raises(GeometryError, match="not on the frame"):
        distance_px((float("nan"), 0), (1, 1))
    with pytest.raises(GeometryError, match="pair of numbers"):
        distance_px((1,), (1, 1))


def test_calibrate_and_measure() -> None:
    scale = calibrate((100, 500), (100, 300), 100.0)  # 1 m stick = 200 px
    assert scale == pytest.approx(0.5)
    assert distance_cm((0, 0), (60, 80), scale) == pytest.approx(50.0)


@pytest.mark.parametrize(
    ("p", "q", "cm", "message"),
    [
        ((0, 0), (0, 0), 100.0, "same place"),
        ((0, 0), (0, 5), 100.0, "only 5.0 pixels"),
        ((0, 0), (0, 200), 0.0, "more than 0"),
        ((0, 0), (0, 200), -10.0, "more than 0"),
        ((0, 0), (0, 200), float("nan"), "more than 0"),
        ((0, 0), (0, 200), 0.5, "not plausible"),
        ((0, 0), (0, 200), 2000.0, "metres or millimetres"),
        ((0, 0), (0, 200), "abc", "number of centimetres"),
    ],
)
def test_calibrate_rejects_bad_input(p, q, cm, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(GeometryError, match=message):
        calibrate(p, q, cm)


@pytest.mark.parametrize("scale", [0.0, -1.0, float("inf"), None])
def test_distance_cm_needs_a_valid_scale(scale) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(GeometryError):
        distance_cm((0, 0), (1, 1), scale)


def test_geometry_error_is_a_value_error() -> None:
    assert issubclass(GeometryError, ValueError)


def test_make_measurement_values_and_labels() -> None:
    from app.annotation.geometry import make_measurement, measurement_label

    knee = make_measurement("angle", [(100, 100), (100, 200), (200, 200)])
    assert knee["value"] == pytest.approx(90.0) and knee["label"] == "knee 90.0°"
    shank = make_measurement("shank", [(100, 100), (60, 140)], direction=-1)
    assert shank["value"] == pytest.approx(45.0) and shank["label"] == "shank +45.0°"
    dist = make_measurement("distance", [(0, 0), (30, 40)])
    assert dist["value"] is None and dist["label"] == "50 px"
    dist = make_measurement("distance", [(0, 0), (30, 40)], cm_per_px=0.2)
    assert dist["value"] == pytest.approx(10.0) and dist["label"] == "10.0 cm"
    same = make_measurement("angle", [(1, 1), (1, 1), (5, 5)])
    assert same["value"] is None and same["label"] == "knee —"
    assert measurement_label({"kind": "vline", "points": [[1, 2]], "label": "hip"}) == "hip"
    with pytest.raises(GeometryError, match="needs 3 points"):
        make_measurement("angle", [(0, 0), (1, 1)])
    with pytest.raises(GeometryError, match="Unknown"):
        make_measurement("circle", [(0, 0)])
    assert GeometryError("plain words").message == "plain words"


def test_point_segment_distance() -> None:
    from app.annotation.geometry import point_segment_distance

    assert point_segment_distance((5, 3), (0, 0), (10, 0)) == pytest.approx(3.0)
    assert point_segment_distance((13, 4), (0, 0), (10, 0)) == pytest.approx(5.0)  # past the end
    assert point_segment_distance((3, 4), (0, 0), (0, 0)) == pytest.approx(5.0)  # a point
