"""The terminal summary of ``stride-clinic analyze`` says what the marking panel says: each
mean's frame-rate limit, and which left/right differences the frame rate cannot resolve."""

from __future__ import annotations

import numpy as np

from app.analysis.analyze import summary
from app.analysis.events import EventType, Foot, FootEvent
from app.analysis.keypoints import KeypointTrack
from app.analysis.metrics import landing_metrics, metrics_json, temporal_metrics

IC, TO = EventType.INITIAL_CONTACT, EventType.TOE_OFF


def _events(fps: float = 30.0, steps: int = 16) -> list[FootEvent]:
    out = []
    for k in range(steps):  # perfectly symmetric: no left/right difference the frames can show
        foot = Foot.LEFT if k % 2 == 0 else Foot.RIGHT
        for kind, t in ((IC, k * 0.3562), (TO, k * 0.3562 + 0.22)):
            f = int(round(t * fps))
            out.append(FootEvent(foot, kind, f, f / fps))
    return out


def _track(fps: float, n: int) -> KeypointTrack:
    t = np.arange(n) / fps
    xy = np.zeros((n, 2, 5, 2))
    xy[:, :, 1] = (0.0, 450.0)
    xy[:, :, 2] = (0.0, 900.0)
    for s, ph in ((0, 0.0), (1, np.pi)):
        swing = 300.0 * np.sin(2 * np.pi * t / 0.7124 + ph)
        xy[:, s, 3] = np.stack([swing, np.full(n, 950.0)], axis=1)
        xy[:, s, 4] = xy[:, s, 3] + (150.0, 0.0)
    return KeypointTrack(t, xy)


def _out(metrics: dict[str, object], events: list[FootEvent]) -> dict[str, object]:
    return {
        "source": "clip.mp4",
        "frames": 200,
        "capture_fps": 30.0,
        "direction": "left",
        "metrics": metrics,
        "events": [{"type": e.type.value} for e in events],
        "warnings": [],
    }


def test_summary_gives_each_mean_its_frame_rate_limit_and_flags_unresolved_sides() -> None:
    events = _events()
    temporal = temporal_metrics(events, 30.0)
    assert "step time" in temporal.unresolved
    text = summary(_out(metrics_json(temporal, None), events))
    step = next(line for line in text.splitlines() if "Step time" in line)
    assert step.count("[±") == 2 and "Step time ≈" in step
    assert text.splitlines()[1].startswith("Cadence: ") and "[±" in text.splitlines()[1]
    note = next(line for line in text.splitlines() if "frame rate alone (30 frames/s)" in line)
    assert "≈ " in note and "step time" in note and "no evidence of an asymmetry" in note


def test_landing_does_not_hide_the_timing_measures_the_frame_rate_cannot_resolve() -> None:
    temporal = temporal_metrics(_events(), 30.0)
    landing = landing_metrics(_events(), _track(30.0, 200), "right")
    landing.unresolved = ["overstride"]
    joined = metrics_json(temporal, landing)["unresolved_left_right"]
    assert set(joined) == set(temporal.unresolved) | {"overstride"}  # was landing's list only
