"""Trend plots of the patient history (pyqtgraph): one plot per metric, stacked on one canvas.

Each plot draws the per-visit means as points joined across visits (``connect='finite'``, so a
visit without a measurement is a gap, not a zero), SD error bars, a shaded noise band around the
first measured value, and hover tooltips with mean ± SD and n. A handful of items per plot and
none per point, so 100 visits draw at once.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QGraphicsGridLayout, QGraphicsItem, QSizePolicy

from app.history.trends import PatientHistory, Series
from ui.visit_labels import visit_labels

DAY_S = 86400.0
INK = "#26323a"
COLORS = {
    "cadence": "#1f6f8b",
    "contact_time": "#5a6f2f",
    "overstride": "#8b3a62",
    "shank_angle": "#6a4c93",
    "knee_flexion": "#2f7d6d",
    "pain_now": "#c0392b",
    "pain_worst_24h": "#7b241c",
    "pain_running": "#e67e22",
    "disability": "#34495e",
    "psfs_mean": "#16a085",
    "psfs_running": "#0e6655",
}
TARGET_COLOR = "#d35400"
#: Pain scores often coincide: distinct symbols and line styles keep each visible.
SYMBOLS = {"pain_worst_24h": "s", "pain_running": "d", "psfs_running": "s"}
DASHED = {"pain_worst_24h", "psfs_running"}
#: Drawn last as an open square, so it frames an equal score instead of hiding it.
HOLLOW = {"pain_worst_24h"}
BAND_ALPHA = 38


def to_x(dates: list[dt.date]) -> np.ndarray:
    """Dates as seconds since the epoch (midnight UTC) for the date axis.

    Visits on the same day are spread apart symmetrically around their day (by 1.5 % of the
    plotted span, at least half a day) so their points, bars and tooltips do not sit on top
    of one another; their tooltips say “visit k of n that day”.
    """
    epoch = dt.date(1970, 1, 1)
    x = np.array([(d - epoch).days * DAY_S for d in dates], float)
    if len(x) < 2 or len(set(dates)) == len(dates):
        return x
    step = max(0.5 * DAY_S, 0.015 * (x.max() - x.min()))
    for day in {d for d in dates if dates.count(d) > 1}:
        idx = [i for i, d in enumerate(dates) if d == day]
        for k, i in enumerate(idx):
            x[i] += (k - (len(idx) - 1) / 2) * step
    return x


def _fmt(v: float, unit: str) -> str:
    digits = 0 if unit in ("steps/min", "ms") else 1
    return f"{v:.{digits}f}"


def _tip_text(series: Series, dates: list[dt.date], i: int) -> str:
    """Tooltip of visit ``i``: date, mean ± SD and n (built only when hovered)."""
    m, sd, n = series.mean[i], series.sd[i], int(series.n[i])
    when = visit_labels(dates)[i]
    text = f"{series.label}\n{when}: {_fmt(m, series.unit)} {series.unit}"
    if np.isfinite(sd):
        text += f" ± {_fmt(sd, series.unit)} (SD)"
    if series.kind == "gait":
        text += f"\nn = {n} steps"
    res = series.resolution[i] if series.resolution is not None else math.nan
    if np.isfinite(res):
        digits = 2 if res < 1 else 0
        text += (
            f"\nOne video frame = {res:.{digits}f} {series.unit} at this visit's frame rate: a "
            "change is never called real within it"
        )
    return text


def error_bars(x: np.ndarray, y: np.ndarray, sd: np.ndarray, color: str) -> pg.PlotCurveItem:
    """± 1 SD bars with short beams at both ends, as one item of separate line segments.

    Drawn with ``drawLines``: pyqtgraph's ErrorBarItem strokes one path of every bar and beam,
    which at this pen width cost 5 ms a plot on each repaint (two thirds of drawing a history
    of 100 visits with landing figures)."""
    half = 1.25 * DAY_S  # beams 2.5 days wide
    lo, hi = y - sd, y + sd
    xs = np.column_stack([x, x, x - half, x + half, x - half, x + half]).ravel()
    ys = np.column_stack([lo, hi, lo, lo, hi, hi]).ravel()
    bars = pg.PlotCurveItem(xs, ys, connect="pairs", pen=pg.mkPen(color, width=1.2))
    bars.setSegmentedLineMode("on")
    return bars


class DateAxis(pg.DateAxisItem):
    """A date axis whose ticks are worked out once for every plot of the History: the plots share
    one date range and (two equal columns) one axis width, and ``DateAxisItem`` searches its
    ticks with a time-zone look-up per candidate (~1.7 ms an axis at each first paint).

    What the search depends on is the key: the range, the axis length, the tick font and the
    zoom levels and UTC offset in use. A hit restores the zoom level and spacing the search
    chose, which ``tickStrings`` then reads, as after the search itself."""

    _memo: dict[tuple[object, ...], tuple[object, float, list[tuple[float, list[float]]]]] = {}

    def tickValues(self, minVal, maxVal, size):  # type: ignore[no-untyped-def]  # noqa: N802, N803
        font = self.style["tickFont"]
        key = (minVal, maxVal, size, font.key() if font is not None else None, self.utcOffset,
               tuple(self.zoomLevels.items()))  # fmt: skip
        hit = self._memo.get(key)
        if hit is None:
            values = super().tickValues(minVal, maxVal, size)
            if len(self._memo) > 256:
                self._memo.clear()
            hit = self._memo[key] = (self.zoomLevel, self.minSpacing, values)
        self.zoomLevel, self.minSpacing, values = hit
        self.zoomLevel.utcOffset = self.utcOffset
        return [(spacing, list(ticks)) for spacing, ticks in values]


class TrendPlot(pg.GraphicsWidget):
    """One trend plot: a title, a value axis, a date axis and a view box, laid out as pyqtgraph's
    ``PlotItem`` lays them out (same grid, margins and stretch), with the part of its API the
    History uses (``addItem``, ``clear``, ``items``, ``getAxis``, ``getViewBox``, ``setTitle``,
    ranges) and a ``legend``.

    ``PlotItem`` also builds, for every plot, a context-menu form of some forty widgets, hidden
    top and right axes and an auto-range button, none of which the History shows or uses: about
    7 of the ~10 ms each plot cost to build, some 30 ms of the first opening of a history.
    """

    def __init__(self, pen: QColor | str, text_pen: QColor | str, font: QFont) -> None:
        super().__init__()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.layout = grid = QGraphicsGridLayout()
        grid.setContentsMargins(1, 1, 1, 1)
        grid.setHorizontalSpacing(0)
        grid.setVerticalSpacing(0)
        self.setLayout(grid)
        self.vb = pg.ViewBox(parent=self, enableMenu=False)
        grid.addItem(self.vb, 2, 1)
        left = pg.AxisItem("left", pen=pen, textPen=text_pen, parent=self)
        bottom = DateAxis(orientation="bottom", pen=pen, textPen=text_pen, parent=self)
        self.axes = {"left": left, "bottom": bottom}
        for axis, row, col in ((left, 2, 0), (bottom, 3, 1)):
            axis.setStyle(tickFont=font)
            axis.linkToView(self.vb)
            grid.addItem(axis, row, col)
            axis.setZValue(0.5)  # as PlotItem: above images at 0, under items at 1 and more
            axis.setFlag(QGraphicsItem.GraphicsItemFlag.ItemNegativeZStacksBehindParent)
        self.titleLabel = pg.LabelItem("", size="11pt", parent=self)
        grid.addItem(self.titleLabel, 0, 1)
        self.setTitle(None)
        for i in range(4):
            grid.setRowPreferredHeight(i, 0)
            grid.setRowMinimumHeight(i, 0)
            grid.setRowSpacing(i, 0)
            grid.setRowStretchFactor(i, 1)
        for i in range(3):
            grid.setColumnPreferredWidth(i, 0)
            grid.setColumnMinimumWidth(i, 0)
            grid.setColumnSpacing(i, 0)
            grid.setColumnStretchFactor(i, 1)
        grid.setRowStretchFactor(2, 100)
        grid.setColumnStretchFactor(1, 100)
        # PlotItem's hidden top axis and right axis hold these at zero; empty, they would share
        # the spare space.
        grid.setRowMaximumHeight(1, 0)
        grid.setColumnMaximumWidth(2, 0)
        self.items: list[QGraphicsItem] = []
        self.legend: pg.LegendItem | None = None

    def getViewBox(self) -> pg.ViewBox:  # noqa: N802 (PlotItem's names)
        return self.vb

    def getAxis(self, name: str) -> pg.AxisItem:  # noqa: N802
        return self.axes[name]

    def setTitle(self, title: str | None = None, **args: object) -> None:  # noqa: N802
        """As ``PlotItem.setTitle``: None hides the title row."""
        if title is None:
            self.titleLabel.setVisible(False)
            self.layout.setRowFixedHeight(0, 0)
            self.titleLabel.setMaximumHeight(0)
        else:
            self.titleLabel.setMaximumHeight(30)
            self.layout.setRowFixedHeight(0, 30)
            self.titleLabel.setVisible(True)
            self.titleLabel.setText(title, **args)

    def addItem(self, item: QGraphicsItem) -> None:  # noqa: N802
        self.items.append(item)
        self.vb.addItem(item)

    def clear(self) -> None:
        for item in self.items:
            self.vb.removeItem(item)
        self.items = []

    def setXRange(self, *args: object, **kwargs: object) -> None:  # noqa: N802
        self.vb.setXRange(*args, **kwargs)

    def setYRange(self, *args: object, **kwargs: object) -> None:  # noqa: N802
        self.vb.setYRange(*args, **kwargs)

    def enableAutoRange(self, *args: object, **kwargs: object) -> None:  # noqa: N802
        self.vb.enableAutoRange(*args, **kwargs)


class HistoryPlots(pg.GraphicsLayoutWidget):
    """All trend plots of one patient; :meth:`show_history` redraws everything."""

    def __init__(self, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.setBackground("w")
        self.ci.setSpacing(14)
        self.ci.setContentsMargins(6, 6, 12, 6)
        self.plots: dict[str, TrendPlot] = {}
        # One plot (with its legend and layout cell) per metric, kept between patients: building
        # one costs a few ms (a PlotItem ~10), more than redrawing it.
        self._pool: dict[str, tuple[pg.GraphicsLayout, TrendPlot, pg.LegendItem]] = {}
        #: What each pooled plot holds now (its data, title and ranges): a plot whose data did
        #: not change is kept as drawn, not rebuilt (reopening a patient, a refresh after an
        #: outcome entry, landing figures arriving after the first paint).
        self._drawn: dict[str, tuple[object, ...]] = {}
        #: The plots' places in the layout, as (key, row, column).
        self._placed: list[tuple[str, int, int]] = []

    # --- public -------------------------------------------------------------------------------
    def show_history(self, history: PatientHistory | None) -> list[str]:
        """Draw the plots that have data; returns the labels of metrics that were not measured.

        Without a history the plots are only forgotten (the view hides this widget): their
        items stay in place, so showing the same data again redraws nothing."""
        self.plots.clear()
        if history is None or not history.visits:
            return []
        dates = history.dates
        x = to_x(dates)
        s = history.series
        missing: list[str] = []
        groups: list[tuple[str, str, list[str], Series | None]] = [
            ("cadence", "Cadence (steps/min)", ["cadence"], s["cadence"]),
            ("contact_time", "Contact time (ms)", ["contact_time"], s["contact_time"]),
            ("overstride", f"Overstride: heel ahead of hip ({s['overstride'].unit})",
             ["overstride"], s["overstride"]),
            ("shank_angle", "Shank angle at contact (°, 0 = vertical)", ["shank_angle"],
             s["shank_angle"]),
            ("knee_flexion", "Knee flexion at contact (°)", ["knee_flexion"], s["knee_flexion"]),
            ("pain", "Pain NPRS (0–10)", ["pain_running", "pain_now", "pain_worst_24h"],
             s["pain_worst_24h"]),
            ("disability", s["disability"].label.replace(")", f", {s['disability'].unit})"),
             ["disability"],
             s["disability"]),
            ("psfs", "PSFS (0–10, higher = better)", ["psfs_mean", "psfs_running"], None),
        ]  # fmt: skip
        row = col = 0
        shown: list[tuple[str, str, list[str], Series | None]] = []
        placed: list[tuple[str, int, int]] = []
        for key, title, members, band_series in groups:
            if not any(s[m].has_data for m in members):
                missing.append(title.split(" (")[0])
                continue
            shown.append((key, title, members, band_series))
            placed.append((key, row, col))
            col += 1
            if col == 2:
                row, col = row + 1, 0
        if placed != self._placed:
            for cell, _plot, _legend in self._pool.values():
                if cell in self.ci.items:
                    self.ci.removeItem(cell)
            self.ci.currentRow = self.ci.currentCol = 0
            for key, r, c in placed:
                self.ci.addItem(self._cell(key)[0], row=r, col=c)
            self._placed = placed
        targets = history.target_in_force()
        for key, title, members, band_series in shown:
            plot = self._cell(key)[1]
            self.plots[key] = plot
            drawn = self._signature(history, key, title, members, targets)
            if self._drawn.get(key) == drawn:
                self._set_x_range(plot, x)  # as drawn, back at the whole history's range
                continue
            self._drawn[key] = drawn
            plot = self._plot_cell(key)
            self._set_up_plot(plot, title, x)
            if band_series is not None and band_series.has_data:
                self._band(plot, band_series)
            if key == "cadence":
                self._targets(plot, x, targets)
            if key == "pain":
                # Silbernagel 2007 pain-monitoring model (clinical.md [V]): > 5 during running is
                # too much.
                # Named in the legend, not written on the plot, where it covered data points.
                pen = pg.mkPen("#b03a2e", width=1, style=Qt.PenStyle.DotLine)
                limit = pg.InfiniteLine(5.0, angle=0, pen=pen)
                plot.addItem(limit)
                plot.legend.addItem(pg.PlotCurveItem([], [], pen=pen), "running pain > 5: too much")
                self.pain_limit = limit
                plot.setYRange(0, 10, padding=0.05)
            if key == "disability":
                plot.setYRange(0, 24 if history.disability_scale == "rmdq" else 100, padding=0.05)
            if key == "psfs":
                plot.setYRange(0, 10, padding=0.05)
            for m in members:
                if s[m].has_data:
                    self._trend(plot, x, s[m], dates, len(members) > 1)
        n_rows = row + (1 if col else 0)
        self.setMinimumHeight(240 * max(n_rows, 1))
        return missing

    @staticmethod
    def _signature(
        history: PatientHistory, key: str, title: str, members: list[str], targets: np.ndarray
    ) -> tuple[object, ...]:
        """Everything a plot draws: equal signatures draw the same picture."""
        parts: list[object] = [title, tuple(history.dates), history.disability_scale]
        for m in members:
            se = history.series[m]
            parts += [m, se.label, se.unit, se.kind, se.band, se.mean.tobytes(), se.sd.tobytes(),
                      se.n.tobytes()]  # fmt: skip
        if key == "cadence":
            parts.append(targets.tobytes())
        return tuple(parts)

    # --- drawing ------------------------------------------------------------------------------
    def _plot_cell(self, key: str) -> TrendPlot:
        """The metric's plot, emptied for drawing."""
        _cell, plot, legend = self._cell(key)
        plot.clear()
        legend.clear()
        plot.enableAutoRange(y=True)
        return plot

    def _cell(self, key: str) -> tuple[pg.GraphicsLayout, TrendPlot, pg.LegendItem]:
        """The metric's layout cell, plot and legend; built the first time it is needed."""
        if key in self._pool:
            return self._pool[key]
        font = QFont()
        font.setPointSize(9)
        plot = TrendPlot(pg.mkPen("#9aa5ad"), pg.mkPen(INK), font)
        plot.getAxis("left").setGrid(int(0.15 * 255))  # PlotItem.showGrid(y=True, alpha=0.15)
        plot.getAxis("left").setWidth(44)
        for name in ("left", "bottom"):
            # Painted from a pixmap until the axis changes: the grid lines and tick labels are
            # drawn once, not again for every repaint (hovering a point, scrolling, a grab).
            plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        plot.getViewBox().setMouseEnabled(x=True, y=False)
        # Legend in its own row under the plot, so it never hides a data point.
        cell = pg.GraphicsLayout()
        cell.setSpacing(0)
        cell.addItem(plot, row=0, col=0)
        legend = pg.LegendItem(colCount=1, labelTextColor=INK, labelTextSize="8pt",
                               verSpacing=-6, horSpacing=14)  # fmt: skip
        cell.addItem(legend, row=1, col=0)
        plot.legend = legend
        self._pool[key] = (cell, plot, legend)
        return self._pool[key]

    def _set_up_plot(self, plot: TrendPlot, title: str, x: np.ndarray) -> None:
        plot.setTitle(title, color=INK, size="11pt", bold=True)
        # limits first: the previous patient's limits must not clip this patient's range
        plot.getViewBox().setLimits(xMin=x.min() - 60 * DAY_S, xMax=x.max() + 60 * DAY_S)
        self._set_x_range(plot, x)

    @staticmethod
    def _set_x_range(plot: TrendPlot, x: np.ndarray) -> None:
        pad = max(7 * DAY_S, 0.06 * (x.max() - x.min()))
        lo, hi = x.min() - pad, x.max() + pad
        if plot.getViewBox().viewRange()[0] != [lo, hi]:  # an unchanged range redraws nothing
            plot.setXRange(lo, hi, padding=0)

    def _band(self, plot: TrendPlot, series: Series) -> None:
        b = series.baseline_index
        if b is None or series.band is None or not np.isfinite(series.band):
            return
        base = float(series.mean[b])
        color = QColor(COLORS.get(series.key, INK))
        color.setAlpha(BAND_ALPHA)
        band = pg.LinearRegionItem(
            (base - series.band, base + series.band), orientation="horizontal", movable=False,
            brush=pg.mkBrush(color), pen=pg.mkPen(None),
        )  # fmt: skip
        band.setZValue(-20)
        for line in band.lines:
            line.setPen(pg.mkPen(None))
        plot.addItem(band)
        what = "smallest important change" if series.kind == "outcome" else "measurement noise"
        unit = "points" if series.unit.startswith("0–") else series.unit
        label = f"± {_fmt(series.band, series.unit)} {unit} around first visit ({what})"
        # A legend entry for the band: an invisible curve with the band's colour.
        color.setAlpha(90)
        proxy = pg.PlotCurveItem([], [], pen=pg.mkPen(color, width=8))
        plot.legend.addItem(proxy, label)
        base_line = pg.InfiniteLine(base, angle=0, pen=pg.mkPen(color.darker(110), width=1,
                                    style=Qt.PenStyle.DashLine))  # fmt: skip
        base_line.setZValue(-19)
        plot.addItem(base_line)

    def _targets(self, plot: TrendPlot, x: np.ndarray, targets: np.ndarray) -> None:
        if not np.isfinite(targets).any():
            return
        # A step line: each target holds from its visit until the next visit.
        end = x[-1] + max(7 * DAY_S, 0.04 * (x[-1] - x[0]))
        xs = np.repeat(np.append(x, end), 2)[1:-1]
        ys = np.repeat(targets, 2)
        line = pg.PlotCurveItem(xs, ys, connect="finite",
                               pen=pg.mkPen(TARGET_COLOR, width=2, style=Qt.PenStyle.DashLine))  # fmt: skip
        plot.addItem(line)
        plot.legend.addItem(line, "prescribed target")

    def _trend(
        self, plot: TrendPlot, x: np.ndarray, series: Series, dates: list[dt.date], named: bool
    ) -> None:
        color = COLORS.get(series.key, INK)
        hollow = series.key in HOLLOW
        ok = np.isfinite(series.mean)
        sd_ok = ok & np.isfinite(series.sd)
        if sd_ok.any():
            plot.addItem(error_bars(x[sd_ok], series.mean[sd_ok], series.sd[sd_ok], color))
        name = series.label.split(" (")[0] if named else None
        if ok.sum() > 1:
            line = pg.PlotCurveItem(
                x,
                series.mean,
                connect="finite",
                pen=pg.mkPen(
                    color,
                    width=2,
                    style=Qt.PenStyle.DashLine if series.key in DASHED else Qt.PenStyle.SolidLine,
                ),
            )
            if series.key in DASHED:
                line.setZValue(-1)  # under the solid lines it may coincide with
            plot.addItem(line)
        scatter = pg.ScatterPlotItem(
            x=x[ok], y=series.mean[ok], data=np.flatnonzero(ok),
            size=14 if hollow else 10, symbol=SYMBOLS.get(series.key, "o"),
            pen=pg.mkPen(color, width=2) if hollow else pg.mkPen("w", width=1.2),
            brush=pg.mkBrush(None) if hollow else pg.mkBrush(color),
            hoverable=True, hoverSize=16 if hollow else 12,
            tip=lambda x, y, data: _tip_text(series, dates, int(data)),
        )  # fmt: skip
        plot.addItem(scatter)
        if name:
            plot.legend.addItem(scatter, name)
