"""Two visits on one day are told apart in tables, pickers and plots; the outcome measures
open on the latest visit when none is selected, and say which visit they are for."""

from __future__ import annotations

import datetime as dt

import pyqtgraph as pg
import pytest

from app.records.patients import PatientData, create_patient
from app.records.recordings import add_recording, replace_events
from app.records.visits import VisitData, create_visit
from tests.app.test_history_helpers import run_events
from ui.history_plots import to_x
from ui.visit_labels import visit_labels


def test_visit_labels_number_only_same_day_visits() -> None:
    d1, d2 = dt.date(2026, 10, 3), dt.date(2026, 10, 17)
    assert visit_labels([d1, d2, d2]) == [
        "03 Oct 2026",
        "17 Oct 2026 · visit 1 of 2 that day",
        "17 Oct 2026 · visit 2 of 2 that day",
    ]


def test_same_day_visits_get_distinct_plot_positions_in_order() -> None:
    dates = [dt.date(2026, 1, 1), dt.date(2026, 3, 1), dt.date(2026, 3, 1), dt.date(2026, 6, 1)]
    x = to_x(dates)
    assert x[1] < x[2] and len(set(x)) == 4
    assert abs((x[1] + x[2]) / 2 - to_x([dates[1]])[0]) < 1e-6  # centred on their day
    span = x[-1] - x[0]
    assert x[2] - x[1] >= 0.01 * span  # visibly apart at this scale


@pytest.fixture
def same_day(clinic):  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Same Day")).id
        vids = []
        for k, day in enumerate(["2026-09-12", "2026-10-03", "2026-10-03"]):
            vid = create_visit(s, pid, VisitData(visit_date=day, pain_running=5 - k)).id
            rec = add_recording(s, vid, video_path=f"v{vid}.mp4", capture_fps=240.0)
            replace_events(s, rec.id, run_events(160.0 + 4 * k, seed=k))
            vids.append(vid)
    return pid, vids


@pytest.fixture
def view(qtbot, clinic):  # type: ignore[no-untyped-def]
    from ui.history_view import HistoryView

    w = HistoryView(clinic)
    qtbot.addWidget(w)
    w.resize(1200, 900)
    w.show()
    yield w
    w.shutdown()


def test_history_table_compare_pickers_and_plot_tell_same_day_visits_apart(
    qtbot, view, same_day
) -> None:  # type: ignore[no-untyped-def]
    from ui.compare_dialog import CompareDialog

    pid, _ = same_day
    view.set_patient(pid)
    dates = [view.table.item(r, 0).text() for r in range(3)]
    assert len(set(dates)) == 3 and "visit 2 of 2 that day" in dates[2]
    dialog = CompareDialog(view.history, view.clinic.folder.stills, parent=view)
    qtbot.addWidget(dialog)
    items = [dialog.combo_a.itemText(i) for i in range(dialog.combo_a.count())]
    assert len(set(items)) == 3
    points = [i for i in view.plots.plots["cadence"].items if isinstance(i, pg.ScatterPlotItem)]
    xs = points[0].data["x"]
    assert len(set(xs)) == 3


def test_outcomes_without_a_selection_open_on_the_latest_visit_and_name_it(
    view, same_day, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from ui import outcomes_dialog

    pid, vids = same_day
    view.set_patient(pid)
    view.table.clearSelection()
    opened = []

    def fake_exec(dialog):  # type: ignore[no-untyped-def]
        opened.append((dialog.visit_id, dialog.windowTitle(), dialog.visit_title.text()))
        return outcomes_dialog.OutcomesDialog.DialogCode.Rejected

    monkeypatch.setattr(outcomes_dialog.OutcomesDialog, "exec", fake_exec)
    assert view.edit_outcomes() is False  # cancelled, but the dialog opened
    ((visit_id, title, heading),) = opened
    assert visit_id == vids[-1]
    assert "03 Oct 2026 · visit 2 of 2 that day (latest visit)" in title
    assert "03 Oct 2026" in heading


def test_compare_dialog_fits_a_1280x720_screen(qtbot, view, same_day, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QRect

    from ui.compare_dialog import CompareDialog

    class SmallScreen:
        def availableGeometry(self) -> QRect:  # noqa: N802 - Qt API
            return QRect(0, 0, 1280, 690)

    monkeypatch.setattr(CompareDialog, "screen", lambda self: SmallScreen())
    pid, _ = same_day
    view.set_patient(pid)
    dialog = CompareDialog(view.history, view.clinic.folder.stills, parent=view)
    qtbot.addWidget(dialog)
    assert dialog.height() <= 690 - 36 and dialog.width() <= 1280  # was 1120 × 820
    assert dialog.minimumSizeHint().height() <= dialog.height()
