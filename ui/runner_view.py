"""The runner-facing view: one big, high-contrast window for a second screen by the treadmill.

A huge cadence number on a full-width colour band (green on target, amber too slow, blue too
fast), the words as well as the colour (colour-blind runners, glare), the target, and a beat
light that flashes with the metronome. Readable from 3 m: the number's height is a third of
the window's. F11 or a double-click toggles full screen; Esc leaves it. It only shows what the
practice panel sets (``set_state``, ``flash``); it never changes the session.
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter
from PySide6.QtWidgets import QWidget

#: (background, text) per band; high contrast on both.
COLOURS = {
    "on": ("#00a651", "#000000"),
    "slow": ("#ffb300", "#000000"),
    "fast": ("#1e63d6", "#ffffff"),
    None: ("#202326", "#e8e8e8"),
}
WORDS = {"on": "ON TARGET", "slow": "TOO SLOW · quicker steps", "fast": "TOO FAST", None: ""}
FLASH_S = 0.15


class RunnerView(QWidget):
    """A top-level window (no parent needed) the clinician drags to the runner's screen."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Stride Clinic — runner view")
        self.setMinimumSize(480, 320)
        self.resize(1024, 640)
        self.cadence: float | None = None
        self.band: str | None = None
        self.target: float | None = None
        self.note = ""
        self.cue = False
        self._flash = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self._fade)

    # -- what the panel sets ---------------------------------------------------------------
    def set_state(self, cadence: float | None, band: str | None, target: float | None,
                  note: str = "", cue: bool = False) -> None:  # fmt: skip
        state = (None if cadence is None else round(cadence), band, target, note, cue)
        old = (None if self.cadence is None else round(self.cadence), self.band, self.target,
               self.note, self.cue)  # fmt: skip
        self.cadence, self.band, self.target, self.note, self.cue = cadence, band, target, note, cue
        if state != old:
            self.update()

    def flash(self) -> None:
        """A metronome beat: light the beat lamp."""
        self._flash.start()
        self._timer.start()
        self.update()

    def big_text(self) -> str:
        return "—" if self.cadence is None else f"{self.cadence:.0f}"

    def band_text(self) -> str:
        return WORDS[self.band] if self.cadence is not None else self.note

    # -- window ----------------------------------------------------------------------------
    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_F11:
            self.toggle_full_screen()
        elif event.key() == Qt.Key.Key_Escape and self.isFullScreen():
            self.showNormal()
        else:
            super().keyPressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self.toggle_full_screen()

    def _level(self) -> float:
        if not self._flash.isValid():
            return 0.0
        return max(0.0, 1.0 - self._flash.elapsed() / 1000.0 / FLASH_S)

    def _fade(self) -> None:
        if self._level() <= 0:
            self._timer.stop()
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        bg, fg = COLOURS[self.band if self.cadence is not None else None]
        p.fillRect(self.rect(), QColor("#000000"))
        band = QRectF(0, h * 0.12, w, h * 0.62)
        p.fillRect(band, QColor(bg))
        p.setPen(QColor(fg))
        f = QFont(self.font())
        f.setBold(True)
        f.setPixelSize(max(24, int(h * 0.36)))
        p.setFont(f)
        p.drawText(band.adjusted(0, 0, 0, -h * 0.12), Qt.AlignmentFlag.AlignCenter, self.big_text())
        f.setPixelSize(max(14, int(h * 0.075)))
        p.setFont(f)
        p.drawText(band.adjusted(0, band.height() - h * 0.14, 0, 0), Qt.AlignmentFlag.AlignCenter,
                   self.band_text())  # fmt: skip
        p.setPen(QColor("#ffffff"))
        f.setPixelSize(max(12, int(h * 0.07)))
        p.setFont(f)
        target = f"Target {self.target:.0f} steps/min" if self.target else ""
        p.drawText(QRectF(w * 0.03, h * 0.76, w * 0.7, h * 0.22),
                   Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, target)  # fmt: skip
        side = h * 0.16
        lamp = QRectF(w - side * 1.4, h * 0.79, side, side)
        level = self._level() if self.cue else 0.0
        idle, hot = QColor(70, 70, 70), QColor(255, 255, 255)
        c = QColor(
            int(idle.red() + (hot.red() - idle.red()) * level),
            int(idle.green() + (hot.green() - idle.green()) * level),
            int(idle.blue() + (hot.blue() - idle.blue()) * level),
        )
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(c)
        p.drawEllipse(lamp)
        p.end()
