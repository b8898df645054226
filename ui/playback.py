"""Transport bar of the annotation panel: step, jump, play at slow speeds, go to frame."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QStyle,
    QWidget,
)

SPEEDS = (0.125, 0.25, 0.5, 1.0)


class TransportBar(QWidget):
    """Buttons and a frame box; emits ``frame_requested`` and drives playback with a timer.

    Playback asks for frames at the file's display rate × speed; the panel shows the newest
    frame that is ready (frames are never queued), so slow machines skip rather than lag.
    """

    frame_requested = Signal(int)
    playing_changed = Signal(bool)
    #: "Go to frame": Enter in the frame box (with its value); the owner goes there and takes the
    #: focus back, so the arrow keys step again.
    go_to_entered = Signal(int)
    #: Esc in the frame box: the owner shows the current frame again and takes the focus back.
    frame_box_left = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.frame_count = 0
        self.current = 0
        self.display_fps = 30.0
        self._speed_index = 1
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._play_pos = 0.0

        style = self.style()
        SP = QStyle.StandardPixmap  # noqa: N806
        # Icons from the style, not font glyphs: "⏸" and "▶" render as boxes on Linux fonts.
        self._play_icon = style.standardIcon(SP.SP_MediaPlay)
        self._pause_icon = style.standardIcon(SP.SP_MediaPause)
        icons = {"back1": style.standardIcon(SP.SP_MediaSeekBackward),
                 "fwd1": style.standardIcon(SP.SP_MediaSeekForward)}  # fmt: skip

        def button(text: str, tip: str, slot, icon=None) -> QPushButton:  # type: ignore[no-untyped-def]
            b = QPushButton(text)
            if icon is not None:
                b.setIcon(icon)
            b.setToolTip(tip)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(slot)
            # Never narrower than the text: clinic PCs use larger fonts than the test screen.
            # The icons replace the glyphs ("▶ " was as wide), so the old widths still hold.
            b.setMinimumWidth(max(48, b.fontMetrics().horizontalAdvance(text) + 24))
            return b

        self.back10 = button("−10", "Back 10 frames (Shift+←)", lambda: self.step(-10))
        self.back1 = button("1", "Back one frame (←)", lambda: self.step(-1), icons["back1"])
        self.play_btn = button(
            "Play", "Play / pause (Space). J slower, K pause, L faster", self.toggle,
            self._play_icon,
        )  # fmt: skip
        self.play_btn.setMinimumWidth(80)
        self.fwd1 = button("1", "Forward one frame (→)", lambda: self.step(1), icons["fwd1"])
        self.fwd10 = button("+10", "Forward 10 frames (Shift+→)", lambda: self.step(10))
        self.speed = QComboBox()
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}×", s)
        self.speed.setCurrentIndex(self._speed_index)
        self.speed.setToolTip("Playback speed (J slower, L faster)")
        self.speed.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.speed.currentIndexChanged.connect(self._speed_changed)
        self.frame_box = QSpinBox()
        self.frame_box.installEventFilter(self)  # Enter: go there; Esc: leave the field
        self.frame_box.setToolTip("Go to frame (G)")
        self.frame_box.setKeyboardTracking(False)
        self.frame_box.valueChanged.connect(
            lambda v: self.frame_requested.emit(v) if v != self.current else None
        )
        self.frame_total = QLabel("/ 0")
        self.time_label = QLabel("")
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSize(11)
        self.time_label.setFont(mono)
        self.time_label.setToolTip("Real (capture) time of this frame since the first frame")
        self.time_label.setMinimumWidth(
            self.time_label.fontMetrics().horizontalAdvance("t = 0000.000 s") + 8
        )

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 2, 0, 2)
        for w in (self.back10, self.back1, self.play_btn, self.fwd1, self.fwd10):
            row.addWidget(w)
        row.addSpacing(6)
        row.addWidget(self.speed)
        row.addSpacing(6)
        row.addWidget(QLabel("Frame"))
        row.addWidget(self.frame_box)
        row.addWidget(self.frame_total)
        row.addSpacing(6)
        row.addWidget(self.time_label, 1)

    # --- state -------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """Go to frame: Enter goes there (``go_to_entered``), Esc leaves the field."""
        if watched is self.frame_box and event.type() == QEvent.Type.KeyPress:
            key = event.key()  # type: ignore[attr-defined]
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.frame_box.interpretText()
                self.go_to_entered.emit(self.frame_box.value())
                return True
            if key == Qt.Key.Key_Escape:
                self.frame_box_left.emit()
                return True
        return super().eventFilter(watched, event)

    def set_clip(self, frame_count: int, display_fps: float) -> None:
        self.stop()
        self.frame_count = frame_count
        self.display_fps = display_fps if display_fps and display_fps > 0 else 30.0
        self.frame_box.blockSignals(True)
        self.frame_box.setRange(0, max(0, frame_count - 1))
        self.frame_box.blockSignals(False)
        self.frame_total.setText(f"/ {max(0, frame_count - 1)}")

    def show_position(self, frame: int, real_time_s: float | None) -> None:
        self.current = frame
        self.frame_box.blockSignals(True)
        self.frame_box.setValue(frame)
        self.frame_box.blockSignals(False)
        self.time_label.setText(f"t = {real_time_s:.3f} s" if real_time_s is not None else "")

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    @property
    def speed_factor(self) -> float:
        return SPEEDS[self._speed_index]

    # --- actions -----------------------------------------------------------------------------
    def step(self, n: int) -> None:
        self.stop()
        if self.frame_count:
            self.frame_requested.emit(max(0, min(self.frame_count - 1, self.current + n)))

    def toggle(self) -> None:
        self.stop() if self.playing else self.play()

    def play(self) -> None:
        if not self.frame_count:
            return
        if self.current >= self.frame_count - 1:
            self.frame_requested.emit(0)
        self._play_pos = float(self.current)
        self._timer.start(max(5, int(1000 / min(60.0, self.display_fps * self.speed_factor))))
        self.play_btn.setText("Pause")
        self.play_btn.setIcon(self._pause_icon)
        self.playing_changed.emit(True)

    def stop(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.play_btn.setText("Play")
            self.play_btn.setIcon(self._play_icon)
            self.playing_changed.emit(False)

    def slower(self) -> None:
        self.speed.setCurrentIndex(max(0, self._speed_index - 1))

    def faster(self) -> None:
        if not self.playing:
            self.play()
            return
        self.speed.setCurrentIndex(min(len(SPEEDS) - 1, self._speed_index + 1))

    def _speed_changed(self, index: int) -> None:
        self._speed_index = index
        if self.playing:
            self.stop()
            self.play()

    def _tick(self) -> None:
        interval_s = self._timer.interval() / 1000.0
        self._play_pos += self.display_fps * self.speed_factor * interval_s
        frame = int(self._play_pos)
        if frame >= self.frame_count:
            self.stop()
            return
        if frame != self.current:
            self.frame_requested.emit(frame)


class CaptureRateBox(QWidget):
    """The recording's capture rate (frames the camera took per real second) and the file's."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spin = QDoubleSpinBox()
        self.spin.setRange(1.0, 2000.0)
        self.spin.setDecimals(2)
        self.spin.setSuffix(" frames/s")
        self.spin.setKeyboardTracking(False)
        self.spin.setToolTip(
            "Capture rate: how many frames the camera took per real second. Phone slow-motion files "
            "often play at 30 fps but were captured at 120 or 240 fps; every time figure (cadence, "
            "contact time) uses this rate."
        )
        self.note = QLabel()
        self.note.setObjectName("muted")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Capture rate"))
        row.addWidget(self.spin)
        row.addWidget(self.note)
