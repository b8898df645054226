"""Measurement maths for points clicked on a video frame (pure Python, no Qt).

All points are in *image* coordinates: x grows to the right, y grows **down** (pixel rows).
The clinical formulas in ``shared/docs/clinical.md`` are written with y up, so the functions
here flip y where the sign matters. ``direction`` is the runner's direction of travel in the
image: ``+1`` when the runner faces image-right, ``-1`` when facing image-left.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from app.errors import ClinicError

Point = Sequence[float]

# A calibration segment shorter than this many pixels gives a scale error above ~10 % from a
# one-pixel click error alone: ask for longer marks instead of silently measuring badly.
MIN_CALIBRATION_PX = 10.0
# The reference object lies in the runner's plane on a treadmill: anything outside this range
# is a typing error (e.g. metres or millimetres entered as centimetres).
MIN_CALIBRATION_CM = 1.0
MAX_CALIBRATION_CM = 500.0
# Clicks each measurement tool needs: angle = hip, knee, ankle; shank = knee, ankle.
POINTS_NEEDED = {"vline": 1, "distance": 2, "calibration": 2, "shank": 2, "angle": 3}
#: Rear-view (frontal-plane) measures, computed by :mod:`app.annotation.frontal`; the side of a
#: knee angle or a step width is part of the kind, because it decides the measure's sign.
FRONTAL_POINTS = {
    "pelvic_drop": 2,
    "fppa_left": 3,
    "fppa_right": 3,
    "step_width_left": 2,
    "step_width_right": 2,
}
POINTS_NEEDED.update(FRONTAL_POINTS)


class GeometryError(ClinicError, ValueError):
    """A measurement cannot be made; ``message`` (= ``str(error)``) tells the clinician why."""


def _xy(p: Point, name: str) -> tuple[float, float]:
    try:
        x, y = float(p[0]), float(p[1])
    except (TypeError, ValueError, IndexError) as exc:
        raise GeometryError(f"The {name} point is missing or not a pair of numbers.") from exc
    if not (math.isfinite(x) and math.isfinite(y)):
        raise GeometryError(f"The {name} point is not on the frame (no valid position).")
    return x, y


def distance_px(p: Point, q: Point) -> float:
    """Straight-line distance between two points, in pixels."""
    (px, py), (qx, qy) = _xy(p, "first"), _xy(q, "second")
    return math.hypot(qx - px, qy - py)


def point_segment_distance(p: Point, a: Point, b: Point) -> float:
    """Distance from ``p`` to the segment a-b (to the nearer end beyond the segment's ends)."""
    (px, py), (ax, ay), (bx, by) = _xy(p, "first"), _xy(a, "segment start"), _xy(b, "segment end")
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def angle_deg(a: Point, b: Point, c: Point) -> float:
    """The angle a-b-c at vertex ``b``, in degrees (0 to 180).

    Raises :class:`GeometryError` when ``a`` or ``c`` coincides with ``b`` (no direction).
    """
    (ax, ay), (bx, by), (cx, cy) = _xy(a, "first"), _xy(b, "middle"), _xy(c, "last")
    ux, uy, vx, vy = ax - bx, ay - by, cx - bx, cy - by
    if math.hypot(ux, uy) == 0.0 or math.hypot(vx, vy) == 0.0:
        raise GeometryError(
            "Two of the points are in the same place, so there is no angle: "
            "click the three points apart."
        )
    # atan2 of cross and dot is accurate near 0 and 180 degrees, unlike acos of the dot product.
    return math.degrees(math.atan2(abs(ux * vy - uy * vx), ux * vx + uy * vy))


def knee_flexion_deg(hip: Point, knee: Point, ankle: Point) -> float:
    """Knee flexion: 180 minus the hip-knee-ankle angle (0 = straight leg)."""
    return 180.0 - angle_deg(hip, knee, ankle)


def shank_angle_deg(knee: Point, ankle: Point, direction: int) -> float:
    """Shank (tibia) angle to the vertical, in degrees (-180 to 180).

    Positive when the ankle is ahead of the knee in the direction of travel (the overstriding
    side), 0 for a vertical shank. Clinical formula ``atan2(x_ankle - x_knee, y_knee - y_ankle)``
    with x forward and y up; here forward x is ``direction * x_image`` and up y is ``-y_image``.
    """
    if direction not in (1, -1):
        raise GeometryError("The running direction must be +1 (facing right) or -1 (facing left).")
    (kx, ky), (ax, ay) = _xy(knee, "knee"), _xy(ankle, "ankle")
    if kx == ax and ky == ay:
        raise GeometryError("The knee and ankle points are in the same place: click them apart.")
    return math.degrees(math.atan2(direction * (ax - kx), ay - ky))


def segment_angle_to_vertical_deg(p: Point, q: Point) -> float:
    """Unsigned angle between the line through ``p`` and ``q`` and the vertical (0 to 90 deg).

    0 for a vertical segment, 90 for a horizontal one, whichever end is clicked first.
    """
    (px, py), (qx, qy) = _xy(p, "first"), _xy(q, "second")
    dx, dy = abs(qx - px), abs(qy - py)
    if dx == 0.0 and dy == 0.0:
        raise GeometryError("The two points are in the same place: click them apart.")
    return math.degrees(math.atan2(dx, dy))


def calibrate(p: Point, q: Point, known_cm: float) -> float:
    """Scale in centimetres per pixel from a segment of known real length.

    ``p`` and ``q`` are the ends of an object of ``known_cm`` centimetres lying in the runner's
    plane (e.g. a marked stick on the treadmill side). Raises :class:`GeometryError` for a
    too-short segment or an implausible length.
    """
    try:
        cm = float(known_cm)
    except (TypeError, ValueError) as exc:
        raise GeometryError("The known length must be a number of centimetres.") from exc
    if not math.isfinite(cm) or cm <= 0.0:
        raise GeometryError("The known length must be more than 0 cm.")
    if cm < MIN_CALIBRATION_CM or cm > MAX_CALIBRATION_CM:
        raise GeometryError(
            f"A known length of {cm:g} cm is not plausible for a treadmill calibration "
            f"(use an object between {MIN_CALIBRATION_CM:g} and {MAX_CALIBRATION_CM:g} cm). "
            "Was it entered in metres or millimetres?"
        )
    length = distance_px(p, q)
    if length == 0.0:
        raise GeometryError("The two calibration points are in the same place: click both ends.")
    if length < MIN_CALIBRATION_PX:
        raise GeometryError(
            f"The calibration marks are only {length:.1f} pixels apart: zoom in and click the "
            "two ends of a longer object so the scale is accurate."
        )
    return check_cm_per_px(cm / length)


def check_cm_per_px(value: object) -> float:
    """The calibration scale in cm per pixel as a positive finite float, or :class:`GeometryError`.

    The one check for every place a scale enters the program (the marking panel, the stored
    recording, ``analyze --cm-per-px``): a zero, negative, NaN or infinite scale would turn every
    distance into 0, a negative overstride or "inf cm" without any other sign of trouble.
    """
    if isinstance(value, bool):
        raise GeometryError("The calibration scale must be a number of centimetres per pixel.")
    try:
        scale = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError) as exc:
        raise GeometryError(
            "The calibration scale must be a number of centimetres per pixel."
        ) from exc
    if not math.isfinite(scale) or scale <= 0.0:
        raise GeometryError(
            f"A calibration scale of {scale:g} cm per pixel is not possible: it must be a "
            "positive number (calibrate again with a known length)."
        )
    return scale


