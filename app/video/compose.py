"""Pictures made of two frames: side by side, one above the other, or superimposed (no Qt).

Used by the dual player (superimposed view) and the video export. Frames are RGB uint8
arrays (H x W x 3); nothing here keeps or changes its inputs.
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

Point = tuple[float, float]


def fit(rgb: np.ndarray, width: int, height: int) -> tuple[np.ndarray, float, int, int]:
    """``rgb`` scaled to fit ``width`` x ``height`` on black, keeping its shape.

    Returns the picture and the scale and the (x, y) offset of the frame inside it, so points
    of the frame can be placed on the picture (``x * scale + dx``).
    """
    h, w = rgb.shape[:2]
    scale = min(width / w, height / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    out = np.zeros((height, width, 3), dtype=np.uint8)
    dx, dy = (width - nw) // 2, (height - nh) // 2
    out[dy : dy + nh, dx : dx + nw] = small
    return out, scale, dx, dy


def side_by_side(a: np.ndarray, b: np.ndarray, width: int, height: int, *, stacked: bool = False) -> np.ndarray:
    """Two frames in one ``width`` x ``height`` picture: left/right, or top/bottom if ``stacked``."""
    if stacked:
        top, _s, _x, _y = fit(a, width, height // 2)
        bottom, _s, _x, _y = fit(b, width, height - height // 2)
        return np.vstack([top, bottom])
    left, _s, _x, _y = fit(a, width // 2, height)
    right, _s, _x, _y = fit(b, width - width // 2, height)
    return np.hstack([left, right])


def hip_centre(points: Mapping[str, Point] | None) -> Point | None:
    """Midpoint of the two hip keypoints (either one alone if the other is missing)."""
    if not points:
        return None
    hips = [points[k] for k in ("left_hip", "right_hip") if k in points]
    if not hips:
        return None
    return (sum(p[0] for p in hips) / len(hips), sum(p[1] for p in hips) / len(hips))


def superimpose(
    a: np.ndarray,
    b: np.ndarray,
    opacity: float,
    *,
    anchor_a: Point | None = None,
    anchor_b: Point | None = None,
) -> tuple[np.ndarray, str]:
    """B blended over A (``opacity`` 0 = only A, 1 = only B), in A's size.

    B is scaled to A's height (the runner's size in the picture stays comparable when the
    cameras differ) and moved so that ``anchor_b`` lands on ``anchor_a`` (the hips, when the
    pose is known for both), else so that the frame centres coincide. Returns the picture and
    what it was aligned at (``"hip"`` or ``"centre"``).
    """
    alpha = float(min(1.0, max(0.0, opacity)))
    ha, wa = a.shape[:2]
    hb, wb = b.shape[:2]
    scale = ha / hb
    if anchor_a is not None and anchor_b is not None:
        tx = anchor_a[0] - anchor_b[0] * scale
        ty = anchor_a[1] - anchor_b[1] * scale
        how = "hip"
    else:
        tx = wa / 2 - wb * scale / 2
        ty = ha / 2 - hb * scale / 2
        how = "centre"
    m = np.float32([[scale, 0, tx], [0, scale, ty]])
    moved = cv2.warpAffine(b, m, (wa, ha), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    out = cv2.addWeighted(a, 1.0 - alpha, moved, alpha, 0.0)
    return out, how
