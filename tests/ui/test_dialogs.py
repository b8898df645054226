from __future__ import annotations

from ui.dialogs import PatientDialog, VisitDialog


def test_patient_dialog_shows_validation_message_and_stays_open(qtbot) -> None:
    d = PatientDialog()
    qtbot.addWidget(d)
    d.name.setText("Test Person")
    d.height.setText("20")
    d._try_accept()
    assert d.result() == 0
    assert "outside the plausible range" in d.error.text()
    assert d.height.property("invalid") is True
    d.height.setText("172")
    d._try_accept()
    assert d.result() == d.DialogCode.Accepted
    assert d.result_data is not None and d.result_data.full_name == "Test Person"


def test_patient_dialog_refuses_invalid_date(qtbot) -> None:
    d = PatientDialog()
    qtbot.addWidget(d)
    d.name.setText("X")
    d.dob.setText("1990-02-31")
    d._try_accept()
    assert "not a valid date" in d.error.text()


def test_visit_dialog_requires_date(qtbot) -> None:
    d = VisitDialog(None, [(1, "Sam")])
    qtbot.addWidget(d)
    d.date.setText("")
    d._try_accept()
    assert "visit date" in d.error.text()
