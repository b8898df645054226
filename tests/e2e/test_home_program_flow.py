"""From the patient to a printed home program, and the way out when nothing is prescribed yet."""

from __future__ import annotations

import pytest

from app.records.patients import PatientData, create_patient
from app.records.visits import VisitData, create_visit


@pytest.fixture
def window(qtbot, demo_clinic):  # type: ignore[no-untyped-def]
    from ui.main_window import MainWindow

    w = MainWindow(demo_clinic)
    qtbot.addWidget(w)
    w.show()
    return w


def test_home_program_opens_for_a_prescribed_patient(qtbot, window, monkeypatch) -> None:
    import ui.home_program_dialog as hp

    shown: list[object] = []
    monkeypatch.setattr(hp.HomeProgramDialog, "exec", lambda self: shown.append(self) or 0)
    window.patient_list.select(window.patient_list.model.rows[0].id)
    window.patient_view.program_btn.click()
    assert len(shown) == 1


def test_no_prescription_leads_to_the_prescribe_tab(
    qtbot, window, demo_clinic, monkeypatch
) -> None:
    import ui.home_program_open as hp  # where the editor is opened (and asks)

    with demo_clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Nina Newcomer")).id
        # A visit but no prescription (without any visit the program says so once, and never
        # offers a prescription: tests/ui/test_issue18_small.py).
        create_visit(s, pid, VisitData())
    window.reload_patients(select_id=pid)
    monkeypatch.setattr(hp, "_ask_no_prescription", lambda *_a: "create")
    window.home_program()
    assert window.tabs.currentWidget() is window._prescription_tab
