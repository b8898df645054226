"""Qt fixtures for these tests live in tests/qt_fixtures.py (shared with the other Qt folder)."""

import datetime as dt  # noqa: E402

import pytest  # noqa: E402

from tests.qt_fixtures import (  # noqa: F401
    _isolated_qsettings,
    _modal_watchdog,
    _no_unanswered_modal,
    _unsaved_question_answers_discard,
    clinic,
    demo_clinic,
    main_window,
)


@pytest.fixture
def practice_visit(clinic):  # type: ignore[no-untyped-def]  # noqa: F811
    """(patient id, visit id) of a runner with a prescription of 170 spm, for Practice."""
    from app.records import measurements
    from app.records.patients import PatientData, create_patient
    from app.records.visits import VisitData, create_visit

    with clinic.db.session() as s:
        p = create_patient(s, PatientData(full_name="Ana Ruiz"))
        v = create_visit(s, p.id, VisitData(visit_date=dt.date(2026, 3, 2)))
        pid, vid = p.id, v.id
    with clinic.db.session() as s:
        measurements.save_prescription(
            s, vid, {"target_spm": 170, "baseline_spm": 162, "percent": 5}
        )
    return pid, vid


@pytest.fixture
def practice_panel(qtbot, practice_visit, main_window):  # type: ignore[no-untyped-def]  # noqa: F811
    """The main window's Practice tab opened on :func:`practice_visit`'s patient and visit."""
    pid, vid = practice_visit
    w = main_window
    w.patient_list.select(pid)
    qtbot.waitUntil(lambda: w.current_patient_id() == pid, timeout=3000)
    w.tabs.setCurrentWidget(w._practice_tab)
    panel = w.practice
    qtbot.waitUntil(
        lambda: panel.context is not None and panel.context.visit_id == vid, timeout=3000
    )
    return panel