def distance_cm(p: Point, q: Point, cm_per_px: float) -> float:
    """Distance between two points in centimetres, using a scale from :func:`calibrate`."""
    try:
        scale = check_cm_per_px(cm_per_px)
    except GeometryError as exc:
        raise GeometryError(
            "There is no valid calibration: calibrate with a known length first."
        ) from exc
    return distance_px(p, q) * scale


def make_measurement(
    kind: str, points: Sequence[Point], direction: int = 1, cm_per_px: float | None = None
) -> dict:
    """The overlay dict for a finished measurement: ``{"kind", "points", "value", "label"}``.

    ``value``: knee flexion in degrees for ``"angle"`` (points hip, knee, ankle), the signed
    shank angle for ``"shank"`` (knee, ankle), centimetres for ``"distance"`` when
    ``cm_per_px`` is given; otherwise None (also when the points coincide).
    """
    if kind not in POINTS_NEEDED:
        raise GeometryError(f"Unknown measurement {kind!r}.")
    if len(points) != POINTS_NEEDED[kind]:
        raise GeometryError(f"A {kind} measurement needs {POINTS_NEEDED[kind]} points.")
    pts = [list(_xy(p, "clicked")) for p in points]
    value: float | None = None
    try:
        if kind == "angle":
            value = knee_flexion_deg(*pts)
        elif kind == "shank":
            value = shank_angle_deg(pts[0], pts[1], direction)
        elif kind == "distance" and cm_per_px:
            value = distance_cm(pts[0], pts[1], cm_per_px)
        elif kind in FRONTAL_POINTS:
            from app.annotation.frontal import frontal_value

            value = frontal_value(kind, pts, cm_per_px)
    except GeometryError:
        value = None
    item: dict = {"kind": kind, "points": pts, "value": value}
    if kind.startswith("step_width") and value is not None:
        item["unit"] = "cm" if cm_per_px else "px"
    item["label"] = measurement_label(item)
    return item


def moved_measurement(
    item: dict, points: Sequence[Point], direction: int = 1, cm_per_px: float | None = None
) -> dict:
    """``item`` with its points moved: the value is measured again from the new points, and an
    automatic label follows it (a label the clinician gave, e.g. "hip", is kept)."""
    kind = item["kind"]
    automatic = not item.get("label") or item.get("label") == measurement_label(
        {**item, "label": ""}
    )
    moved = make_measurement(kind, points, direction, cm_per_px)
    if kind == "distance" and not cm_per_px and item.get("value") is not None:
        # measured in cm before: keep the scale it was drawn with
        old = distance_px(item["points"][0], item["points"][1])
        if old > 0:
            moved["value"] = float(item["value"]) * distance_px(points[0], points[1]) / old
            moved["label"] = measurement_label({**moved, "label": ""})
    if not automatic:
        moved["label"] = str(item["label"])
    return {**item, "points": moved["points"], "value": moved["value"], "label": moved["label"]}


def measurement_label(item: dict) -> str:
    """Text shown with a measurement: its own ``label`` if set, else the formatted value."""
    if item.get("label"):
        return str(item["label"])
    kind, value, pts = item["kind"], item.get("value"), item["points"]
    if kind == "angle":
        return "knee —" if value is None else f"knee {value:.1f}°"
    if kind == "shank":
        return "shank —" if value is None else f"shank {value:+.1f}°"
    if kind == "distance" and value is not None:
        return f"{value:.1f} cm"
    if kind in FRONTAL_POINTS:
        from app.annotation.frontal import frontal_label

        return frontal_label(item)
    if kind in ("distance", "calibration"):
        return f"{math.dist(pts[0], pts[1]):.0f} px"
    return ""
