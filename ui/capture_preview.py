"""Widgets shared by the capture panel and its second camera: the live picture with the set-up
overlays (centre line, level line, rates), and the recording counts.

The picture is painted from the newest preview frame only; the panel pulls on its display timer.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QFormLayout, QLabel, QSizePolicy, QWidget

from app.capture import (
    PreviewFrame,
)


class PreviewView(QWidget):
    """Paints the preview image with squaring aids: a vertical centre line, a level line the
    clinician can drag onto the belt edge, and the format / frame-rate text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(480, 270)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.image: QImage | None = None
        self.info = ""
        self.badge = ""
        self.placeholder = "No picture"
        self.level = 0.78  # fraction of the picture height; dragged onto the belt
        self.setToolTip(
            "Drag the yellow line onto the treadmill belt to check the camera is level."
        )

    def set_frame(self, frame: PreviewFrame | None) -> None:
        if frame is None:
            self.image = None
        else:
            img = frame.image
            h, w = img.shape[:2]
            # Copy: the QImage must not outlive the numpy buffer it points to.
            self.image = QImage(
                img.data, w, h, int(img.strides[0]), QImage.Format.Format_BGR888
            ).copy()
        self.update()

    def _target(self) -> tuple[float, float, float, float]:
        if self.image is None or self.image.width() == 0:
            return 0.0, 0.0, float(self.width()), float(self.height())
        scale = min(self.width() / self.image.width(), self.height() / self.image.height())
        w, h = self.image.width() * scale, self.image.height() * scale
        return (self.width() - w) / 2, (self.height() - h) / 2, w, h

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self._drag(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._drag(event)

    def _drag(self, event: QMouseEvent) -> None:
        _x, y, _w, h = self._target()
        if h > 0:
            self.level = min(0.98, max(0.02, (event.position().y() - y) / h))
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#1b1f23"))
        if self.image is None:
            p.setPen(QColor("#aab4bc"))
            f = p.font()
            f.setPointSize(12)
            p.setFont(f)
            box = self.rect().adjusted(40, 20, -40, -20)
            p.drawText(
                box, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder
            )
            return
        x, y, w, h = self._target()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        p.drawImage(QRectF(x, y, w, h), self.image)
        pen = QPen(QColor(80, 220, 255, 200), 1.5, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.drawLine(QPointF(x + w / 2, y), QPointF(x + w / 2, y + h))
        p.setPen(QPen(QColor(255, 214, 0, 220), 2))
        ly = y + h * self.level
        p.drawLine(QPointF(x, ly), QPointF(x + w, ly))
        font = QFont(p.font())
        font.setPointSize(10)
        p.setFont(font)
        if self.info:
            rect = p.fontMetrics().boundingRect(self.info).adjusted(-6, -3, 6, 3)
            # Bottom-left: the top of the picture often carries the camera's own time stamp.
            rect.moveBottomLeft(QPointF(x + 8, y + h - 8).toPoint())
            p.fillRect(rect, QColor(0, 0, 0, 150))
            p.setPen(QColor("white"))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.info)
        if self.badge:
            font.setBold(True)
            p.setFont(font)
            rect = p.fontMetrics().boundingRect(self.badge).adjusted(-8, -4, 8, 4)
            rect.moveTopRight(QPointF(x + w - 8, y + 8).toPoint())
            p.fillRect(
                rect, QColor(200, 30, 45, 220) if "REC" in self.badge else QColor(31, 111, 139, 220)
            )
            p.setPen(QColor("white"))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.badge)


def file_size_text(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


class RecordingCounts(QWidget):
    """File size and frames captured / saved / dropped of one camera's recording."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.size_value = QLabel("–")
        self.captured_value = QLabel("–")
        self.written_value = QLabel("–")
        self.dropped_value = QLabel("–")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        form.addRow("File size", self.size_value)
        form.addRow("Frames captured", self.captured_value)
        form.addRow("Frames saved", self.written_value)
        form.addRow("Frames dropped", self.dropped_value)

    def show_counts(
        self, captured: int, written: int, dropped: int, size_bytes: int | None
    ) -> None:
        """Live stats while recording, or a finished recording's result."""
        self.captured_value.setText(str(captured))
        self.written_value.setText(str(written))
        self.dropped_value.setText(str(dropped))
        if size_bytes is not None:
            self.size_value.setText(file_size_text(size_bytes))
