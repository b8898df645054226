"""Landing measures at initial contact and their plots (needs pose keypoints).

Per-step values over time, and knee/shank angle curves over the gait cycle (initial contact to
the same foot's next initial contact), left and right in their foot colours.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.analysis.events import EventType, Foot, FootEvent
from app.analysis.keypoints import JOINTS, KeypointTrack
from app.analysis.metrics import LandingMetrics
from ui.stat_text import stat_cell, stat_tip

COLOURS = {"left": "#2b7bb9", "right": "#e07b00"}
HIP, KNEE, ANKLE = JOINTS.index("hip"), JOINTS.index("knee"), JOINTS.index("ankle")


def cycle_curves(
    events: list[FootEvent], track: KeypointTrack, direction: str, foot: Foot, points: int = 101
) -> dict[str, np.ndarray]:
    """Knee flexion and shank angle over each gait cycle of ``foot``, resampled to 0–100 %.

    Uses the leading leg at each contact like :func:`app.analysis.metrics.landing_metrics`
    would, approximated here by the keypoint label of the same side; a cycle with missing
    keypoints is skipped. Returns arrays of shape (cycles, points).
    """
    d = 1.0 if direction == "right" else -1.0
    ics = sorted(e.time_s for e in events if e.type is EventType.INITIAL_CONTACT and e.foot is foot)
    times = track.times - track.times[0]
    s = 0 if foot is Foot.LEFT else 1
    knee, shank = [], []
    grid = np.linspace(0, 1, points)
    for a, b in zip(ics[:-1], ics[1:], strict=False):
        if b - a <= 0 or b - a > 2.0:
            continue
        sel = (times >= a) & (times <= b)
        if sel.sum() < 5:
            continue
        xy = track.xy[sel, s]
        hip, kn, an = xy[:, HIP], xy[:, KNEE], xy[:, ANKLE]
        v1, v2 = hip - kn, an - kn
        cosang = np.sum(v1 * v2, axis=1) / (np.linalg.norm(v1, axis=1) * np.linalg.norm(v2, axis=1))
        flex = 180.0 - np.degrees(np.arccos(np.clip(cosang, -1, 1)))
        sh = np.degrees(np.arctan2(d * (an[:, 0] - kn[:, 0]), an[:, 1] - kn[:, 1]))
        if not (np.isfinite(flex).all() and np.isfinite(sh).all()):
            continue
        phase = (times[sel] - a) / (b - a)
        knee.append(np.interp(grid, phase, flex))
        shank.append(np.interp(grid, phase, sh))
    return {"knee_flexion_deg": np.array(knee), "shank_angle_deg": np.array(shank)}


class LandingView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=True, background="w", foreground="#333")
        self.note = QLabel(
            "Landing measures need the runner's keypoints: run “Detect contacts automatically…” once."
        )
        self.note.setWordWrap(True)
        self.note.setObjectName("muted")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["At contact", "Left", "Right"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        h = self.table.horizontalHeader()
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        h.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(175)
        self.table.setMaximumHeight(290)  # two-line cells when the frame-rate uncertainty shows
        self.table.setWordWrap(False)
        self.steps_plot = pg.PlotWidget(title="Heel ahead of hip, each step")
        self.steps_plot.setLabel("bottom", "time (s)")
        self.steps_plot.addLegend(offset=(-5, 5))
        self.cycle_plot = pg.PlotWidget(title="Knee (solid) and shank (dashed), degrees")
        self.cycle_plot.setLabel("bottom", "% of stride, contact to contact")
        for p in (self.steps_plot, self.cycle_plot):
            p.setMinimumHeight(140)
            p.showGrid(x=True, y=True, alpha=0.2)
            p.setMouseEnabled(x=False, y=False)
        self.rate_note = QLabel()
        self.rate_note.setWordWrap(True)
        self.rate_note.setObjectName("muted")
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setObjectName("warning")
        self.warnings.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(self.table)
        layout.addWidget(self.rate_note)
        layout.addWidget(self.steps_plot, 1)
        layout.addWidget(self.cycle_plot, 1)
        layout.addWidget(self.warnings)
        self.show_landing(None, [], None, "right")

    def show_landing(
        self,
        m: LandingMetrics | None,
        events: list[FootEvent],
        track: KeypointTrack | None,
        direction: str,
    ) -> None:
        self.steps_plot.clear()
        self.cycle_plot.clear()
        has = m is not None and track is not None
        self.note.setVisible(not has)
        for w in (self.table, self.rate_note, self.steps_plot, self.cycle_plot):
            w.setVisible(has)
        if not has:
            self.warnings.hide()
            return
        # Always % of leg length (comparable between every visit), plus cm when calibrated.
        stats = [m.overstride, m.shank_angle_deg, m.knee_flexion_deg, m.foot_strike_angle_deg]
        rows = [
            (
                "Overstride (% leg)",
                stat_cell(m.overstride["left"], " %", digits=1),
                stat_cell(m.overstride["right"], " %", digits=1),
            ),
            (
                "Shank angle",
                stat_cell(m.shank_angle_deg["left"], "°", digits=1),
                stat_cell(m.shank_angle_deg["right"], "°", digits=1),
            ),
            (
                "Knee flexion",
                stat_cell(m.knee_flexion_deg["left"], "°", digits=1),
                stat_cell(m.knee_flexion_deg["right"], "°", digits=1),
            ),
            (
                "Foot-strike angle",
                stat_cell(m.foot_strike_angle_deg["left"], "°", digits=1),
                stat_cell(m.foot_strike_angle_deg["right"], "°", digits=1),
            ),
            (
                "Strike pattern",
                m.foot_strike_pattern.get("left") or "—",
                m.foot_strike_pattern.get("right") or "—",
            ),
        ]
        # "≈": the left/right difference is within what the frame rate can resolve.
        names = ("overstride", "shank angle", "knee flexion", "foot-strike angle")
        rows = [
            ((r[0] + "  ≈", *r[1:]) if i < len(names) and names[i] in m.unresolved else r)
            for i, r in enumerate(rows)
        ]
        if m.overstride_cm:  # last, so the row indices of tips and stats above stay put
            rows.append((
                "Overstride (cm, calibrated)",
                stat_cell(m.overstride_cm["left"], " cm", digits=1),
                stat_cell(m.overstride_cm["right"], " cm", digits=1),
            ))  # fmt: skip
        self.rate_note.setText(self._rate_note(m))
        self.table.setRowCount(len(rows))
        tips = {
            1: "Positive: ankle ahead of the knee at landing. A near-vertical shank is the aim (Lieberman 2015). "
            "Real change only beyond 2.2–4.8° (Dingenen 2018).",
            2: "180° − hip-knee-ankle angle. Real change only beyond 2.3–3.8° (Dingenen 2018).",
            0: "Horizontal heel-to-hip distance at initial contact; no validated cut-off: track change within the runner.",
            3: "Sole against the belt minus a reference angle; rearfoot > 7.4°, forefoot < −0.8° (Mo 2021/2023).",
        }
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 0 and r in tips:
                    item.setToolTip(tips[r])
                elif c and r < len(stats):
                    item.setToolTip(
                        stat_tip(
                            stats[r]["left" if c == 1 else "right"], fps=m.fps, over="contacts"
                        )
                    )
                self.table.setItem(r, c, item)
        self.table.resizeRowsToContents()
        self._plot_steps(m)
        self._plot_cycles(events, track, direction)
        self.warnings.setText("\n".join(f"⚠ {w}" for w in m.warnings))
        self.warnings.setVisible(bool(m.warnings))

    @staticmethod
    def _rate_note(m: LandingMetrics) -> str:
        if not m.fps:
            return ""
        text = (
            f"[±…] uncertainty of each mean from the frame rate alone ({m.fps:.0f} frames/s); "
            "bars on the plot: the same for each contact."
        )
        if m.unresolved:
            text += (
                f" ≈ {', '.join(m.unresolved)}: the left/right difference is within it, so it "
                "is no evidence of an asymmetry."
            )
        return text

    def _plot_steps(self, m: LandingMetrics) -> None:
        key = "overstride"
        self.steps_plot.setTitle("Heel ahead of hip, each step (% leg)")
        for side in ("left", "right"):
            pts = [
                (float(r["time_s"]), float(r[key]))  # type: ignore[arg-type]
                for r in m.per_step
                if r.get("foot") == side and r.get(key) is not None and math.isfinite(float(r[key]))  # type: ignore[arg-type]
            ]
            bars = [
                (float(r["time_s"]), float(r[key]), float(r[f"{key}_fps_u"]))  # type: ignore[arg-type]
                for r in m.per_step
                if r.get("foot") == side
                and r.get(key) is not None
                and isinstance(r.get(f"{key}_fps_u"), float)
            ]
            if bars:
                bx, by, bu = (np.array(v) for v in zip(*bars, strict=True))
                self.steps_plot.addItem(
                    pg.ErrorBarItem(x=bx, y=by, top=bu, bottom=bu, beam=0.05, pen=COLOURS[side])
                )
            if pts:
                x, y = zip(*pts, strict=True)
                self.steps_plot.plot(
                    x,
                    y,
                    pen=None,
                    symbol="o",
                    symbolSize=8,
                    symbolBrush=COLOURS[side],
                    symbolPen=None,
                    name=side,
                )

    def _plot_cycles(self, events: list[FootEvent], track: KeypointTrack, direction: str) -> None:
        grid = np.linspace(0, 100, 101)
        for foot in Foot:
            both = cycle_curves(events, track, direction, foot)
            colour = pg.mkColor(COLOURS[foot.value])
            faint = pg.mkColor(colour)
            faint.setAlpha(45)
            for name, style in (
                ("knee_flexion_deg", Qt.PenStyle.SolidLine),
                ("shank_angle_deg", Qt.PenStyle.DashLine),
            ):
                curves = both[name]
                if len(curves) == 0:
                    continue
                for c in curves:
                    self.cycle_plot.plot(grid, c, pen=pg.mkPen(faint, width=1, style=style))
                self.cycle_plot.plot(
                    grid, curves.mean(axis=0), pen=pg.mkPen(colour, width=3, style=style)
                )
