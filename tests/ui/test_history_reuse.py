"""The history's plots are built once and reused between patients: the second patient's plots
show only that patient's points, lines and ranges."""

from __future__ import annotations

import pyqtgraph as pg
import pytest

from app.records.patients import PatientData, create_patient
from app.records.recordings import add_recording, replace_events
from app.records.visits import VisitData, create_visit
from tests.app.test_history_helpers import run_events


def _patient(clinic, name: str, dates: list[str], pains: list[int]) -> int:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name=name)).id
        for k, (day, pain) in enumerate(zip(dates, pains, strict=True)):
            vid = create_visit(s, pid, VisitData(visit_date=day, pain_running=pain)).id
            rec = add_recording(s, vid, video_path=f"{name}{vid}.mp4", capture_fps=240.0)
            replace_events(s, rec.id, run_events(160.0 + 3 * k, seed=k))
    return pid


def test_switching_patients_reuses_plots_without_leftovers(qtbot, clinic) -> None:  # type: ignore[no-untyped-def]
    from ui.history_view import HistoryView

    view = HistoryView(clinic)
    qtbot.addWidget(view)
    view.resize(1200, 900)
    view.show()
    a = _patient(clinic, "First", ["2025-01-10", "2025-02-10", "2025-03-10"], [6, 4, 2])
    b = _patient(clinic, "Second", ["2026-05-01", "2026-06-01"], [3, 1])
    view.set_patient(a)
    cadence_a = view.plots.plots["cadence"]
    view.set_patient(b)
    cadence_b = view.plots.plots["cadence"]
    assert cadence_b is cadence_a  # reused, not rebuilt
    scatters = [i for i in cadence_b.items if isinstance(i, pg.ScatterPlotItem)]
    assert len(scatters) == 1 and len(scatters[0].data) == 2  # only the second patient's visits
    x_min, x_max = cadence_b.getViewBox().viewRange()[0]
    assert x_min > 1.7e9  # 2026, not the first patient's 2025 range
    pain = view.plots.plots["pain"]
    limits = [i for i in pain.items if isinstance(i, pg.InfiniteLine) and i.value() == 5.0]
    assert len(limits) == 1  # the "> 5" line once, not once per patient shown
    assert len(view.plots.ci.items) == len(view.plots.plots)
    view.set_patient(a)
    scatters = [i for i in view.plots.plots["cadence"].items if isinstance(i, pg.ScatterPlotItem)]
    assert len(scatters[0].data) == 3
    view.shutdown()


def test_refresh_pauses_the_collector_only_while_it_runs(qtbot, clinic, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import gc

    from ui import history_view
    from ui.history_view import HistoryView

    view = HistoryView(clinic)
    qtbot.addWidget(view)
    pid = _patient(clinic, "Third", ["2026-01-05"], [2])
    seen = []
    real = history_view.load_history

    def spy(*a, **k):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return real(*a, **k)

    monkeypatch.setattr(history_view, "load_history", spy)
    # The program pins collection to a GUI-thread timer (ui.gc_pin: automatic collection off);
    # where it is on (as on the command line), the view must turn it back on afterwards.
    pinned = not gc.isenabled()
    gc.enable()
    try:
        view.set_patient(pid)
        assert seen == [False] and gc.isenabled()

        def broken(*_a, **_k):  # type: ignore[no-untyped-def]
            raise RuntimeError("database gone")

        monkeypatch.setattr(history_view, "load_history", broken)
        with pytest.raises(RuntimeError):
            view.set_patient(pid)
        assert gc.isenabled()  # never left off after a failure
    finally:
        if pinned:
            gc.disable()
    view.shutdown()


def test_error_bars_are_one_sd_each_side_with_beams() -> None:
    import numpy as np

    from ui.history_plots import DAY_S, error_bars

    bars = error_bars(np.array([0.0, 10 * DAY_S]), np.array([160.0, 170.0]), np.array([2.0, 3.0]),
                      "#123456")  # fmt: skip
    xs, ys = bars.getData()
    segments = list(zip(zip(xs[::2], ys[::2], strict=True), zip(xs[1::2], ys[1::2], strict=True),
                        strict=True))  # fmt: skip
    assert len(segments) == 6  # a bar and two beams per visit
    assert segments[0] == ((0.0, 158.0), (0.0, 162.0))  # mean ± 1 SD
    assert segments[1] == ((-1.25 * DAY_S, 158.0), (1.25 * DAY_S, 158.0))  # the lower beam
    assert segments[3] == ((10 * DAY_S, 167.0), (10 * DAY_S, 173.0))
    assert bars.opts["connect"] == "pairs" and bars.opts["segmentedLineMode"] == "on"


def test_trend_plot_lays_out_as_a_plot_item(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The light plot puts its title, axes and view box where pyqtgraph's PlotItem puts them,
    so the History looks the same without PlotItem's menus and hidden axes."""
    from PySide6.QtGui import QFont

    from ui.history_plots import TrendPlot

    widget = pg.GraphicsLayoutWidget()
    qtbot.addWidget(widget)
    widget.resize(600, 500)
    reference = pg.PlotItem(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
    light = TrendPlot(pg.mkPen("k"), pg.mkPen("k"), QFont())
    for row, plot in enumerate((reference, light)):
        plot.getAxis("left").setWidth(44)
        plot.setTitle("Cadence (steps/min)")
        widget.addItem(plot, row=row, col=0)
    widget.show()
    qtbot.waitExposed(widget)

    def boxes(plot):  # type: ignore[no-untyped-def]
        parts = (plot.titleLabel, plot.getViewBox(), plot.getAxis("left"), plot.getAxis("bottom"))
        return [p.geometry().getRect() for p in parts]

    assert reference.geometry().size() == light.geometry().size()
    assert boxes(light) == boxes(reference)


def test_date_axes_share_one_tick_search(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """DateAxis gives DateAxisItem's ticks and labels at any zoom, searching them once for
    axes of one range and length (the History's plots)."""
    from PySide6.QtGui import QFont, QFontMetrics

    from ui.history_plots import DAY_S, DateAxis

    font = QFont()
    font.setPointSize(9)
    DateAxis._memo.clear()
    calls: list[float] = []
    search = pg.DateAxisItem.tickValues
    monkeypatch.setattr(
        pg.DateAxisItem, "tickValues", lambda s, a, b, n: calls.append(a) or search(s, a, b, n)
    )
    for lo, span, size in ((1.70e9, 700 * DAY_S, 557.0), (1.70e9, 40 * DAY_S, 300.0),
                           (1.75e9, 2 * DAY_S, 557.0), (1.60e9, 4000 * DAY_S, 120.0)):  # fmt: skip
        axes = [DateAxis(orientation="bottom"), DateAxis(orientation="bottom")]
        reference = pg.DateAxisItem(orientation="bottom")
        for axis in (*axes, reference):
            axis.setStyle(tickFont=font)
            axis.fontMetrics = QFontMetrics(font)  # set from the painter when drawn
        calls.clear()
        expected = reference.tickValues(lo, lo + span, size)
        assert len(calls) == 1
        for axis in axes:
            assert axis.tickValues(lo, lo + span, size) == expected
            assert axis.zoomLevel is reference.zoomLevel
            for spacing, ticks in expected:
                assert axis.tickStrings(ticks, 1.0, spacing) == reference.tickStrings(
                    ticks, 1.0, spacing
                )
        assert len(calls) == 2  # the reference's, and one for both DateAxis
