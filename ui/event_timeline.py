"""Event timeline: the strip under the video with every heel strike and toe-off of the clip.

Two lanes (left foot on top, blue; right foot below, orange). Initial contact is a
downward-pointing triangle ("the foot comes down"), toe-off a small circle. Automatic events are
hollow, manual (clinician) events filled; automatic events with confidence below 0.5 get a
yellow halo so the clinician checks them first. The red line is the current frame.

The widget never changes the data itself: clicks, drags and scrubbing are reported as signals
(``frame_requested``, ``event_selected``, ``event_moved``) and the annotation panel answers with
``set_current`` / ``set_events`` / ``set_selected``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPolygonF,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.annotation.session import LOW_CONFIDENCE  # one threshold everywhere

LANE_COLOUR = {Foot.LEFT: QColor("#2b7bb9"), Foot.RIGHT: QColor("#e07b00")}
CURRENT_COLOUR = QColor("#c62828")
HALO_COLOUR = QColor(255, 205, 0, 190)
MIN_SPAN_FRAMES = 10.0  # deepest zoom: ten frames across the strip
WHEEL_STEP = 1.25
DRAG_START_PX = 3.0
HIT_PX = 7.0

# Layout in logical pixels (Qt scales them on HiDPI screens).
HEIGHT = 64
GUTTER = 26  # lane letters on the left; hover for the legend
PAD = 8  # keeps the markers at frame 0 and the last frame fully visible
RULER_H = 16
LANE_H = 20
CACHE_H = 4
MAX_HEIGHT = 260

LEGEND = (
    "▼ initial contact (heel strike)   ● toe-off\n"
    "Top lane: left foot (blue) · bottom lane: right foot (orange)\n"
    "Filled = placed by you · hollow = automatic · yellow halo = automatic, low confidence\n"
    "Click: go to frame · drag a marker: move the event · wheel: zoom · double-click: whole clip"
)

_TYPE_NAME = {EventType.INITIAL_CONTACT: "initial contact", EventType.TOE_OFF: "toe-off"}


class EventTimeline(QWidget):
    """A zoomable two-lane strip of foot events with a current-frame line and cache bar."""

    frame_requested = Signal(int)
    """The user clicked, scrubbed or is dragging a marker over this frame: show it."""
    event_selected = Signal(object)
    """A marker was clicked (``FootEvent``)."""
    event_moved = Signal(object, int)
    """A marker was dragged and dropped: ``(original FootEvent, new frame)``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._n = 0
        self._events: list[FootEvent] = []
        self._current: int | None = None
        self._cache = 0.0
        self._cache_map: tuple[float, ...] = ()  # readiness per equal part of the clip
        self._selected: FootEvent | None = None
        self._v0, self._v1 = 0.0, 1.0  # visible frame range (floats, for smooth zoom)
        # Mouse interaction state.
        self._press: str | None = None  # "scrub" or "marker"
        self._press_x = 0.0
        self._drag_event: FootEvent | None = None
        self._drag_frame: int | None = None
        self._last_frame: int | None = None
        self.setMouseTracking(True)
        self.setMinimumHeight(HEIGHT)
        self.setMaximumHeight(MAX_HEIGHT)
        # Taller on request (the panel's splitter): the lanes grow, markers are easier to hit.
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(640, HEIGHT)

    # ------------------------------------------------------------------ data
    def set_frame_count(self, n: int) -> None:
        """Number of frames in the clip (0 = no clip); resets the zoom to the whole clip."""
        self._n = max(0, int(n))
        self.reset_zoom()

    def set_events(self, events: list[FootEvent]) -> None:
        """Replace the markers (any order; events outside the clip are not drawn)."""
        self._events = list(events)
        self.update()

    def set_current(self, frame: int) -> None:
        """Move the current-frame line; a zoomed view scrolls to keep it visible."""
        self._current = int(frame)
        full = self._full_span()
        if self._v1 - self._v0 < full and not (self._v0 <= frame <= self._v1):
            span = self._v1 - self._v0
            self._set_window(frame - span / 2.0, span)
        self.update()

    def set_cache_progress(self, fraction: float) -> None:
        """Share of the clip decoded and cached (0–1), shown as a thin bar at the bottom."""
        f = float(fraction)
        self._cache = 0.0 if math.isnan(f) else min(1.0, max(0.0, f))
        self._cache_map = ()
        self.update()

    def set_cache_map(self, parts: Sequence[float]) -> None:
        """Readiness (0–1) of equal parts of the clip: the pass fills outward from the cursor,
        so the ready parts need not start at frame 0. Repaints only when it changed."""
        new = tuple(0.0 if math.isnan(v) else min(1.0, max(0.0, float(v))) for v in parts)
        if new == self._cache_map:
            return
        self._cache_map = new
        self._cache = sum(new) / len(new) if new else 0.0
        self.update()

    def set_selected(self, event: FootEvent | None) -> None:
        """Highlight one marker (compared by value), or none."""
        self._selected = event
        self.update()

    # ------------------------------------------------------------- geometry
    def _full_span(self) -> float:
        return float(max(self._n - 1, 1))

    def _plot(self) -> tuple[float, float]:
        left = GUTTER + PAD
        return left, max(1.0, self.width() - PAD - left)

    def visible_range(self) -> tuple[float, float]:
        """First and last frame shown (floats: the zoom is continuous)."""
        return self._v0, self._v1

    def reset_zoom(self) -> None:
        """Show the whole clip."""
        self._v0, self._v1 = 0.0, self._full_span()
        self.update()

    def _set_window(self, v0: float, span: float) -> None:
        full = self._full_span()
        span = min(full, max(min(MIN_SPAN_FRAMES, full), span))
        v0 = min(max(v0, 0.0), full - span)
        self._v0, self._v1 = v0, v0 + span

    def x_for_frame(self, frame: float) -> float:
        """Widget x of a frame's marker."""
        left, w = self._plot()
        return left + (frame - self._v0) / (self._v1 - self._v0) * w

    def frame_at(self, x: float) -> int:
        """The frame nearest to widget x, clamped to the clip."""
        return min(max(round(self._frame_float(x)), 0), max(self._n - 1, 0))

    def _frame_float(self, x: float) -> float:
        left, w = self._plot()
        return self._v0 + (x - left) / w * (self._v1 - self._v0)

    def _lane_h(self) -> float:
        """Height of one foot lane: the two lanes share whatever height the strip is given."""
        return max(float(LANE_H), (self.height() - RULER_H - CACHE_H - 8) / 2.0)

    def _cache_y(self) -> float:
        return RULER_H + 2 * self._lane_h() + 4

    def zoom_by(self, factor: float) -> None:
        """Zoom in (factor > 1) or out around the current frame (keys + and −)."""
        centre = float(self._current if self._current is not None else (self._v0 + self._v1) / 2)
        span = (self._v1 - self._v0) / factor
        self._set_window(centre - span / 2.0, span)
        self.update()

    def _lane_rect(self, foot: Foot) -> QRectF:
        top = RULER_H + (0 if foot is Foot.LEFT else self._lane_h())
        return QRectF(0, top, self.width(), self._lane_h())

    def event_at(self, pos: QPointF) -> FootEvent | None:
        """The marker under a widget position (nearest in x within a few pixels), or None."""
        best: tuple[float, int, FootEvent] | None = None
        for ev in self._events:
            if not (0 <= ev.frame < self._n) or not self._lane_rect(ev.foot).contains(pos):
                continue
            dx = abs(self.x_for_frame(ev.frame) - pos.x())
            if dx <= HIT_PX:
                key = (dx, 0 if ev == self._selected else 1, ev)
                if best is None or key[:2] < best[:2]:
                    best = key
        return None if best is None else best[2]

    # ----------------------------------------------------------------- mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton or self._n == 0:
            return super().mousePressEvent(event)
        pos = event.position()
        hit = self.event_at(pos)
        self._press_x = pos.x()
        if hit is not None:
            self._press, self._drag_event, self._drag_frame = "marker", hit, None
            self._selected = hit
            self.update()
            self.event_selected.emit(hit)
            self.frame_requested.emit(hit.frame)
        else:
            self._press = "scrub"
            self._last_frame = self.frame_at(pos.x())
            self.frame_requested.emit(self._last_frame)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if self._press == "scrub":
            f = self.frame_at(pos.x())
            if f != self._last_frame:
                self._last_frame = f
                self.frame_requested.emit(f)
        elif self._press == "marker" and self._drag_event is not None:
            dx = pos.x() - self._press_x
            if self._drag_frame is None and abs(dx) < DRAG_START_PX:
                return
            # Relative to the press so grabbing a marker off-centre does not make it jump.
            frames_per_px = (self._v1 - self._v0) / self._plot()[1]
            new = min(max(self._drag_event.frame + round(dx * frames_per_px), 0), self._n - 1)
            if new != self._drag_frame:
                self._drag_frame = new
                self.setCursor(Qt.CursorShape.SizeHorCursor)
                self.update()
                self.frame_requested.emit(new)  # the video shows where the event would land
        else:
            over = self.event_at(pos) is not None
            self.setCursor(
                Qt.CursorShape.PointingHandCursor if over else Qt.CursorShape.ArrowCursor
            )

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mouseReleaseEvent(event)
        moved, new = self._drag_event, self._drag_frame
        self._press, self._drag_event, self._drag_frame, self._last_frame = None, None, None, None
        self.unsetCursor()
        self.update()
        if moved is not None and new is not None and new != moved.frame:
            self.event_moved.emit(moved, new)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self.reset_zoom()
            event.accept()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120.0
        if steps and self._n > 1:
            x = event.position().x()
            anchor = self._frame_float(x)
            span = (self._v1 - self._v0) / WHEEL_STEP**steps
            left, w = self._plot()
            span = min(self._full_span(), max(min(MIN_SPAN_FRAMES, self._full_span()), span))
            self._set_window(anchor - (x - left) / w * span, span)
            self.update()
        event.accept()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            QToolTip.showText(event.globalPos(), self._tooltip(QPointF(event.pos())), self)
            return True
        return super().event(event)

    def _tooltip(self, pos: QPointF) -> str:
        if pos.x() < GUTTER:
            return LEGEND
        if self._n == 0:
            return ""
        if pos.y() >= self._cache_y() - 2:
            return f"Cached for instant stepping: {self._cache:.0%} of the clip"
        hit = self.event_at(pos)
        if hit is None:
            return f"Frame {self.frame_at(pos.x())}"
        lines = [
            f"{hit.foot.value.capitalize()} foot — {_TYPE_NAME[hit.type]}",
            f"Frame {hit.frame} ({hit.time_s:.3f} s)",
        ]
        if hit.source is EventSource.AUTOMATIC:
            low = "  — low, please check" if hit.confidence < LOW_CONFIDENCE else ""
            lines.append(f"Automatic, confidence {hit.confidence:.2f}{low}")
        else:
            lines.append("Placed by the clinician")
        return "\n".join(lines)

    # -------------------------------------------------------------- painting
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w = self.width()
        p.fillRect(self.rect(), QColor("#f4f6f8"))
        p.fillRect(QRectF(0, 0, w, RULER_H), QColor("#e9edf1"))
        for foot, shade in ((Foot.LEFT, "#ffffff"), (Foot.RIGHT, "#fbfbfc")):
            lane = self._lane_rect(foot)
            p.fillRect(lane, QColor(shade))
            p.fillRect(QRectF(0, lane.top(), GUTTER, lane.height()), LANE_COLOUR[foot].lighter(185))
            font = QFont(self.font())
            font.setPixelSize(11)
            font.setBold(True)
            p.setFont(font)
            p.setPen(LANE_COLOUR[foot].darker(130))
            p.drawText(
                QRectF(0, lane.top(), GUTTER, lane.height()),
                Qt.AlignmentFlag.AlignCenter,
                foot.value[0].upper(),
            )
        font = QFont(self.font())
        font.setPixelSize(9)
        p.setFont(font)
        p.setPen(QColor("#7a868f"))  # shape hint; hover the gutter for the full legend
        p.drawText(QRectF(0, 0, GUTTER, RULER_H), Qt.AlignmentFlag.AlignCenter, "▼ ●")
        p.setPen(QPen(QColor("#d5dbe0"), 1))
        p.drawLine(QPointF(0, RULER_H + self._lane_h()), QPointF(w, RULER_H + self._lane_h()))
        p.drawLine(QPointF(GUTTER, RULER_H), QPointF(GUTTER, RULER_H + 2 * self._lane_h()))
        if self._n == 0:
            p.setPen(QColor("#7a868f"))
            p.drawText(
                QRectF(GUTTER, RULER_H, w - GUTTER, 2 * self._lane_h()),
                Qt.AlignmentFlag.AlignCenter,
                "No video",
            )
            return
        p.setClipRect(QRectF(GUTTER + 1, 0, w - GUTTER - 1, self.height()))
        self._paint_ruler(p)
        dragging = self._drag_event if self._drag_frame is not None else None
        ordered = sorted(self._events, key=lambda e: e == self._selected)  # selected on top
        for ev in ordered:
            if 0 <= ev.frame < self._n:
                self._paint_marker(p, ev, ev.frame, ghost=ev == dragging)
        if dragging is not None and self._drag_frame is not None:
            self._paint_marker(p, dragging, self._drag_frame, ghost=False, selected=True)
        self._paint_cache(p)
        self._paint_current(p)

    def _paint_ruler(self, p: QPainter) -> None:
        left, w = self._plot()
        px_per_frame = w / (self._v1 - self._v0)
        step = 1
        for s in _nice_steps():
            if s * px_per_frame >= 60:
                step = s
                break
        minor = step // 5 if step % 5 == 0 else step // 2
        font = QFont(self.font())
        font.setPixelSize(10)
        p.setFont(font)
        if minor >= 1 and minor * px_per_frame >= 6:
            p.setPen(QPen(QColor("#b7c0c8"), 1))
            for f in range(int(self._v0 // minor) * minor, int(self._v1) + 1, minor):
                x = self.x_for_frame(f)
                p.drawLine(QPointF(x, RULER_H - 4), QPointF(x, RULER_H))
        for f in range(int(self._v0 // step) * step, int(self._v1) + 1, step):
            if f < 0 or f >= self._n:
                continue
            x = self.x_for_frame(f)
            p.setPen(QPen(QColor("#d3d9df"), 1))
            p.drawLine(QPointF(x, RULER_H), QPointF(x, RULER_H + 2 * self._lane_h()))
            p.setPen(QPen(QColor("#8c98a3"), 1))
            p.drawLine(QPointF(x, RULER_H - 7), QPointF(x, RULER_H))
            p.setPen(QColor("#5b6770"))
            p.drawText(QRectF(x + 3, 0, 60, RULER_H - 3), Qt.AlignmentFlag.AlignVCenter, str(f))

    def _paint_marker(
        self, p: QPainter, ev: FootEvent, frame: int, ghost: bool, selected: bool = False
    ) -> None:
        x = self.x_for_frame(frame)
        lane = self._lane_rect(ev.foot)
        cy = lane.center().y()
        colour = QColor(LANE_COLOUR[ev.foot])
        automatic = ev.source is EventSource.AUTOMATIC
        selected = selected or (ev == self._selected and not ghost)
        if ghost:  # where a dragged marker came from
            colour.setAlpha(70)
        if selected:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(20, 30, 40, 38))
            p.drawRoundedRect(QRectF(x - 9, lane.top() + 1, 18, lane.height() - 2), 4, 4)
        if automatic and ev.confidence < LOW_CONFIDENCE and not ghost:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(HALO_COLOUR)
            p.drawEllipse(QPointF(x, cy), 8.5, 8.5)
        if ev.type is EventType.INITIAL_CONTACT:
            shape = QPainterPath()
            shape.addPolygon(
                QPolygonF([QPointF(x - 6, cy - 5), QPointF(x + 6, cy - 5), QPointF(x, cy + 6)])
            )
            shape.closeSubpath()
        else:
            shape = QPainterPath()
            shape.addEllipse(QPointF(x, cy), 4.5, 4.5)
        outline = QColor("#111111") if selected else colour.darker(125)
        if ghost:
            outline.setAlpha(90)
        p.setPen(QPen(outline if not automatic or selected else colour, 2.0 if automatic else 1.2))
        p.setBrush(QColor(255, 255, 255, 230 if not ghost else 90) if automatic else colour)
        p.drawPath(shape)
        if selected and self._drag_frame is not None and self._drag_event == ev:
            self._tag(p, x, lane.top() - 1, f"{ev.frame} → {frame}", QColor("#263238"))

    def _paint_cache(self, p: QPainter) -> None:
        left, w = self._plot()
        track = QRectF(left, self._cache_y(), w, CACHE_H)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#dde2e6"))
        p.drawRoundedRect(track, 2, 2)
        if self._cache_map:
            part = w / len(self._cache_map)
            for k, ready in enumerate(self._cache_map):
                if ready > 0:
                    colour = QColor("#5fa85a")
                    colour.setAlphaF(0.35 + 0.65 * ready)  # fully ready parts are solid
                    p.setBrush(colour)
                    p.drawRect(QRectF(left + k * part, self._cache_y(), part + 0.5, CACHE_H))
        elif self._cache > 0:
            p.setBrush(QColor("#5fa85a"))
            p.drawRoundedRect(QRectF(left, self._cache_y(), w * self._cache, CACHE_H), 2, 2)
        full = self._full_span()
        if self._v1 - self._v0 < full:  # overview: which part of the clip is on screen
            a, b = left + self._v0 / full * w, left + self._v1 / full * w
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(QColor("#37474f"), 1.2))
            p.drawRect(QRectF(a, self._cache_y() - 1.5, max(b - a, 2.0), CACHE_H + 3))

    def _paint_current(self, p: QPainter) -> None:
        if self._current is None or not (0 <= self._current < self._n):
            return
        x = self.x_for_frame(self._current)
        if x < GUTTER or x > self.width():
            return
        p.setPen(QPen(CURRENT_COLOUR, 1.6))
        p.drawLine(QPointF(x, 0), QPointF(x, self._cache_y() - 1))
        self._tag(p, x, RULER_H, str(self._current), CURRENT_COLOUR)

    def _tag(self, p: QPainter, x: float, bottom: float, text: str, colour: QColor) -> None:
        """A small filled label centred on x with its bottom at ``bottom``, kept on screen."""
        font = QFont(self.font())
        font.setPixelSize(10)
        font.setBold(True)
        p.setFont(font)
        rect = QFontMetricsF(font).boundingRect(text).adjusted(-4, -1, 4, 1)
        rect.moveBottom(bottom)
        rect.moveLeft(min(max(x - rect.width() / 2, GUTTER + 1), self.width() - rect.width() - 1))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawRoundedRect(rect, 3, 3)
        p.setPen(QColor("#ffffff"))
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


def _nice_steps() -> list[int]:
    return [m * 10**e for e in range(6) for m in (1, 2, 5)]
