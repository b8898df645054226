"""Marking of a recording without Qt: measurement maths (geometry), the marking session
(session), its crash-safe journal and background autosave (journal, autosave) and opening (loading)."""

from __future__ import annotations

from app.annotation.geometry import (
    POINTS_NEEDED,
    GeometryError,
    angle_deg,
    calibrate,
    distance_cm,
    distance_px,
    knee_flexion_deg,
    make_measurement,
    measurement_label,
    point_segment_distance,
    segment_angle_to_vertical_deg,
    shank_angle_deg,
)

__all__ = [
    "POINTS_NEEDED",
    "GeometryError",
    "angle_deg",
    "calibrate",
    "distance_cm",
    "distance_px",
    "knee_flexion_deg",
    "make_measurement",
    "point_segment_distance",
    "measurement_label",
    "segment_angle_to_vertical_deg",
    "shank_angle_deg",
]
