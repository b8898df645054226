from __future__ import annotations

import datetime as dt

from app.records.patients import PatientRow
from app.records.validation import name_key
from ui.patient_list import PatientListPanel


def _rows(names: list[str]) -> list[PatientRow]:
    return [
        PatientRow(i + 1, n, name_key(n), dt.date(1990, 1, 1), "", None, 0)
        for i, n in enumerate(names)
    ]


def test_search_filters_as_you_type_ignoring_accents(qtbot) -> None:
    panel = PatientListPanel()
    qtbot.addWidget(panel)
    panel.set_rows(_rows(["Zoë Ångström", "Anna Berg", "Ånund Berg", "Jonas Weber"]))
    assert panel.proxy.rowCount() == 4
    qtbot.keyClicks(panel.search, "berg")
    assert panel.proxy.rowCount() == 2
    panel.search.setText("anund")
    assert panel.proxy.rowCount() == 1
    assert panel.current_id() == 3  # a single match is selected at once
    panel.search.setText("nobody")
    assert panel.proxy.rowCount() == 0
    assert "No patient matches" in panel.count_label.text()


def test_selection_emits_patient_id(qtbot) -> None:
    panel = PatientListPanel()
    qtbot.addWidget(panel)
    panel.set_rows(_rows(["A One", "B Two"]))
    with qtbot.waitSignal(panel.patient_selected, timeout=2000) as sig:
        panel.select(2)
    assert sig.args == [2]
    assert panel.edit_btn.isEnabled() and panel.delete_btn.isEnabled()


def test_select_clears_a_filter_that_hides_the_patient(qtbot) -> None:
    panel = PatientListPanel()
    qtbot.addWidget(panel)
    panel.set_rows(_rows(["A One", "B Two"]))
    panel.search.setText("one")
    assert panel.select(2)
    assert panel.current_id() == 2
