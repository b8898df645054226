"""Small synthetic gait data shared by tests (no Qt): evenly alternating contacts and toe-offs,
and a keypoint track whose feet swing sinusoidally under a still hip and knee."""

from __future__ import annotations

import numpy as np

from app.analysis.events import EventType, Foot, FootEvent
from app.analysis.keypoints import KeypointTrack

IC, TO = EventType.INITIAL_CONTACT, EventType.TOE_OFF
STEP_S = 0.3562  # 168.4 steps/min
CONTACT_S = 0.22


def alternating_events(
    fps: float, n_steps: int = 16, step: float = STEP_S, contact: float = CONTACT_S
) -> list[FootEvent]:
    """Perfectly symmetric marks, each on the nearest frame (as a clinician marks them):
    left, right, left, …, a contact every ``step`` s and its toe-off ``contact`` s later."""
    out = []
    for k in range(n_steps):
        foot = Foot.LEFT if k % 2 == 0 else Foot.RIGHT
        for kind, t in ((IC, k * step), (TO, k * step + contact)):
            f = int(round(t * fps))
            out.append(FootEvent(foot, kind, f, f / fps))
    return out


def swinging_track(fps: float, n: int) -> KeypointTrack:
    """Hips at the origin, knees 450 px below, ankles 900; heels swing ±300 px a stride."""
    t = np.arange(n) / fps
    xy = np.zeros((n, 2, 5, 2))
    xy[:, :, 1] = (0.0, 450.0)
    xy[:, :, 2] = (0.0, 900.0)
    for s, ph in ((0, 0.0), (1, np.pi)):
        swing = 300.0 * np.sin(2 * np.pi * t / (2 * STEP_S) + ph)
        xy[:, s, 3] = np.stack([swing, np.full(n, 950.0)], axis=1)
        xy[:, s, 4] = xy[:, s, 3] + (150.0, 0.0)
    return KeypointTrack(t, xy)
