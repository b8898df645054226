from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PySide6.QtGui import QColor, QImage
from sqlalchemy import select

from app.db.models import Patient, Recording
from app.history.outcomes import load_outcomes
from app.records.measurements import save_prescription
from app.records.patients import PatientData, create_patient
from app.records.recordings import add_recording, replace_events
from app.records.visits import VisitData, create_visit, visits_of
from tests.app.test_history_helpers import run_events


@pytest.fixture
def view(qtbot, clinic):  # type: ignore[no-untyped-def]
    from ui.history_view import HistoryView

    w = HistoryView(clinic)
    qtbot.addWidget(w)
    w.resize(1200, 900)
    w.show()
    yield w
    w.shutdown()


def _patient(clinic, n_visits: int, marked: bool) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name=f"Runner {n_visits} {marked}")).id
        vids = []
        for k in range(n_visits):
            vid = create_visit(s, pid, VisitData(visit_date=f"2026-0{k + 1}-10",
                                                 pain_running=5 - k)).id  # fmt: skip
            vids.append(vid)
            if marked:
                rec = add_recording(s, vid, video_path=f"v{vid}.mp4", capture_fps=240.0)
                replace_events(s, rec.id, run_events(160.0 + 5 * k, seed=k))
        if marked and vids:
            save_prescription(s, vids[0], {"target_spm": 168})
    return pid, vids


def test_empty_states(view, clinic) -> None:  # type: ignore[no-untyped-def]
    assert not view.placeholder.isHidden() and "Select a patient" in view.placeholder.text()
    pid, _ = _patient(clinic, 0, False)
    view.set_patient(pid)
    assert "No visits yet" in view.placeholder.text() and view.table.rowCount() == 0
    assert not view.outcomes_btn.isEnabled() and not view.compare_btn.isEnabled()
    view.set_patient(12345)  # deleted meanwhile: an empty view, no crash
    assert view.history is None and "Select a patient" in view.placeholder.text()


def test_visits_without_measurements_show_pain_only(view, clinic) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Only Visits")).id
        for d in ("2026-01-01", "2026-02-01"):
            create_visit(s, pid, VisitData(visit_date=d))
    view.set_patient(pid)
    assert "Nothing measured yet" in view.placeholder.text()
    assert view.table.rowCount() == 2 and view.table.item(0, 3).text() == "—"
    assert view.table.item(0, 2).text() == "no recording"
    pid, _ = _patient(clinic, 2, False)  # pain entered, nothing marked
    view.set_patient(pid)
    assert set(view.plots.plots) == {"pain"}
    assert "Cadence" in view.note.text() and "not measured" in view.note.text().lower()


def test_single_visit_draws_points_without_lines(view, clinic) -> None:  # type: ignore[no-untyped-def]
    import pyqtgraph as pg

    pid, _ = _patient(clinic, 1, True)
    view.set_patient(pid)
    plot = view.plots.plots["cadence"]
    curves = [i for i in plot.items if isinstance(i, pg.PlotCurveItem) and i.xData is not None
              and len(i.xData) and i.opts["pen"] is not None and i.name() is None]  # fmt: skip
    scatters = [i for i in plot.items if isinstance(i, pg.ScatterPlotItem)]
    assert len(scatters) == 1 and len(scatters[0].data) == 1
    tip = scatters[0].opts["tip"](x=0, y=0, data=scatters[0].data["data"][0])
    assert "steps/min" in tip and "n = 29 steps" in tip and "SD" in tip
    # What the frame rate alone allows (cadence resolution = cadence / (fps · span)).
    res = view.history.series["cadence"].resolution[0]
    assert 0 < res < 1 and f"One video frame = {res:.2f} steps/min" in tip
    # Only the target step line has line data; no trend line through one point.
    assert all(len(c.xData) != 1 for c in curves)
    assert view.table.item(0, 4).text() == "168"


