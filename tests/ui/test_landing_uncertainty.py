"""Frame-rate uncertainty shown next to the landing measures and the timing means."""

from __future__ import annotations

from app.analysis.events import EventType, Foot, FootEvent
from app.analysis.metrics import landing_metrics, temporal_metrics
from tests.synthetic_gait import alternating_events, swinging_track
from ui.annotation_sidebar import AnnotationSidebar

IC, TO = EventType.INITIAL_CONTACT, EventType.TOE_OFF


def test_sidebar_and_landing_tab_show_frame_rate_uncertainty(qtbot) -> None:
    bar = AnnotationSidebar()
    qtbot.addWidget(bar)
    events = alternating_events(30.0)
    tm = temporal_metrics(events)
    bar.show_metrics(tm)
    step = bar.table.item(1, 1).text()  # "Step time", left
    mean_sd, frame_limit = step.split("\n")  # the frame-rate limit on its own line
    assert " ± " in mean_sd and mean_sd.endswith(" ms") and frame_limit.startswith("[±")
    assert "(n=" not in step  # the count is in the tooltip, so the narrow cell is not cut off
    tip = bar.table.item(1, 1).toolTip()
    assert (
        f"n = {tm.step_time_s['left'].n} steps" in tip
        and "frame rate alone (30 frames/s" in tip
        and " ms]" in tip
    )
    # rows grow to show both lines
    assert bar.table.rowHeight(1) >= 2 * bar.table.fontMetrics().lineSpacing()
    assert "30 frames/s" in bar.rate_note.text()
    # Perfectly symmetric marks: the left/right difference is within the frame rate's reach.
    assert bar.table.item(1, 0).text().endswith("≈")
    assert "step time" in bar.rate_note.text()
    assert "30 frames/s" in bar.cadence.toolTip()

    m = landing_metrics(events, swinging_track(30.0, 200), "right")
    bar.landing.show_landing(m, events, swinging_track(30.0, 200), "right")
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
