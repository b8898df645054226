"""EventTimeline: frame mapping, marker selection and dragging, zoom around the cursor."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QHelpEvent, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QToolTip

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from ui.event_timeline import GUTTER, LANE_H, PAD, RULER_H, EventTimeline

WIDTH = 834  # plot area = 834 - 8 - 34 = 792 px
N = 100  # frames 0..99 -> 8 px per frame when not zoomed
LEFT = GUTTER + PAD
PLOT_W = WIDTH - PAD - LEFT
LEFT_LANE_Y = RULER_H + LANE_H / 2
RIGHT_LANE_Y = RULER_H + 1.5 * LANE_H


def _x(frame: float, v0: float = 0.0, v1: float = N - 1) -> float:
    return LEFT + (frame - v0) / (v1 - v0) * PLOT_W


def _ev(
    foot: Foot, kind: EventType, frame: int, auto: bool = False, conf: float = 1.0
) -> FootEvent:
    source = EventSource.AUTOMATIC if auto else EventSource.MANUAL
    return FootEvent(foot, kind, frame, frame / 30.0, source, conf)


EVENTS = [
    _ev(Foot.LEFT, EventType.INITIAL_CONTACT, 20),
    _ev(Foot.LEFT, EventType.TOE_OFF, 27, auto=True, conf=0.9),
    _ev(Foot.RIGHT, EventType.INITIAL_CONTACT, 40, auto=True, conf=0.3),
    _ev(Foot.RIGHT, EventType.TOE_OFF, 47),
]


@pytest.fixture
def timeline(qtbot):  # type: ignore[no-untyped-def]
    t = EventTimeline()
    qtbot.addWidget(t)
    t.resize(WIDTH, 64)
    t.show()
    qtbot.waitExposed(t)
    t.set_frame_count(N)
    t.set_events(EVENTS)
    return t


def _mouse(w: EventTimeline, kind: QEvent.Type, x: float, y: float, held: bool = True) -> None:
    pos = QPointF(x, y)
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    buttons = (
        Qt.MouseButton.LeftButton
        if held and kind != QEvent.Type.MouseButtonRelease
        else Qt.MouseButton.NoButton
    )
    event = QMouseEvent(
        kind, pos, w.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(w, event)


def _wheel(w: EventTimeline, x: float, notches: float) -> None:
    pos = QPointF(x, 30)
    event = QWheelEvent(
        pos,
        w.mapToGlobal(pos),
        QPoint(),
        QPoint(0, round(120 * notches)),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(w, event)


def _frame_under(t: EventTimeline, x: float) -> float:
    v0, v1 = t.visible_range()
    return v0 + (x - LEFT) / PLOT_W * (v1 - v0)


def test_click_on_empty_area_requests_that_frame(timeline: EventTimeline, qtbot) -> None:  # type: ignore[no-untyped-def]
    for frame in (0, 13, 99):
        with qtbot.waitSignal(timeline.frame_requested, timeout=1000) as sig:
            qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=QPoint(round(_x(frame)), 60))
        assert sig.args == [frame]
    # Clicks beyond the ends clamp to the clip.
    with qtbot.waitSignal(timeline.frame_requested, timeout=1000) as sig:
        qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=QPoint(WIDTH - 1, 60))
    assert sig.args == [N - 1]


def test_drag_on_empty_area_scrubs(timeline: EventTimeline) -> None:
    got: list[int] = []
    timeline.frame_requested.connect(got.append)
    _mouse(timeline, QEvent.Type.MouseButtonPress, _x(60), LEFT_LANE_Y)
    for f in (61, 62, 62, 65):
        _mouse(timeline, QEvent.Type.MouseMove, _x(f), LEFT_LANE_Y)
    _mouse(timeline, QEvent.Type.MouseButtonRelease, _x(65), LEFT_LANE_Y)
    assert got == [60, 61, 62, 65]  # one request per new frame


def test_clicking_a_marker_selects_it(timeline: EventTimeline, qtbot) -> None:  # type: ignore[no-untyped-def]
    target = EVENTS[2]  # right foot, frame 40
    frames: list[int] = []
    timeline.frame_requested.connect(frames.append)
    with qtbot.waitSignal(timeline.event_selected, timeout=1000) as sig:
        # 3 px off the marker centre still hits it.
        qtbot.mouseClick(
            timeline, Qt.MouseButton.LeftButton, pos=QPoint(round(_x(40)) + 3, round(RIGHT_LANE_Y))
        )
    assert sig.args == [target]
    assert frames == [40]
    # Same x in the other lane is empty: a plain frame request, no selection.
    with qtbot.assertNotEmitted(timeline.event_selected):
        qtbot.mouseClick(
            timeline, Qt.MouseButton.LeftButton, pos=QPoint(round(_x(40)), round(LEFT_LANE_Y))
        )


def test_dragging_a_marker_moves_the_event(timeline: EventTimeline, qtbot) -> None:  # type: ignore[no-untyped-def]
    target = EVENTS[0]  # left IC at 20
    previews: list[int] = []
    timeline.frame_requested.connect(previews.append)
    with qtbot.waitSignal(timeline.event_moved, timeout=1000) as sig:
        _mouse(timeline, QEvent.Type.MouseButtonPress, _x(20) + 2, LEFT_LANE_Y)
        _mouse(timeline, QEvent.Type.MouseMove, _x(22) + 2, LEFT_LANE_Y)
        _mouse(timeline, QEvent.Type.MouseMove, _x(25) + 2, LEFT_LANE_Y)
        _mouse(timeline, QEvent.Type.MouseButtonRelease, _x(25) + 2, LEFT_LANE_Y)
    assert sig.args == [target, 25]
    assert previews == [20, 22, 25]  # the video follows the marker while dragging


def test_drag_is_clamped_and_a_drop_in_place_is_not_a_move(timeline: EventTimeline, qtbot) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(timeline.event_moved, timeout=1000) as sig:
        _mouse(timeline, QEvent.Type.MouseButtonPress, _x(47), RIGHT_LANE_Y)
        _mouse(timeline, QEvent.Type.MouseMove, _x(47) + 2000, RIGHT_LANE_Y)
        _mouse(timeline, QEvent.Type.MouseButtonRelease, _x(47) + 2000, RIGHT_LANE_Y)
    assert sig.args == [EVENTS[3], N - 1]
    with qtbot.assertNotEmitted(timeline.event_moved):
        _mouse(timeline, QEvent.Type.MouseButtonPress, _x(20), LEFT_LANE_Y)
        _mouse(timeline, QEvent.Type.MouseMove, _x(20) + 30, LEFT_LANE_Y)
        _mouse(timeline, QEvent.Type.MouseMove, _x(20) + 1, LEFT_LANE_Y)
        _mouse(timeline, QEvent.Type.MouseButtonRelease, _x(20) + 1, LEFT_LANE_Y)


def test_wheel_zoom_keeps_the_frame_under_the_cursor(timeline: EventTimeline) -> None:
    x = _x(30) + 3
    under = _frame_under(timeline, x)
    _wheel(timeline, x, 3)
    v0, v1 = timeline.visible_range()
    assert v1 - v0 == pytest.approx((N - 1) / 1.25**3)
    assert _frame_under(timeline, x) == pytest.approx(under)
    assert timeline.x_for_frame(30) == pytest.approx(_x(30, v0, v1))
    # Zooming out again past the whole clip stops at the whole clip.
    _wheel(timeline, x, -10)
    assert timeline.visible_range() == pytest.approx((0, N - 1))


def test_zoomed_view_follows_the_current_frame_and_double_click_resets(
    timeline: EventTimeline, qtbot
) -> None:  # type: ignore[no-untyped-def]
    _wheel(timeline, _x(10), 8)  # ~17 frames visible around frame 10
    v0, v1 = timeline.visible_range()
    assert v1 < 40
    timeline.set_current(80)
    v0, v1 = timeline.visible_range()
    assert v0 <= 80 <= v1
    qtbot.mouseDClick(timeline, Qt.MouseButton.LeftButton, pos=QPoint(200, 60))
    assert timeline.visible_range() == pytest.approx((0, N - 1))


def test_many_events_on_a_long_clip_separate_when_zoomed(qtbot) -> None:  # type: ignore[no-untyped-def]
    t = EventTimeline()
    qtbot.addWidget(t)
    t.resize(WIDTH, 64)
    t.set_frame_count(7000)
    events = [_ev(Foot.LEFT, EventType.INITIAL_CONTACT, 3000 + 2 * i) for i in range(40)]
    t.set_events(events)
    assert t.x_for_frame(3002) - t.x_for_frame(3000) < 1  # whole clip: on top of each other
    for _ in range(20):
        _wheel(t, t.x_for_frame(3040), 2)
    assert t.x_for_frame(3002) - t.x_for_frame(3000) > 14  # now clickable one by one
    hit = t.event_at(QPointF(t.x_for_frame(3038) + 4, LEFT_LANE_Y))
    assert hit == events[19]


def test_tooltip_describes_the_marker(timeline: EventTimeline, qtbot) -> None:  # type: ignore[no-untyped-def]
    pos = QPoint(round(_x(40)), round(RIGHT_LANE_Y))
    QApplication.sendEvent(
        timeline, QHelpEvent(QEvent.Type.ToolTip, pos, timeline.mapToGlobal(pos))
    )
    text = QToolTip.text()
    assert "Right foot" in text and "initial contact" in text and "Frame 40" in text
    assert "confidence 0.30" in text and "low" in text
    pos = QPoint(5, 30)
    QApplication.sendEvent(
        timeline, QHelpEvent(QEvent.Type.ToolTip, pos, timeline.mapToGlobal(pos))
    )
    assert "toe-off" in QToolTip.text() and "hollow" in QToolTip.text()


def test_painting_shows_lanes_halo_and_current_line(timeline: EventTimeline) -> None:
    timeline.set_current(70)
    timeline.set_cache_progress(0.5)
    image = timeline.grab().toImage()
    dpr = image.devicePixelRatio()

    def colour(x: float, y: float) -> QColor:
        return QColor(image.pixel(round(x * dpr), round(y * dpr)))

    left_ic = colour(_x(20), LEFT_LANE_Y - 2)  # filled manual triangle: blue
    assert left_ic.blue() > left_ic.red() + 60
    right_to = colour(_x(47), RIGHT_LANE_Y)  # filled manual circle: orange
    assert right_to.red() > right_to.blue() + 80
    halo = colour(_x(40) + 6, RIGHT_LANE_Y)  # low-confidence automatic: yellow halo
    assert halo.red() > 200 and halo.green() > 150 and halo.blue() < 120
    hollow = colour(_x(27), LEFT_LANE_Y)  # automatic, confident: hollow (light centre)
    assert min(hollow.red(), hollow.green(), hollow.blue()) > 200
    line = colour(_x(70), RIGHT_LANE_Y)  # current frame: red line
    assert line.red() > 150 and line.green() < 100


def test_no_frames_and_no_events_are_harmless(qtbot) -> None:  # type: ignore[no-untyped-def]
    t = EventTimeline()
    qtbot.addWidget(t)
    t.resize(400, 64)
    t.show()
    t.set_frame_count(0)
    t.set_events([])
    t.set_current(5)
    t.set_cache_progress(float("nan"))
    t.set_selected(None)
    assert not t.grab().isNull()
    with qtbot.assertNotEmitted(t.frame_requested):
        qtbot.mouseClick(t, Qt.MouseButton.LeftButton, pos=QPoint(200, 30))
    _wheel(t, 200, 3)
    t.set_frame_count(1)
    with qtbot.waitSignal(t.frame_requested, timeout=1000) as sig:
        qtbot.mouseClick(t, Qt.MouseButton.LeftButton, pos=QPoint(300, 60))
    assert sig.args == [0]


def test_a_taller_timeline_has_taller_lanes_and_keys_zoom(qtbot) -> None:
    t = EventTimeline()
    qtbot.addWidget(t)
    t.resize(WIDTH, 200)
    t.set_frame_count(N)
    t.set_events(EVENTS)
    t.show()
    qtbot.waitExposed(t)
    assert t.height() == 200
    lane = t._lane_rect(Foot.RIGHT)
    assert lane.height() > 2 * LANE_H  # the lanes share the height the clinician gave them
    assert t.event_at(QPointF(_x(40), lane.bottom() - 5)) == EVENTS[2]
    t.set_current(50)
    t.zoom_by(2.0)
    v0, v1 = t.visible_range()
    assert v1 - v0 == pytest.approx((N - 1) / 2) and v0 < 50 < v1
    t.zoom_by(0.5)
    assert t.visible_range() == (0.0, N - 1)
