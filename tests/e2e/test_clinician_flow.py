"""A clinician's first minutes: create a patient, add a visit, search, delete — through the window."""

from __future__ import annotations

import pytest

from app.records.patients import list_patients
from ui.dialogs import PatientDialog, VisitDialog


@pytest.fixture
def fill_dialogs(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Replace modal exec() by filling the form and pressing Save, as a clinician would."""
    answers: dict[str, dict[str, str]] = {}

    def fake_exec(self) -> int:  # type: ignore[no-untyped-def]
        values = answers["patient" if isinstance(self, PatientDialog) else "visit"]
        for name, value in values.items():
            self.fields[name].setText(value)  # type: ignore[attr-defined]
        self._try_accept()
        return int(self.result())

    monkeypatch.setattr(PatientDialog, "exec", fake_exec)
    monkeypatch.setattr(VisitDialog, "exec", fake_exec)
    return answers


def test_create_visit_search_delete(qtbot, main_window, clinic, fill_dialogs, monkeypatch) -> None:
    w = main_window
    fill_dialogs["patient"] = {
        "full_name": "Ingrid Sørensen",
        "date_of_birth": "1988-06-01",
        "height_cm": "171",
    }
    w.new_patient()
    assert w.patient_list.model.rowCount() == 1
    assert w.current_patient_id() is not None
    assert w.patient_view.name.text() == "Ingrid Sørensen"

    fill_dialogs["patient"] = {"full_name": "Lars Berg"}
    w.new_patient()
    assert w.patient_list.model.rowCount() == 2

    w.patient_list.search.setText("sorensen")
    assert w.patient_list.proxy.rowCount() == 1
    assert w.patient_view.name.text() == "Ingrid Sørensen"

    fill_dialogs["visit"] = {
        "visit_date": "2026-11-20",
        "treadmill_speed_kmh": "10",
        "pain_running": "4",
    }
    w.new_visit()
    assert w.patient_view.visits.rowCount() == 1
    assert w.patient_view.visits.item(0, 5).text() == "4/10"
    assert w.patient_view.visits.item(0, 3).text() == "—"  # nothing marked yet: no cadence

    bad = {"visit_date": "2026-11-21", "pain_running": "14"}
    fill_dialogs["visit"] = bad
    w.new_visit()  # refused: stays one visit, nothing crashes
    assert w.patient_view.visits.rowCount() == 1

    monkeypatch.setattr(w.actions, "confirm_delete_patient", lambda *_: False)
    w.delete_patient(w.current_patient_id())
    with clinic.db.session() as s:
        assert len(list_patients(s)) == 2  # cancelled: nothing deleted

    monkeypatch.setattr(w.actions, "confirm_delete_patient", lambda *_: True)
    w.delete_patient(w.current_patient_id())
    with clinic.db.session() as s:
        names = [r.full_name for r in list_patients(s)]
    assert names == ["Lars Berg"]
    w.patient_list.search.clear()
    assert w.patient_list.model.rowCount() == 1


def test_geometry_is_remembered(qtbot, clinic) -> None:
    from ui.main_window import MainWindow

    w = MainWindow(clinic)
    qtbot.addWidget(w)
    w.resize(1401, 803)
    w.show()
    assert (w.width(), w.height()) == (1401, 803)
    w.close()
    w2 = MainWindow(clinic)
    qtbot.addWidget(w2)
    assert (w2.width(), w2.height()) == (1401, 803)


def test_main_window_fits_a_1280x720_laptop(qtbot, clinic) -> None:
    from ui.main_window import MainWindow

    w = MainWindow(clinic)
    qtbot.addWidget(w)
    for i in range(w.tabs.count()):  # build every panel (they are built on first use)
        w.tabs.setCurrentIndex(i)
    hint = w.minimumSizeHint()
    assert hint.width() <= 1280 and hint.height() <= 720, hint


def test_demo_window_shows_demo_patients(qtbot, demo_clinic) -> None:
    from ui.main_window import MainWindow

    w = MainWindow(demo_clinic)
    qtbot.addWidget(w)
    assert "DEMO" in w.windowTitle()
    assert w.patient_list.model.rowCount() == 6


def test_history_tab_follows_the_selected_patient(qtbot, demo_clinic) -> None:
    from ui.main_window import MainWindow

    w = MainWindow(demo_clinic)
    qtbot.addWidget(w)
    w.show()
    rows = w.patient_list.model.rows
    jonas = next(r for r in rows if r.full_name.startswith("Jonas"))
    anna = next(r for r in rows if r.full_name.startswith("Anna"))
    w.patient_list.select(jonas.id)
    w.tabs.setCurrentWidget(w._history_tab)
    qtbot.waitUntil(lambda: not w._history_refresh.needed, timeout=5000)
    assert w.history.patient_id == jonas.id
    w.patient_list.select(anna.id)
    qtbot.waitUntil(lambda: w.history.patient_id == anna.id, timeout=5000)


def test_audit_trail_records_views_and_edits_without_names_in_logs(
    qtbot, clinic, fill_dialogs, caplog
) -> None:
    import logging

    from app.safety.audit import entries
    from ui.main_window import MainWindow

    caplog.set_level(logging.DEBUG)
    w = MainWindow(clinic)
    qtbot.addWidget(w)
    fill_dialogs["patient"] = {"full_name": "Zebedee Quixote", "date_of_birth": "1970-01-02"}
    w.new_patient()
    pid = w.current_patient_id()
    with clinic.db.session() as s:
        actions = {(e.action, e.patient_id) for e in entries(s)}
    assert ("create", pid) in actions
    assert ("view", pid) in actions
    assert "Zebedee" not in caplog.text and "1970-01-02" not in caplog.text


def test_camera_runs_only_while_the_record_tab_is_shown(qtbot, clinic, monkeypatch) -> None:
    monkeypatch.setenv("STRIDE_CLINIC_DEV_SOURCES", "1")
    from ui.main_window import MainWindow

    w = MainWindow(clinic)
    qtbot.addWidget(w)
    w.show()
    w.tabs.setCurrentWidget(w._capture_tab)
    qtbot.waitUntil(lambda: w.capture.recorder is not None, timeout=5000)
    w.tabs.setCurrentWidget(w.patient_view)
    assert w.capture.recorder is None
    w.tabs.setCurrentWidget(w._capture_tab)
    qtbot.waitUntil(lambda: w.capture.recorder is not None, timeout=5000)
    w.close()


def test_saved_prescription_shows_in_the_visits_table(qtbot, demo_clinic) -> None:
    from ui.main_window import MainWindow

    w = MainWindow(demo_clinic)
    qtbot.addWidget(w)
    w.show()
    chloe = next(r for r in w.patient_list.model.rows if r.full_name.startswith("Chloé"))
    w.patient_list.select(chloe.id)
    w.tabs.setCurrentWidget(w._prescription_tab)
    qtbot.waitUntil(lambda: w.prescription.visit_id is not None, timeout=5000)
    w.prescription.panel.custom_spin.setValue(7.0)
    w.prescription.panel.custom_button.setChecked(True)
    before = w.patient_view.visits.item(0, 4).text()  # the demo's +5 % prescription
    expected = w.prescription.panel.current_plan().target_spm
    w.prescription.panel.save()
    w.tabs.setCurrentWidget(w.patient_view)
    assert w.patient_view.visits.item(0, 4).text() == f"{expected} spm" != before


def test_new_visit_defaults_to_the_signed_in_clinician(qtbot, clinic, monkeypatch) -> None:
    from app.records.patients import PatientData, create_patient
    from app.records.visits import ensure_clinician
    from ui.dialogs import VisitDialog
    from ui.main_window import MainWindow

    with clinic.db.session() as s:
        ensure_clinician(s, "Aaron First")
        second = ensure_clinician(s, "Zoe Signed-In").id
        pid = create_patient(s, PatientData(full_name="Visit Owner")).id
    monkeypatch.setattr(clinic.db, "clinician_id", second, raising=False)
    chosen: list[object] = []

    def fake_exec(self) -> int:  # type: ignore[no-untyped-def]
        chosen.append(self.clinician.currentData())
        return 0

    monkeypatch.setattr(VisitDialog, "exec", fake_exec)
    w = MainWindow(clinic)
    qtbot.addWidget(w)
    w.patient_list.select(pid)
    w.new_visit()
    assert chosen == [second]


def test_full_screen_analysis_hides_the_patient_list(qtbot, clinic) -> None:
    from ui.main_window import MainWindow

    w = MainWindow(clinic)
    qtbot.addWidget(w)
    w.show()
    w.analysis_mode_action.trigger()
    assert w.analysis_mode_action.isChecked()
    assert w.patient_list.isHidden() and w.tabs.currentWidget() is w._annotation_tab
    qtbot.waitUntil(w.isFullScreen, timeout=5000)
    w.analysis_mode_action.trigger()
    assert not w.patient_list.isHidden()
    qtbot.waitUntil(lambda: not w.isFullScreen(), timeout=5000)
    w.close()
