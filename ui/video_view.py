"""Frame viewer for heel-strike review: zoom/pan, measurement overlays, tools, pose skeleton.

Overlays are plain dicts in *image* coordinates (pixels, x right, y down)::

    {"kind": "vline" | "angle" | "shank" | "distance" | "calibration",
     "points": [[x, y], ...],     # vline 1, distance/calibration/shank 2, angle 3
     "label": str,                # optional; shown instead of the automatic text
     "value": float | None}       # angle: knee flexion deg; shank: deg; distance: cm

The view does not own the overlay list: a finished measurement is announced with
``overlay_created`` and the caller adds it to its list and calls ``set_overlays``. Everything
drawn on top of the frame is painted in *viewport* pixels from the image points, so lines keep
their on-screen width and labels their size at any zoom; ``render_current`` paints the same
overlays onto the native-resolution frame for PNG export.
"""

from __future__ import annotations

import logging
import math
from itertools import pairwise

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QWidget

from app.annotation.geometry import (
    POINTS_NEEDED,
    make_measurement,
    moved_measurement,
    point_segment_distance,
)
from ui.video_overlays import (
    KIND_COLOUR,
    dot,
    outlined,
    paint_message,
    paint_overlays,
    paint_skeleton,
    segments,
)

_log = logging.getLogger(__name__)

MIN_ZOOM, MAX_ZOOM = 0.1, 16.0
WHEEL_STEP = 1.25  # zoom factor per wheel notch (120 units)
# Above this many screen pixels per frame pixel, show hard pixel edges (pixel peeping at the
# heel); below it, bilinear filtering keeps the downscaled picture free of aliasing.
NEAREST_FROM_ZOOM = 2.5
HIT_TOLERANCE_PX = 7.0


