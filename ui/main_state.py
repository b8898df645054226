"""The main window's size and place on screen, and the small widgets that keep it fitting a
1280×720 laptop (a scrolling wrapper, an eliding status label).
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QApplication, QLabel, QScrollArea, QSizePolicy, QWidget


def scrolling(widget: QWidget) -> QScrollArea:
    """Wrap a tall panel so the window still fits a 1280×720 laptop screen."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(widget)
    return scroll


class ElidedLabel(QLabel):
    """A status-bar label that shortens its text (full text in the tooltip) instead of
    widening the window: a long data-folder path kept the window from fitting 1280 px."""

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(80)
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def sizeHint(self):  # type: ignore[no-untyped-def]  # noqa: N802 - Qt API
        hint = super().sizeHint()
        hint.setWidth(min(self.fontMetrics().horizontalAdvance(self._full) + 8, 520))
        return hint

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(
            self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, self.width())
        )


class WindowStateMixin:
    """Restore the window's geometry, never larger than the screen it opens on."""

    def _restore_geometry(self) -> None:
        settings = QSettings()
        geometry = settings.value("main/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1360, 860)
        self._fit_screen()
        state = settings.value("main/splitter")
        if isinstance(state, QByteArray):
            self.splitter.restoreState(state)
        visible = settings.value("main/patient_list_visible", True)
        self.set_patient_list_visible(str(visible).lower() not in ("false", "0"))

    def _fit_screen(self) -> None:
        """Never larger than the screen it opens on (1360×860 was cut off at 1280×720)."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None:
            return
        avail = screen.availableGeometry()
        # the window frame (title bar, borders) comes on top of the client size
        frame_w = max(0, self.frameGeometry().width() - self.geometry().width()) or 8
        frame_h = max(0, self.frameGeometry().height() - self.geometry().height()) or 36
        width = min(self.width(), avail.width() - frame_w)
        height = min(self.height(), avail.height() - frame_h)
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        x = min(max(self.x(), avail.left()), avail.right() - width - frame_w + 1)
        y = min(max(self.y(), avail.top()), avail.bottom() - height - frame_h + 1)
        self.move(x, y)
