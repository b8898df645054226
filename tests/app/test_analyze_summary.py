"""The terminal summary of ``stride-clinic analyze`` says what the marking panel says: each
mean's frame-rate limit, and which left/right differences the frame rate cannot resolve."""

from __future__ import annotations

from app.analysis.analyze import summary
from app.analysis.events import FootEvent
from app.analysis.metrics import landing_metrics, metrics_json, temporal_metrics
from tests.synthetic_gait import alternating_events, swinging_track


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
    events = alternating_events(30.0)
    temporal = temporal_metrics(events, 30.0)
    assert "step time" in temporal.unresolved
    text = summary(_out(metrics_json(temporal, None), events))
    step = next(line for line in text.splitlines() if "Step time" in line)
    assert step.count("[±") == 2 and "Step time ≈" in step
    assert text.splitlines()[1].startswith("Cadence: ") and "[±" in text.splitlines()[1]
    note = next(line for line in text.splitlines() if "frame rate alone (30 frames/s)" in line)
    assert "≈ " in note and "step time" in note and "no evidence of an asymmetry" in note


def test_landing_does_not_hide_the_timing_measures_the_frame_rate_cannot_resolve() -> None:
    temporal = temporal_metrics(alternating_events(30.0), 30.0)
    landing = landing_metrics(alternating_events(30.0), swinging_track(30.0, 200), "right")
    landing.unresolved = ["overstride"]
    joined = metrics_json(temporal, landing)["unresolved_left_right"]
    assert set(joined) == set(temporal.unresolved) | {"overstride"}  # was landing's list only