def test_demo_patients_and_gaps(view, demo_clinic, qtbot) -> None:  # type: ignore[no-untyped-def]
    from ui.history_view import HistoryView

    w = HistoryView(demo_clinic)
    qtbot.addWidget(w)
    w.show()
    with demo_clinic.db.session() as s:
        ids = s.scalars(select(Patient.id)).all()
        jonas = s.scalar(select(Patient.id).where(Patient.full_name.like("Jonas%")))
        vids = [v.id for v in visits_of(s, jonas)]
        for k, vid in enumerate(vids):
            if k == 1:  # a visit without marks: a gap in the cadence line
                for rec in s.scalars(select(Recording).where(Recording.visit_id == vid)):
                    replace_events(s, rec.id, [])
                continue
            rec = add_recording(s, vid, video_path=f"d{vid}.mp4", capture_fps=240.0)
            replace_events(s, rec.id, run_events(158.0 + 4 * k, seed=k))
    for pid in ids:
        w.set_patient(pid)
        assert w.table.rowCount() == len(w.history.visits) > 0
        assert "pain" in w.plots.plots  # every demo patient has pain scores
    w.set_patient(jonas)
    cadence = w.history.series["cadence"].mean
    assert np.isnan(cadence[1]) and np.isfinite(cadence[[0, 2, 3]]).all()
    image = w.grab().toImage()
    assert not image.isNull() and image.width() > 500
    w.shutdown()


def test_outcomes_dialog_saves_and_validates(view, clinic, qtbot) -> None:  # type: ignore[no-untyped-def]
    from ui.outcomes_dialog import OutcomesDialog

    pid, vids = _patient(clinic, 2, True)
    view.set_patient(pid)
    dialog = OutcomesDialog(clinic, vids[1], view)
    qtbot.addWidget(dialog)
    dialog.disability.setValue(9)
    dialog.activities[0].setText("Run 5 km")
    dialog.scores[0].setValue(4)
    dialog.accept()  # one PSFS activity only: refused with a message, dialog stays
    assert dialog.result() != OutcomesDialog.DialogCode.Accepted
    assert not dialog.error.isHidden() and "3 to 5" in dialog.error.text()
    for i, (text, score) in enumerate([("Sit 1 h", 6), ("Carry shopping", 7)], 1):
        dialog.activities[i].setText(text)
        dialog.scores[i].setValue(score)
    dialog.accept()
    assert "running item" in dialog.error.text()
    dialog.running.button(0).setChecked(True)
    dialog.accept()
    assert dialog.result() == OutcomesDialog.DialogCode.Accepted
    with clinic.db.session() as s:
        saved = load_outcomes(s, vids[1])
    assert saved.rmdq == 9 and [i.score for i in saved.psfs] == [4, 6, 7]
    assert saved.pain_running == 4  # kept from the visit
    view.refresh()
    assert "disability" in view.plots.plots and "psfs" in view.plots.plots
    assert view.table.item(1, 6).text() == "9 / 24"


def test_compare_dialog_and_placeholder_stills(view, clinic, qtbot) -> None:  # type: ignore[no-untyped-def]
    from ui.compare_dialog import CompareDialog

    pid, vids = _patient(clinic, 3, True)
    view.set_patient(pid)
    rid = view.history.visits[0].measured_recording_id
    uid = next(r.uid for r in view.history.recordings if r.id == rid)
    img = QImage(64, 40, QImage.Format.Format_RGB32)
    img.fill(QColor("navy"))
    assert img.save(str(clinic.folder.media().still(uid, 12)))
    dialog = CompareDialog(view.history, clinic.folder.stills, vids[0], vids[2], view)
    qtbot.addWidget(dialog)
    assert dialog.still_a.path is not None and not dialog.still_a.pixmap().isNull()
    assert dialog.still_b.path is None and "No still" in dialog.still_b.text()
    labels = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert labels[0] == "Cadence"
    assert dialog.table.item(0, 5).text() == "real change (better)"
    dialog.combo_b.setCurrentIndex(0)  # the same visit: no change
    assert dialog.table.item(0, 3).text() in ("+0", "-0")
    assert dialog.table.item(0, 5).text() == "within measurement noise"


