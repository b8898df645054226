"""Annotation support for the frame-by-frame video review: pure measurement maths (no Qt)."""

from __future__ import annotations

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

__all__ = [
    "GeometryError",
    "angle_deg",
    "calibrate",
    "distance_cm",
    "distance_px",
    "knee_flexion_deg",
    "segment_angle_to_vertical_deg",
    "shank_angle_deg",
]
