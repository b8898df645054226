"""Painting of measurement overlays, the pose skeleton and messages over a video frame.

Pure drawing helpers for :class:`ui.video_view.VideoView`: everything is painted in device
pixels from image points, so lines keep their on-screen width at any zoom and the same code
paints the native-resolution PNG export.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import pairwise

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
)

from app.annotation.geometry import (
    measurement_label,
)

LEFT_COLOUR, RIGHT_COLOUR = QColor("#2b7bb9"), QColor("#e07b00")
KIND_COLOUR = {
    "vline": QColor("#7df0ff"),
    "angle": QColor("#ffe14d"),
    "shank": QColor("#ffe14d"),
    "distance": QColor("#ffffff"),
    "calibration": QColor("#ff8ad8"),
    "pelvic_drop": QColor("#b6ff6b"),
    "fppa_left": QColor("#ffe14d"),
    "fppa_right": QColor("#ffe14d"),
    "step_width_left": QColor("#ffffff"),
    "step_width_right": QColor("#ffffff"),
}
_OUTLINE = QColor(0, 0, 0, 190)
_LEG_CHAIN = ("hip", "knee", "ankle", "heel", "toe", "ankle")

ToDevice = Callable[[float, float], QPointF]


def _pen(colour: QColor, width: float, dashed: bool = False) -> QPen:
    pen = QPen(colour, width)
    pen.setCosmetic(True)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    if dashed:
        pen.setDashPattern([4.0, 3.0])
    return pen


def outlined(
    painter: QPainter,
    shape: QLineF | QPainterPath,
    colour: QColor,
    ui: float,
    dashed: bool = False,
    width: float = 2.2,
) -> None:
    """A light stroke over a darker, wider one so it shows on bright and dark footage alike."""
    draw = painter.drawPath if isinstance(shape, QPainterPath) else painter.drawLine
    for pen in (_pen(_OUTLINE, (width + 2.3) * ui), _pen(colour, width * ui, dashed)):
        painter.setPen(pen)
        draw(shape)


def dot(painter: QPainter, p: QPointF, colour: QColor, ui: float) -> None:
    painter.setPen(_pen(_OUTLINE, 1.5 * ui))
    painter.setBrush(colour)
    painter.drawEllipse(p, 3.5 * ui, 3.5 * ui)
    painter.setBrush(Qt.BrushStyle.NoBrush)


def _label(
    painter: QPainter, anchor: QPointF, text: str, colour: QColor, ui: float, align: str
) -> None:
    """Text on a small dark box beside ``anchor`` ("right"/"left" of it, or "center"),
    kept inside the paint device so labels near the edge stay readable."""
    if not text:
        return
    font = QFont(painter.font())
    font.setPixelSize(round(13 * ui))
    font.setBold(True)
    painter.setFont(font)
    rect = QFontMetricsF(font).boundingRect(text).adjusted(-5 * ui, -2 * ui, 5 * ui, 2 * ui)
    rect.moveCenter(anchor)
    if align != "center":
        shift = rect.width() / 2 + 6 * ui
        rect.translate(shift if align == "right" else -shift, 0)
    dev = painter.device()
    rect.moveLeft(min(max(rect.left(), 2.0), dev.width() - rect.width() - 2))
    rect.moveTop(min(max(rect.top(), 2.0), dev.height() - rect.height() - 2))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(15, 15, 18, 205))
    painter.drawRoundedRect(rect, 3 * ui, 3 * ui)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(colour)
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


def _screen_angle(v: QPointF) -> float:
    """Qt's arc angle of a direction (degrees, counter-clockwise on screen, 0 = right)."""
    return math.degrees(math.atan2(-v.y(), v.x()))


def _arc(
    painter: QPainter,
    centre: QPointF,
    d1: QPointF,
    d2: QPointF,
    colour: QColor,
    ui: float,
    radius: float,
) -> None:
    start = _screen_angle(d1)
    sweep = (_screen_angle(d2) - start + 180.0) % 360.0 - 180.0
    box = QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius)
    wedge = QPainterPath(centre)  # a translucent wedge makes small angles easy to see
    wedge.arcTo(box, start, sweep)
    wedge.closeSubpath()
    fill = QColor(colour)
    fill.setAlpha(110)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(fill)
    painter.drawPath(wedge)
    path = QPainterPath()
    path.arcMoveTo(box, start)
    path.arcTo(box, start, sweep)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    outlined(painter, path, colour, ui)


def _along(a: QPointF, b: QPointF, length: float) -> QPointF:
    """Point ``length`` pixels from ``a`` in the direction away from ``b`` (an extension)."""
    d = a - b
    n = math.hypot(d.x(), d.y()) or 1.0
    return a + d * (length / n)


def segments(item: dict, to_dev: ToDevice, frame_h: float) -> list[tuple[QPointF, QPointF]]:
    if item["kind"] == "vline":
        x = item["points"][0][0]
        return [(to_dev(x, 0.0), to_dev(x, frame_h))]
    return list(pairwise(to_dev(*p) for p in item["points"]))


def _unit(v: QPointF) -> QPointF:
    n = math.hypot(v.x(), v.y())
    return v / n if n else QPointF(0.0, 0.0)


def paint_overlays(
    painter: QPainter, items: Sequence[dict], to_dev: ToDevice, frame_h: float, ui: float
) -> None:
    """Paint overlay dicts; ``to_dev`` maps image points to the painter's coordinates.

    Lines first, labels last, so no line ever crosses a label's text.
    """
    labels: list[tuple[QPointF, str, QColor, str]] = []
    for item in items:
        _paint_overlay_lines(painter, item, to_dev, frame_h, ui, labels)
    for anchor, text, colour, align in labels:
        _label(painter, anchor, text, colour, ui, align)


