"""Parts of the Practice tab that only show things: the session's trend plot and the live
readout (big cadence number on its colour band, elapsed time, time on target, analysis rate)."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.practice.live import AnalysisStats
from app.practice.live_cadence import CadenceEstimate
from app.practice.session import PracticeSession, Sample, State
from ui.runner_view import COLOURS, WORDS


def mmss(seconds: float) -> str:
    m, s = divmod(int(max(0.0, seconds)), 60)
    return f"{m:02d}:{s:02d}"


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.0f} %"


class PracticeTrend(pg.PlotWidget):
    """Cadence over the session: with the metronome (green) and without (orange), the target
    and the tolerance band as lines."""

    def __init__(self) -> None:
        pg.setConfigOptions(antialias=True)
        super().__init__(background="w")
        self.setMinimumHeight(150)
        self.setMaximumHeight(220)
        self.setLabel("left", "spm")
        self.setLabel("bottom", "session time", units="s")
        self.showGrid(y=True, alpha=0.3)
        self.setMouseEnabled(False, False)
        # What the lines mean, said on the plot (before a session it was an empty grid).
        self.setTitle(
            "Cadence this session: <span style='color:#00803c'>with the metronome</span>, "
            "<span style='color:#c2410c'>without</span>",
            size="9pt",
        )
        self.setXRange(0, 60, padding=0)  # a minute, until there are samples
        self.curve_cue = self.plot(pen=pg.mkPen("#00803c", width=2), name="with metronome")
        self.curve_free = self.plot(pen=pg.mkPen("#c2410c", width=2), name="without metronome")
        self.target_line = pg.InfiniteLine(angle=0, pen=pg.mkPen("#444", width=1))
        dash = pg.mkPen("#888", style=Qt.PenStyle.DashLine)
        self.tol_lines = [pg.InfiniteLine(angle=0, pen=dash) for _ in range(2)]
        for item in (self.target_line, *self.tol_lines):
            self.addItem(item)

    def show_samples(self, samples: list[Sample], target: float, tol: float) -> None:
        self.target_line.setValue(target)
        self.tol_lines[0].setValue(target - tol)
        self.tol_lines[1].setValue(target + tol)
        t = [x.t for x in samples]
        cue = [x.spm if (x.cue and x.spm is not None) else math.nan for x in samples]
        free = [x.spm if (not x.cue and x.spm is not None) else math.nan for x in samples]
        self.curve_cue.setData(t, cue, connect="finite")
        self.curve_free.setData(t, free, connect="finite")
        if t:
            self.enableAutoRange(axis="x")
        else:
            self.setXRange(0, 60, padding=0)


class LiveReadout(QWidget):
    """The clinician's live numbers. ``show_state`` in; it changes nothing itself."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cadence_label = QLabel("—")
        self.cadence_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cadence_label.setMinimumHeight(90)
        f = QFont(self.cadence_label.font())
        f.setPixelSize(56)
        f.setBold(True)
        self.cadence_label.setFont(f)
        self.band_label = QLabel()
        self.band_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.band_label.setWordWrap(True)
        self.elapsed_label = QLabel("00:00")
        self.on_target_label = QLabel()
        self.on_target_label.setWordWrap(True)
        self.analysis_label = QLabel()
        self.analysis_label.setObjectName("muted")
        self.analysis_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.cadence_label, self.band_label, self.elapsed_label, self.on_target_label):
            layout.addWidget(w)

    def show_state(self, cadence: float | None, band: str | None, note: str,
                   session: PracticeSession | None, now: float) -> None:  # fmt: skip
        bg, fg = COLOURS[band]
        self.cadence_label.setText("—" if cadence is None else f"{cadence:.0f}")
        self.cadence_label.setStyleSheet(f"background: {bg}; color: {fg}; border-radius: 6px;")
        self.band_label.setText(WORDS[band] if band else note)
        s = session
        if s is not None and s.started_at is not None:
            state = {State.PAUSED: "  (paused)", State.STOPPED: "  (ended)"}.get(s.state, "")
            override = "  · metronome override" if s.overridden else ""
            self.elapsed_label.setText(f"Elapsed {mmss(s.elapsed(now))}{state}{override}")
            t = s.totals()
            self.on_target_label.setText(
                f"Time on target: {pct(t.percent())} · with metronome {pct(t.percent(True))}"
                f" · without {pct(t.percent(False))}"
            )

    def show_analysis(self, st: AnalysisStats, est: CadenceEstimate | None) -> None:
        rate = (f"analysed at {st.camera_fps / st.decimation:.0f} of {st.camera_fps:.0f} fps"
                if st.decimation > 1 else "every frame analysed")  # fmt: skip
        conf = f", periodicity {est.confidence:.2f}" if est is not None else ""
        self.analysis_label.setText(f"Live cadence: {rate}; {st.skipped} skipped{conf}.")