def test_export_from_the_view(view, clinic, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    pid, _ = _patient(clinic, 2, True)
    view.set_patient(pid)
    files = view.export_history(tmp_path / "out")
    assert any(f.suffix == ".xlsx" for f in files)
    metrics = pd.read_excel(next(f for f in files if f.suffix == ".xlsx"), sheet_name="metrics")
    assert len(metrics) == 2
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert view.export_history(blocker / "sub") == []
    assert warnings and "Cannot save the export" in warnings[0]


def test_demo_history_shows_cadence_rising(view, demo_clinic, qtbot) -> None:  # type: ignore[no-untyped-def]
    # The demo's follow-ups are the run re-timed: the table and the plot show the rise.
    with demo_clinic.db.session() as s:
        jonas = s.scalar(select(Patient.id).where(Patient.full_name.like("Jonas%")))
    from ui.history_view import HistoryView

    w = HistoryView(demo_clinic)
    qtbot.addWidget(w)
    w.show()
    w.set_patient(jonas)
    col = w.COLUMNS.index("Cadence")
    shown = [int(w.table.item(r, col).text()) for r in range(w.table.rowCount())]
    assert len(shown) == 4 and all(b > a for a, b in zip(shown, shown[1:], strict=False))
    import pyqtgraph as pg

    (points,) = [i for i in w.plots.plots["cadence"].items if isinstance(i, pg.ScatterPlotItem)]
    assert np.all(np.diff(points.data["y"]) > 0)
    w.shutdown()


def test_landing_figures_follow_the_first_paint(demo_clinic, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Pose-cached visits: the first paint shows the cadence (final figures) and says the
    landing figures are being computed; they arrive without blocking, and a reopening draws
    them at once from memory."""
    from app.history import landing as landing_mod
    from ui.history_view import HistoryView

    landing_mod._MEMO.clear()
    with demo_clinic.db.session() as s:
        jonas = s.scalar(select(Patient.id).where(Patient.full_name.like("Jonas%")))
    w = HistoryView(demo_clinic)
    qtbot.addWidget(w)
    w.resize(1200, 900)
    w.show()
    w.set_patient(jonas)
    assert w.landing_computing and not w.landing_state.isHidden()
    assert (
        "Computing landing figures" in w.landing_state.text()
        and "4 visits" in w.landing_state.text()
    )
    assert "cadence" in w.plots.plots and "overstride" not in w.plots.plots
    cadence = w.history.series["cadence"].mean.copy()
    assert np.isfinite(cadence).all()
    assert "Overstride" not in w.note.text()  # not called "not measured" while it is computed
    qtbot.waitUntil(lambda: not w.landing_computing, timeout=20000)
    assert w.landing_state.isHidden()
    assert {"overstride", "shank_angle", "knee_flexion"} <= set(w.plots.plots)
    assert w.history.landing_units == "leg_pct" and w.history.series["overstride"].has_data
    np.testing.assert_array_equal(w.history.series["cadence"].mean, cadence)  # unchanged
    assert len(w.plots.ci.items) == len(w.plots.plots)
    w.set_patient(None)
    w.set_patient(jonas)  # remembered: drawn at once, nothing computed
    assert not w.landing_computing and w.landing_state.isHidden()
    assert "overstride" in w.plots.plots
    w.shutdown()


def test_switching_patient_while_landing_is_computed_drops_the_old_result(
    demo_clinic, qtbot
) -> None:  # type: ignore[no-untyped-def]
    from app.history import landing as landing_mod
    from ui.history_view import HistoryView

    landing_mod._MEMO.clear()
    with demo_clinic.db.session() as s:
        jonas = s.scalar(select(Patient.id).where(Patient.full_name.like("Jonas%")))
        other = create_patient(s, PatientData(full_name="No Video Runner")).id
        create_visit(s, other, VisitData(visit_date="2026-02-02", pain_running=3))
    w = HistoryView(demo_clinic)
    qtbot.addWidget(w)
    w.show()
    w.set_patient(jonas)
    assert w.landing_computing
    w.set_patient(other)  # before the landing figures arrive
    assert not w.landing_computing and w.landing_state.isHidden()
    qtbot.wait(300)  # the old worker finishes or stops; its result must not be drawn
    assert w.patient_id == other and set(w.plots.plots) == {"pain"}
    assert w.history.landing_units is None
    w.shutdown()