class VideoView(QGraphicsView):
    """Shows one RGB frame with zoom, pan, measurement overlays and measurement tools."""

    zoom_changed = Signal(float)
    """Screen pixels per frame pixel after any zoom change."""
    overlay_created = Signal(dict)
    """A measurement tool finished: ``{"kind", "points", "label", "value"}``."""
    overlay_delete_requested = Signal(int)
    """Right-click on the overlay with this index in the list given to ``set_overlays``."""
    tool_changed = Signal(object)
    """The active tool changed (``str`` or ``None``), e.g. after Esc left the tool."""
    overlay_moved = Signal(int, dict)
    """A drawing was drag-moved (index in the ``set_overlays`` list, the moved overlay dict with
    its new points, value and label). Only when :meth:`set_editable` is on."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self._pixmap_item = QGraphicsPixmapItem()
        self._pixmap_item.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
        self._scene.addItem(self._pixmap_item)
        self.setScene(self._scene)
        self._frame: np.ndarray | None = None  # keeps the buffer under _qimage alive
        self._qimage: QImage | None = None
        self._overlays: list[dict] = []
        self._overlay_index: list[int] = []  # position of each drawn overlay in the caller's list
        self._skeleton: dict[str, tuple[float, float]] | None = None
        self._message: str | None = None
        self._tool: str | None = None
        self._pending: list[tuple[float, float]] = []
        self._mouse: tuple[float, float] | None = None
        self._cm_per_px: float | None = None
        self._direction = 1
        self._auto_fit = True
        self._pan_from: QPointF | None = None
        self._editable = False
        # a drag in progress: (drawn index, point index or None for the whole drawing,
        # scene position pressed, points before)
        self._drag: tuple[int, int | None, tuple[float, float], list[tuple[float, float]]] | None
        self._drag = None

        self.setBackgroundBrush(QColor("#1c1d20"))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        # Overlays and the message are painted in viewport pixels: repaint everything on scroll.
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setMouseTracking(True)
        self.setMinimumSize(160, 120)

    # ----------------------------------------------------------------- frame
    def set_frame(self, rgb: np.ndarray) -> None:
        """Show an H×W×3 uint8 RGB frame. The first frame (or a new size) fits the window."""
        arr = np.asarray(rgb)
        if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8 or arr.size == 0:
            raise ValueError(
                f"A video frame must be an H×W×3 array of 8-bit RGB values, got shape "
                f"{arr.shape} of {arr.dtype}."
            )
        if not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr)
        h, w = arr.shape[:2]
        old_size = self.frame_size()
        # The QImage only wraps the numpy buffer; self._frame keeps that buffer alive.
        self._frame = arr
        self._qimage = QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB888)
        self._pixmap_item.setPixmap(QPixmap.fromImage(self._qimage))
        if old_size != (w, h):  # first frame or another video: fit (stepping keeps the zoom)
            self._scene.setSceneRect(0, 0, w, h)
            self._pending.clear()
            self.fit_to_window()

    def clear_frame(self) -> None:
        """Remove the frame (e.g. before showing a message for a video that failed to open)."""
        self._frame = self._qimage = None
        self._pixmap_item.setPixmap(QPixmap())
        self._pending.clear()
        self.viewport().update()

    def frame_size(self) -> tuple[int, int] | None:
        """(width, height) of the current frame in pixels, or None when no frame is shown."""
        return None if self._frame is None else (self._frame.shape[1], self._frame.shape[0])

    def set_message(self, text: str | None) -> None:
        """Show a centred message over the view (e.g. "Video not found"); None hides it."""
        self._message = text or None
        self.viewport().update()

    def message_text(self) -> str:
        """The message shown over the view ("" when none)."""
        return self._message or ""

    # ------------------------------------------------------------------ zoom
    def zoom(self) -> float:
        """Current zoom: screen pixels per frame pixel."""
        return self.transform().m11()

    def fit_to_window(self) -> None:
        """Show the whole frame, as large as the window allows; follows later resizes."""
        if self._frame is None:
            return
        self.fitInView(self._pixmap_item, Qt.AspectRatioMode.KeepAspectRatio)
        self._auto_fit = True
        self._zoom_updated()

    def zoom_actual(self) -> None:
        """One frame pixel per screen pixel, keeping the centre of the view in place."""
        centre = self.mapToScene(self.viewport().rect().center())
        self.resetTransform()
        self.centerOn(centre)
        self._auto_fit = False
        self._zoom_updated()

    def _zoom_at(self, factor: float, view_pos: QPointF) -> None:
        lower = MIN_ZOOM
        if self._frame is not None:  # a huge frame in a small window may fit below 0.1x
            fit = min(
                self.viewport().width() / self._frame.shape[1],
                self.viewport().height() / self._frame.shape[0],
            )
            lower = min(MIN_ZOOM, fit)
        new = min(MAX_ZOOM, max(lower, self.zoom() * factor))
        if math.isclose(new, self.zoom()):
            return
        anchor = self.mapToScene(view_pos.toPoint())
        self.scale(new / self.zoom(), new / self.zoom())
        # Scroll so the frame pixel that was under the cursor stays under it.
        moved = self.mapFromScene(anchor) - view_pos.toPoint()
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + moved.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + moved.y())
        self._auto_fit = False
        self._zoom_updated()

    def _zoom_updated(self) -> None:
        nearest = self.zoom() >= NEAREST_FROM_ZOOM
        mode = (
            Qt.TransformationMode.FastTransformation
            if nearest
            else Qt.TransformationMode.SmoothTransformation
        )
        self._pixmap_item.setTransformationMode(mode)
        self.viewport().update()
        self.zoom_changed.emit(self.zoom())

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        steps = event.angleDelta().y() / 120.0
        if steps and self._frame is not None:
            self._zoom_at(WHEEL_STEP**steps, event.position())
        event.accept()

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        super().resizeEvent(event)
        if self._auto_fit:
            self.fit_to_window()

    # -------------------------------------------------------------- overlays
    def set_overlays(self, items: list[dict]) -> None:
        """Replace the drawn overlays (see module docstring for the dict format).

        A malformed item (unknown kind, wrong number of points, non-numeric point) is skipped
        with a logged warning so one bad saved mark cannot break frame stepping; indices in
        ``overlay_delete_requested`` still refer to ``items``.
        """
        clean: list[dict] = []
        index: list[int] = []
        for i, item in enumerate(items):
            try:
                kind = item["kind"]
                pts = [(float(p[0]), float(p[1])) for p in item["points"]]
                if kind not in POINTS_NEEDED or len(pts) != POINTS_NEEDED[kind]:
                    raise ValueError(f"{kind!r} with {len(pts)} points")
                if not all(math.isfinite(v) for p in pts for v in p):
                    raise ValueError("a point is not a number")
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                _log.warning("Overlay %d not drawn (%s): %r", i, exc, item)
                continue
            clean.append({**item, "points": pts})
            index.append(i)
        self._overlays, self._overlay_index = clean, index
        self._drag = None  # another frame's drawings: a drag in progress ends without a move
        self.viewport().update()

    def set_skeleton(self, points: dict[str, tuple[float, float]] | None) -> None:
        """Pose keypoints for this frame (``left_hip`` … ``right_toe``); None hides the skeleton."""
        self._skeleton = dict(points) if points else None
        self.viewport().update()

    def set_calibration(self, cm_per_px: float | None) -> None:
        """Scale used for new distance measurements; None = uncalibrated (pixels)."""
        if cm_per_px is not None and not (math.isfinite(cm_per_px) and cm_per_px > 0):
            raise ValueError("The calibration scale must be a positive number of cm per pixel.")
        self._cm_per_px = cm_per_px

    def set_direction(self, direction: int) -> None:
        """Direction of travel for the shank-angle sign: +1 facing image-right, -1 facing left."""
        if direction not in (1, -1):
            raise ValueError("The running direction must be +1 (facing right) or -1 (facing left).")
        self._direction = direction
        self.viewport().update()

    def set_editable(self, on: bool) -> None:
        """Let the left mouse button drag a drawing's point (or, on its line, the whole
        drawing); the result is announced with ``overlay_moved``. Off by default."""
        self._editable = bool(on)
        self._drag = None

    def _drag_target(self, view_pos: QPointF) -> tuple[int, int | None] | None:
        """(drawn index, point index) of a point near ``view_pos``; (index, None) on a line."""
        for i in range(len(self._overlays) - 1, -1, -1):
            item = self._overlays[i]
            if item["kind"] == "vline":
                continue  # its one point is the whole line: moved as a whole below
            for j, p in enumerate(item["points"]):
                q = self._to_view(*p)
                if math.hypot(q.x() - view_pos.x(), q.y() - view_pos.y()) <= HIT_TOLERANCE_PX + 2:
                    return i, j
        hit = self.overlay_at(view_pos)
        if hit is None:
            return None
        return self._overlay_index.index(hit), None

    def _start_drag(self, view_pos: QPointF) -> bool:
        if not self._editable or self._tool is not None or self._frame is None:
            return False
        target = self._drag_target(view_pos)
        if target is None:
            return False
        i, j = target
        self._drag = (i, j, self._scene_xy(view_pos), list(self._overlays[i]["points"]))
        self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        return True

    def _drag_to(self, view_pos: QPointF) -> None:
        assert self._drag is not None
        i, j, (x0, y0), before = self._drag
        x, y = self._scene_xy(view_pos)
        w, h = self.frame_size() or (0, 0)
        if j is not None:
            pts = [(x, y) if k == j else p for k, p in enumerate(before)]
        else:  # the whole drawing, kept on the frame
            dx = min(max(x - x0, -min(p[0] for p in before)), w - max(p[0] for p in before))
            dy = min(max(y - y0, -min(p[1] for p in before)), h - max(p[1] for p in before))
            pts = [(p[0] + dx, p[1] + dy) for p in before]
        item = self._overlays[i]
        try:
            moved = moved_measurement(
                {**item, "points": before}, pts, self._direction, self._cm_per_px
            )
        except ValueError:
            return
        self._overlays[i] = {**moved, "points": [tuple(p) for p in moved["points"]]}
        self.viewport().update()

    def _end_drag(self) -> None:
        assert self._drag is not None
        i, _j, _start, before = self._drag
        self._drag = None
        self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        item = self._overlays[i]
        if [tuple(p) for p in item["points"]] != [tuple(p) for p in before]:
            out = {**item, "points": [[float(x), float(y)] for x, y in item["points"]]}
            self.overlay_moved.emit(self._overlay_index[i], out)

    # ----------------------------------------------------------------- tools
    def tool(self) -> str | None:
        return self._tool

    def set_tool(self, kind: str | None) -> None:
        """Start a measurement tool (a key of ``POINTS_NEEDED``) or leave tool mode (None)."""
        if kind is not None and kind not in POINTS_NEEDED:
            raise ValueError(f"Unknown measurement tool {kind!r}.")
        self._pending.clear()
        changed = kind != self._tool
        self._tool = kind
        if kind is None:
            self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        else:
            self.setDragMode(QGraphicsView.DragMode.NoDrag)
            self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        self.viewport().update()
        if changed:
            self.tool_changed.emit(kind)

    def cancel_tool_points(self) -> None:
        """Forget the points of the measurement in progress (the tool stays active)."""
        self._pending.clear()
        self.viewport().update()

    def _scene_xy(self, pos: QPointF) -> tuple[float, float]:
        p = self.mapToScene(pos.toPoint())
        w, h = self.frame_size() or (0, 0)
        return min(max(p.x(), 0.0), float(w)), min(max(p.y(), 0.0), float(h))

    def _add_tool_point(self, pos: QPointF) -> None:
        if self._frame is None or self._tool is None:
            return
        xy = self._scene_xy(pos)
        if self._pending and math.dist(self._pending[-1], xy) < 0.5:
            return  # a double-click or a shaky second click: not a new point
        self._pending.append(xy)
        if len(self._pending) == POINTS_NEEDED[self._tool]:
            item = make_measurement(self._tool, self._pending, self._direction, self._cm_per_px)
            self._pending = []
            self.viewport().update()
            self.overlay_created.emit(item)
        self.viewport().update()

    def overlay_at(self, view_pos: QPointF) -> int | None:
        """Index of the topmost overlay drawn within a few pixels of ``view_pos``, or None."""
        h = float((self.frame_size() or (0, 0))[1])
        for i in range(len(self._overlays) - 1, -1, -1):
            for a, b in segments(self._overlays[i], self._to_view, h):
                xy = [(q.x(), q.y()) for q in (view_pos, a, b)]
                if point_segment_distance(*xy) <= HIT_TOLERANCE_PX:
                    return self._overlay_index[i]
        return None

    # ----------------------------------------------------------------- mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        button = event.button()
        if button == Qt.MouseButton.MiddleButton:
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
        elif button == Qt.MouseButton.LeftButton and self._tool is not None:
            self._add_tool_point(event.position())
            event.accept()
        elif button == Qt.MouseButton.LeftButton and self._start_drag(event.position()):
            event.accept()  # dragging a drawing, not panning the frame
        elif (
            button == Qt.MouseButton.RightButton
            and (hit := self.overlay_at(event.position())) is not None
        ):
            self.overlay_delete_requested.emit(hit)
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        # Fast clicking with a tool must not lose points to Qt's double-click detection.
        if event.button() == Qt.MouseButton.LeftButton and self._tool is not None:
            self._add_tool_point(event.position())
            event.accept()
        else:
            super().mouseDoubleClickEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag is not None:
            self._drag_to(event.position())
            event.accept()
            return
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(
                self.horizontalScrollBar().value() - round(delta.x())
            )
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
            event.accept()
            return
        if self._tool is not None:
            self._mouse = self._scene_xy(event.position())
            self.viewport().update()
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self._drag is not None:
            self._drag_to(event.position())
            self._end_drag()
            event.accept()
        elif event.button() == Qt.MouseButton.MiddleButton and self._pan_from is not None:
            self._pan_from = None
            shape = Qt.CursorShape.CrossCursor if self._tool else Qt.CursorShape.OpenHandCursor
            self.viewport().setCursor(shape)
            event.accept()
        elif event.button() == Qt.MouseButton.LeftButton and self._tool is not None:
            event.accept()  # the click was taken on press
        else:
            super().mouseReleaseEvent(event)

    def leaveEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        self._mouse = None
        self.viewport().update()
        super().leaveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        # Only Esc is ours; stepping keys (arrows, Space, J/K/L) belong to the parent panel.
        if event.key() == Qt.Key.Key_Escape and self._tool is not None:
            if self._pending:
                self.cancel_tool_points()
            else:
                self.set_tool(None)
            event.accept()
        else:
            event.ignore()

    # -------------------------------------------------------------- painting
    def _to_view(self, x: float, y: float) -> QPointF:
        return self.viewportTransform().map(QPointF(x, y))

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        painter.save()
        painter.resetTransform()  # paint in viewport pixels: constant widths and text sizes
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self._frame is not None:
            h = float(self._frame.shape[0])
            if self._skeleton:
                paint_skeleton(painter, self._skeleton, self._to_view, 1.0)
            paint_overlays(painter, self._overlays, self._to_view, h, 1.0)
            self._paint_tool_preview(painter, h)
        if self._message:
            paint_message(painter, QRectF(self.viewport().rect()), self._message)
        painter.restore()

    def _paint_tool_preview(self, painter: QPainter, h: float) -> None:
        if self._tool is None:
            return
        pts = list(self._pending) + ([self._mouse] if self._mouse else [])
        if len(pts) == POINTS_NEEDED[self._tool]:
            # The measurement as it would be if clicked now, with its live value.
            item = make_measurement(self._tool, pts, self._direction, self._cm_per_px)
            paint_overlays(painter, [item], self._to_view, h, 1.0)
        elif len(pts) >= 2:
            colour = KIND_COLOUR[self._tool]
            dev = [self._to_view(*p) for p in pts]
            for a, b in pairwise(dev):
                outlined(
                    painter,
                    QLineF(a, b),
                    colour,
                    1.0,
                    dashed=b is dev[-1] and self._mouse is not None,
                )
        for p in self._pending:
            dot(painter, self._to_view(*p), KIND_COLOUR[self._tool], 1.0)

    def render_current(self, with_overlays: bool = True) -> QImage:
        """The current frame at native resolution, with skeleton and overlays if asked.

        Returns a null ``QImage`` when no frame is shown.
        """
        if self._qimage is None or self._frame is None:
            return QImage()
        image = self._qimage.convertToFormat(QImage.Format.Format_RGB32)  # a deep copy
        if with_overlays and (self._overlays or self._skeleton):
            h = float(self._frame.shape[0])
            ui = max(1.0, min(image.width(), image.height()) / 600.0)  # readable in the PNG

            def ident(x: float, y: float) -> QPointF:
                return QPointF(x, y)

            painter = QPainter(image)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            if self._skeleton:
                paint_skeleton(painter, self._skeleton, ident, ui)
            paint_overlays(painter, self._overlays, ident, h, ui)
            painter.end()
        return image


# --------------------------------------------------------------------- painting helpers
