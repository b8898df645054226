"""Pictures of two frames (app.video.compose): fit, side by side, superimposed at the hips."""

from __future__ import annotations

import numpy as np

from app.video.compose import fit, hip_centre, side_by_side, superimpose


def test_fit_keeps_the_shape_and_says_where() -> None:
    img = np.full((100, 200, 3), 200, np.uint8)
    out, scale, dx, dy = fit(img, 100, 100)
    assert out.shape == (100, 100, 3) and scale == 0.5 and (dx, dy) == (0, 25)
    assert out[:25].max() == 0 and out[30:70].min() == 200


def test_side_by_side_and_stacked() -> None:
    a = np.full((60, 80, 3), 10, np.uint8)
    b = np.full((60, 80, 3), 250, np.uint8)
    both = side_by_side(a, b, 160, 60)
    assert both.shape == (60, 160, 3) and both[:, :80].max() == 10 and both[:, 80:].min() == 250
    stacked = side_by_side(a, b, 80, 120, stacked=True)
    assert stacked[:60].max() == 10 and stacked[60:].min() == 250


def test_superimpose_aligns_the_hips_and_blends() -> None:
    a = np.zeros((100, 100, 3), np.uint8)
    b = np.zeros((200, 200, 3), np.uint8)  # twice the size: scaled to A's height
    b[118:122, 58:62] = 255  # B's hip at (60, 120) -> (30, 60) once scaled
    hips_b = hip_centre({"left_hip": (58.0, 120.0), "right_hip": (62.0, 120.0)})
    assert hips_b == (60.0, 120.0)
    out, how = superimpose(a, b, 1.0, anchor_a=(70.0, 40.0), anchor_b=hips_b)
    assert how == "hip"
    y, x = np.unravel_index(np.argmax(out[..., 0]), out.shape[:2])
    assert abs(x - 70) <= 1 and abs(y - 40) <= 1  # B's hip landed on A's hip
    half, _ = superimpose(np.full((100, 100, 3), 200, np.uint8), b, 0.5)
    assert 95 <= int(half[5, 5, 0]) <= 105  # half of A over black
    centre, how = superimpose(a, b, 1.0, anchor_a=None, anchor_b=hips_b)
    assert how == "centre"
    y, x = np.unravel_index(np.argmax(centre[..., 0]), centre.shape[:2])
    assert abs(x - 30) <= 1 and abs(y - 60) <= 1
    assert hip_centre(None) is None and hip_centre({"left_knee": (1.0, 1.0)}) is None
