"""Issue 18: one rule for every editor — ask before leaving with unsaved changes (ui.unsaved).

Prescribe: +7.5 % and a new cue, switch tab, come back → both still there after the question
("Keep editing" returns to the tab, "Save" stores them). Dialogs: Cancel / close with changes
asks; without changes it never asks."""

from __future__ import annotations

import pytest

from ui import unsaved


@pytest.fixture
def answers(monkeypatch):  # type: ignore[no-untyped-def]
    """Record each question and answer it from a queue (no modal box in tests)."""
    asked: list[tuple[str, bool]] = []
    queue: list[unsaved.Leave] = []

    def ask(parent, what, can_stay):  # type: ignore[no-untyped-def]
        asked.append((what, can_stay))
        return queue.pop(0) if queue else unsaved.Leave.DISCARD

    monkeypatch.setattr(unsaved, "asker", ask)
    return asked, queue


def _prescribe_chloe(qtbot, demo_clinic):  # type: ignore[no-untyped-def]
    from ui.main_window import MainWindow

    w = MainWindow(demo_clinic)
    qtbot.addWidget(w)
    w.show()
    chloe = next(r for r in w.patient_list.model.rows if r.full_name.startswith("Chloé"))
    w.patient_list.select(chloe.id)
    w.tabs.setCurrentWidget(w._prescription_tab)
    qtbot.waitUntil(lambda: w.prescription.visit_id is not None, timeout=5000)
    panel = w.prescription.panel
    panel.preset_buttons[7.5].setChecked(True)
    panel.cues_edit.setPlainText(panel.cues_edit.toPlainText() + "\nRun tall")
    assert w.prescription.has_unsaved_changes
    return w, panel


def test_prescribe_keep_editing_keeps_the_edits(qtbot, demo_clinic, answers) -> None:  # type: ignore[no-untyped-def]
    asked, queue = answers
    w, panel = _prescribe_chloe(qtbot, demo_clinic)
    queue.append(unsaved.Leave.STAY)
    w.tabs.setCurrentWidget(w.patient_view)
    qtbot.waitUntil(lambda: bool(asked), timeout=3000)
    assert asked == [("the prescription", True)]
    qtbot.waitUntil(lambda: w.tabs.currentWidget() is w._prescription_tab, timeout=3000)
    assert panel.preset_buttons[7.5].isChecked() and "Run tall" in panel.cues_edit.toPlainText()
    # Leaving and coming back through the tab bar keeps them too (the old code reloaded).
    w.prescription.set_visit(w.prescription.visit_id)
    assert panel.preset_buttons[7.5].isChecked() and "Run tall" in panel.cues_edit.toPlainText()


def test_prescribe_save_on_leaving_stores_the_edits(qtbot, demo_clinic, answers) -> None:  # type: ignore[no-untyped-def]
    from app.records import measurements

    asked, queue = answers
    w, panel = _prescribe_chloe(qtbot, demo_clinic)
    target = panel.current_plan().target_spm
    queue.append(unsaved.Leave.SAVE)
    w.tabs.setCurrentWidget(w.patient_view)
    qtbot.waitUntil(lambda: not w.prescription.has_unsaved_changes, timeout=3000)
    with demo_clinic.db.session() as s:
        rx = measurements.latest_prescription(s, w.prescription.visit_id)
        assert rx.target_spm == target and rx.increase_pct == pytest.approx(7.5)
        assert "Run tall" in rx.plan["wording"]["cues"]
    w.tabs.setCurrentWidget(w._prescription_tab)  # back: the saved values are shown
    assert panel.preset_buttons[7.5].isChecked() and "Run tall" in panel.cues_edit.toPlainText()
    assert len(asked) == 1


def test_leaving_prescribe_without_changes_never_asks(qtbot, demo_clinic, answers) -> None:  # type: ignore[no-untyped-def]
    from ui.main_window import MainWindow

    asked, _queue = answers
    w = MainWindow(demo_clinic)
    qtbot.addWidget(w)
    w.show()
    w.patient_list.select(w.patient_list.model.rows[0].id)
    w.tabs.setCurrentWidget(w._prescription_tab)
    qtbot.waitUntil(lambda: w.prescription.visit_id is not None, timeout=5000)
    w.tabs.setCurrentWidget(w.patient_view)
    qtbot.wait(50)
    assert asked == []


def test_outcomes_dialog_asks_before_cancel_drops_changes(qtbot, demo_clinic, answers) -> None:  # type: ignore[no-untyped-def]
    from app.history.outcomes import load_outcomes
    from app.records.visits import visits_of
    from ui.outcomes_dialog import OutcomesDialog

    asked, queue = answers
    with demo_clinic.db.session() as s:
        from app.db.models import Patient

        vid = visits_of(s, s.query(Patient).first().id)[-1].id
    dlg = OutcomesDialog(demo_clinic, vid)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.reject()  # nothing changed: closes without a question
    assert asked == [] and not dlg.isVisible()
    dlg = OutcomesDialog(demo_clinic, vid)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.pain_now.setValue(3)
    queue.append(unsaved.Leave.STAY)
    dlg.reject()
    assert dlg.isVisible() and dlg.pain_now.value() == 3  # kept
    queue.append(unsaved.Leave.SAVE)
    dlg.close()  # the window's close button
    assert len(asked) == 2 and not dlg.isVisible()
    with demo_clinic.db.session() as s:
        assert load_outcomes(s, vid).pain_now == 3


def test_patient_dialog_and_settings_ask(qtbot, demo_clinic, answers) -> None:  # type: ignore[no-untyped-def]
    from ui.dialogs import PatientDialog
    from ui.settings_dialog import ClinicSettingsDialog

    asked, queue = answers
    dlg = PatientDialog()
    qtbot.addWidget(dlg)
    dlg.show()
    next(iter(dlg.fields.values())).setText("Someone")  # type: ignore[attr-defined]
    queue.append(unsaved.Leave.STAY)
    dlg.reject()
    assert dlg.isVisible() and asked[-1] == ("the patient details", True)
    queue.append(unsaved.Leave.DISCARD)
    dlg.reject()
    assert not dlg.isVisible()
    st = ClinicSettingsDialog(demo_clinic)
    qtbot.addWidget(st)
    st.show()
    from PySide6.QtWidgets import QLineEdit

    st.findChildren(QLineEdit)[0].setText("Another clinic name")
    queue.append(unsaved.Leave.STAY)
    st.reject()
    assert st.isVisible() and asked[-1] == ("the clinic settings", True)


def test_home_program_close_asks_when_edited(qtbot, demo_clinic, answers) -> None:  # type: ignore[no-untyped-def]
    from ui.home_program_dialog import open_home_program

    asked, queue = answers
    anna = next(p for p in _patients(demo_clinic) if p[1].startswith("Anna"))[0]
    dlg = open_home_program(None, demo_clinic, anna)
    assert dlg is not None
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.reject()
    assert asked == []
    dlg = open_home_program(None, demo_clinic, anna)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.note_edit.setPlainText("Keep it easy this week.")
    queue.append(unsaved.Leave.STAY)
    dlg.reject()
    assert dlg.isVisible() and dlg.note_edit.toPlainText() == "Keep it easy this week."


def _patients(clinic):  # type: ignore[no-untyped-def]
    from app.db.models import Patient

    with clinic.db.session() as s:
        return [(p.id, p.full_name) for p in s.query(Patient).all()]