def _paint_overlay_lines(
    painter: QPainter,
    item: dict,
    to_dev: ToDevice,
    frame_h: float,
    ui: float,
    labels: list[tuple[QPointF, str, QColor, str]],
) -> None:
    kind, colour = item["kind"], KIND_COLOUR[item["kind"]]
    pts = [to_dev(*p) for p in item["points"]]
    text = measurement_label(item)
    if kind == "vline":
        ((top, bottom),) = segments(item, to_dev, frame_h)
        outlined(painter, QLineF(top, bottom), colour, ui, dashed=True)
        labels.append((QPointF(top.x(), max(top.y(), 0.0) + 16 * ui), text, colour, "right"))
        return
    for a, b in pairwise(pts):
        outlined(painter, QLineF(a, b), colour, ui)
    if kind == "angle":
        hip, knee, ankle = pts
        thigh, shank = QLineF(knee, hip).length(), QLineF(knee, ankle).length()
        radius = max(16.0 * ui, min(0.4 * min(thigh, shank), 48.0 * ui))
        outlined(painter, QLineF(knee, _along(knee, hip, radius * 1.6)), colour, ui, dashed=True)
        _arc(painter, knee, knee - hip, ankle - knee, colour, ui, radius)
        # Label on the outside of the hip-knee-ankle angle, where the flexion wedge is.
        outside = -_unit(_unit(hip - knee) + _unit(ankle - knee))
        if outside.isNull():
            outside = QPointF(1.0, 0.0)
        side = "right" if outside.x() >= 0 else "left"
        labels.append((knee + outside * (radius + 6 * ui), text, colour, side))
    elif kind == "shank":
        knee, ankle = pts
        length = QLineF(knee, ankle).length()
        radius = max(16.0 * ui, min(0.4 * length, 48.0 * ui))
        down = QPointF(knee.x(), knee.y() + max(length, 20.0 * ui))
        outlined(painter, QLineF(knee, down), colour, ui, dashed=True)
        _arc(painter, knee, down - knee, ankle - knee, colour, ui, radius)
        side = "right" if ankle.x() >= knee.x() else "left"
        mid = (knee + ankle) / 2.0
        labels.append(
            (mid + QPointF(8 * ui if side == "right" else -8 * ui, 0), text, colour, side)
        )
    if kind == "pelvic_drop":
        a, b = pts
        level = QPointF(b.x(), a.y())  # the horizontal the drop is measured against
        outlined(painter, QLineF(a, level), colour, ui, dashed=True)
        labels.append(((a + b) / 2.0 + QPointF(0, -14 * ui), text, colour, "center"))
    elif kind.startswith("fppa_"):
        hip, _knee, ankle = pts
        outlined(painter, QLineF(hip, ankle), colour, ui, dashed=True)  # the hip-ankle line
        labels.append((pts[1] + QPointF(10 * ui, 0), text, colour, "right"))
    elif kind.startswith("step_width_"):
        mid, foot = pts
        top, bottom = QPointF(mid.x(), min(mid.y(), foot.y()) - 20 * ui), QPointF(mid.x(), foot.y())
        outlined(painter, QLineF(top, bottom), colour, ui, dashed=True)  # the midline
        labels.append((foot + QPointF(0, 16 * ui), text, colour, "center"))
    if kind in ("distance", "calibration"):
        a, b = pts
        tick = QPointF(-_unit(b - a).y(), _unit(b - a).x()) * (7.0 * ui)
        for p in pts:
            outlined(painter, QLineF(p - tick, p + tick), colour, ui)
        normal = tick if tick.y() <= 0 else -tick  # label above (or left of) the segment
        labels.append(((a + b) / 2.0 + normal * 2.4, text, colour, "center"))
    else:
        for p in pts:
            dot(painter, p, colour, ui)


def paint_skeleton(
    painter: QPainter, points: dict[str, tuple[float, float]], to_dev: ToDevice, ui: float
) -> None:
    """Two leg chains (hip-knee-ankle-heel-toe-ankle); missing or NaN keypoints are skipped."""
    for side, colour in (("left", LEFT_COLOUR), ("right", RIGHT_COLOUR)):
        dev: list[QPointF | None] = []
        for joint in _LEG_CHAIN:
            p = points.get(f"{side}_{joint}")
            ok = p is not None and all(math.isfinite(float(v)) for v in p[:2])
            dev.append(to_dev(float(p[0]), float(p[1])) if ok else None)  # type: ignore[index]
        for a, b in pairwise(dev):
            if a is not None and b is not None:
                outlined(painter, QLineF(a, b), colour, ui, width=3.0)
        for p in dev[:5]:
            if p is not None:
                painter.setPen(_pen(colour, 2.0 * ui))
                painter.setBrush(QColor("#ffffff"))
                painter.drawEllipse(p, 3.5 * ui, 3.5 * ui)
        painter.setBrush(Qt.BrushStyle.NoBrush)


def paint_message(painter: QPainter, area: QRectF, text: str) -> None:
    font = QFont(painter.font())
    font.setPixelSize(18)
    painter.setFont(font)
    box = QFontMetricsF(font).boundingRect(
        area.adjusted(40, 0, -40, 0), Qt.TextFlag.TextWordWrap, text
    )
    box = box.adjusted(-16, -10, 16, 10)
    box.moveCenter(area.center())
    painter.setPen(QPen(QColor(255, 255, 255, 60), 1))
    painter.setBrush(QBrush(QColor(0, 0, 0, 170)))
    painter.drawRoundedRect(box, 6, 6)
    painter.setPen(QColor("#f2f2f2"))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
