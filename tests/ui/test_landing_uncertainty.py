"""Frame-rate uncertainty shown next to the landing measures and the timing means."""

from __future__ import annotations

import numpy as np

from app.analysis.events import EventType, Foot, FootEvent
from app.analysis.keypoints import KeypointTrack
from app.analysis.metrics import landing_metrics, temporal_metrics
from ui.annotation_sidebar import AnnotationSidebar

IC, TO = EventType.INITIAL_CONTACT, EventType.TOE_OFF


def _events(fps: float, n_steps: int = 16) -> list[FootEvent]:
    ev = []
    for k in range(n_steps):
        foot = Foot.LEFT if k % 2 == 0 else Foot.RIGHT
        for kind, t in ((IC, k * 0.3562), (TO, k * 0.3562 + 0.22)):
            f = int(round(t * fps))
            ev.append(FootEvent(foot, kind, f, f / fps))
    return ev


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


def test_sidebar_and_landing_tab_show_frame_rate_uncertainty(qtbot) -> None:
    bar = AnnotationSidebar()
    qtbot.addWidget(bar)
    events = _events(30.0)
    tm = temporal_metrics(events)
    bar.show_metrics(tm)
    step = bar.table.item(1, 1).text()  # "Step time", left
    mean_sd, frame_limit = step.split("\n")  # the frame-rate limit on its own line
    assert " ± " in mean_sd and mean_sd.endswith(" ms") and frame_limit.startswith("[±")
    assert "(n=" not in step  # the count is in the tooltip, so the narrow cell is not cut off
    tip = bar.table.item(1, 1).toolTip()
    assert f"n = {tm.step_time_s['left'].n} steps" in tip and "frame rate alone (30 frames/s" in tip and " ms]" in tip
    # rows grow to show both lines
    assert bar.table.rowHeight(1) >= 2 * bar.table.fontMetrics().lineSpacing()
    assert "30 frames/s" in bar.rate_note.text()
    # Perfectly symmetric marks: the left/right difference is within the frame rate's reach.
    assert bar.table.item(1, 0).text().endswith("≈")
    assert "step time" in bar.rate_note.text()
    assert "30 frames/s" in bar.cadence.toolTip()

    m = landing_metrics(events, _track(30.0, 200), "right")
    bar.landing.show_landing(m, events, _track(30.0, 200), "right")
    over = bar.landing.table.item(0, 1).text()
    assert "[±" in over
    assert "frame rate alone" in bar.landing.rate_note.text()
    assert "frame rate alone" in bar.landing.table.item(0, 1).toolTip()


def test_no_frame_rate_no_uncertainty_shown(qtbot) -> None:
    bar = AnnotationSidebar()
    qtbot.addWidget(bar)
    one = [FootEvent(Foot.LEFT, IC, 0, 0.0)]
    bar.show_metrics(temporal_metrics(one))
    assert bar.rate_note.text() == ""
    bar.show_metrics(None)
    assert bar.rate_note.text() == ""
