"""Frontal-plane measures for points clicked on a *rear-view* frame (pure Python, no Qt).

Camera behind the runner: the runner's left is image-left. Points are image pixels (x right,
y down), as everywhere in :mod:`app.annotation.geometry`.

* **Pelvic drop** – angle of the line between the two hip points against the horizontal;
  reported with the side that is lower (contralateral drop in single-leg stance).
* **Knee frontal-plane projection angle (FPPA)** – 180° minus the hip-knee-ankle angle,
  signed: positive = valgus (knee medial of the hip-ankle line), negative = varus.
* **Step width / crossover** – horizontal distance of the landing foot from the midline (a
  vertical line through the body's centre, e.g. between the hips); negative when the foot
  lands across the midline (crossover). In cm when the frame is calibrated.

Measurement noise: ``shared/docs/clinical.md`` gives no reliability figure for these
frontal-plane measures, so none is shown (nothing invented); the values are shown as measured
on one frame.

Marking tools: on a rear-view recording the tool bar offers these instead of the side-view
shank and knee angles (:data:`app.annotation.geometry.FRONTAL_POINTS`; the leg or foot is part
of the tool, e.g. ``fppa_left``, because it decides the sign). :func:`frontal_value` and
:func:`frontal_label` turn the clicked points into the stored value and the text drawn with it.
"""

from __future__ import annotations

import math

from app.annotation.geometry import GeometryError, Point, _xy, angle_deg

NO_NOISE_NOTE = "no measurement noise known for this measure (clinical.md gives none)"


def pelvic_drop_deg(left_hip: Point, right_hip: Point) -> tuple[float, str]:
    """(angle in degrees against horizontal, the side that is lower: "left"/"right"/"level")."""
    (lx, ly), (rx, ry) = _xy(left_hip, "left hip"), _xy(right_hip, "right hip")
    dx, dy = rx - lx, ry - ly
    if math.hypot(dx, dy) == 0:
        raise GeometryError("The two hip points are in the same place: click both hips.")
    if dx <= 0:
        raise GeometryError(
            "The left hip must be left of the right hip in a rear view (camera behind the "
            "runner). Click the left hip first."
        )
    angle = math.degrees(math.atan2(abs(dy), dx))
    side = "level" if dy == 0 else ("right" if dy > 0 else "left")  # y down: larger y is lower
    return angle, side


def fppa_deg(hip: Point, knee: Point, ankle: Point, leg: str) -> float:
    """Knee frontal-plane projection angle of the ``leg`` ("left"/"right"), valgus positive."""
    if leg not in ("left", "right"):
        raise GeometryError("Say which leg: left or right.")
    (hx, hy), (kx, ky), (ax, ay) = _xy(hip, "hip"), _xy(knee, "knee"), _xy(ankle, "ankle")
    bend = 180.0 - angle_deg((hx, hy), (kx, ky), (ax, ay))
    # Where the knee lies against the hip-ankle line: + to image-right of it.
    cross = (ax - hx) * (ky - hy) - (ay - hy) * (kx - hx)
    right_of_line = cross < 0 if ay > hy else cross > 0
    # Rear view: the left leg's medial side is image-right, the right leg's is image-left.
    medial = right_of_line if leg == "left" else not right_of_line
    return bend if medial else -bend


def step_width(midline: Point, foot: Point, foot_side: str, cm_per_px: float | None = None) -> float:
    """Distance of the landing foot from the midline, negative for a crossover.

    ``foot_side`` is the landing foot ("left"/"right"); in a rear view the left foot belongs
    left of the midline. Pixels, or cm with ``cm_per_px``.
    """
    if foot_side not in ("left", "right"):
        raise GeometryError("Say which foot landed: left or right.")
    (mx, _my), (fx, _fy) = _xy(midline, "midline"), _xy(foot, "foot")
    outward = (mx - fx) if foot_side == "left" else (fx - mx)
    if cm_per_px is not None:
        if not (math.isfinite(cm_per_px) and cm_per_px > 0):
            raise GeometryError("The calibration is not a positive scale.")
        return outward * cm_per_px
    return outward


def frontal_value(kind: str, pts: list, cm_per_px: float | None = None) -> float:
    """The value stored with a frontal drawing of ``kind`` (degrees, or px / cm for a width).

    Pelvic drop is signed by the lower side: positive when the right hip is lower.
    """
    if kind == "pelvic_drop":
        angle, side = pelvic_drop_deg(pts[0], pts[1])
        return -angle if side == "left" else angle
    if kind in ("fppa_left", "fppa_right"):
        return fppa_deg(pts[0], pts[1], pts[2], kind.rsplit("_", 1)[1])
    if kind in ("step_width_left", "step_width_right"):
        return step_width(pts[0], pts[1], kind.rsplit("_", 1)[1], cm_per_px)
    raise GeometryError(f"Unknown rear-view measure {kind!r}.")


def frontal_label(item: dict) -> str:
    """Text drawn with a frontal measurement (one frame's reading, no noise figure known)."""
    kind, value = item["kind"], item.get("value")
    if kind == "pelvic_drop":
        if value is None:
            return "pelvic drop —"
        lower = "level" if value == 0 else ("R low" if value > 0 else "L low")
        return f"pelvic drop {abs(value):.1f}° {lower}"
    if kind.startswith("fppa_"):
        leg = "L" if kind.endswith("left") else "R"
        if value is None:
            return f"FPPA {leg} —"
        return f"FPPA {leg} {value:+.1f}° {'valgus' if value > 0 else 'varus' if value < 0 else ''}".rstrip()
    if kind.startswith("step_width_"):
        foot = "L" if kind.endswith("left") else "R"
        if value is None:
            return f"step width {foot} —"
        unit = item.get("unit", "px")
        what = "crossover" if value < 0 else "step width"
        amount = f"{abs(value):.1f} cm" if unit == "cm" else f"{abs(value):.0f} px"
        return f"{what} {foot} {amount}"
    return ""
