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


def test_filter_answers_cells_itself_as_the_table_model_would(qtbot) -> None:
    """The filter gives each shown cell's text, id, tooltip and flags straight from its shown
    row (no mapToSource per cell): the very values of the table model's own cell."""
    from PySide6.QtCore import Qt

    panel = PatientListPanel()
    qtbot.addWidget(panel)
    rows = _rows(["Zoë Ångström", "Anna Berg", "Ånund Berg", "Jonas Weber"])
    rows[1] = PatientRow(2, "Anna Berg", name_key("Anna Berg"), None, "knee", dt.date(2026, 3, 4), 3)
    panel.set_rows(rows)
    panel.search.setText("berg")
    proxy, model = panel.proxy, panel.model
    assert proxy.source_rows() == [1, 2]
    roles = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.UserRole, Qt.ItemDataRole.ToolTipRole,
             Qt.ItemDataRole.FontRole, Qt.ItemDataRole.DecorationRole)  # fmt: skip
    for r, src in enumerate(proxy.source_rows()):
        for c in range(model.columnCount()):
            pi, si = proxy.index(r, c), model.index(src, c)
            assert proxy.flags(pi) == model.flags(si)
            for role in roles:
                assert proxy.data(pi, role) == model.data(si, role)
            assert proxy.mapFromSource(si) == pi and proxy.mapToSource(pi) == si
    assert proxy.data(proxy.index(0, 2)) == "2026-03-04" and proxy.data(proxy.index(0, 1)) == ""
    assert not proxy.mapFromSource(model.index(0, 0)).isValid()  # Zoë is filtered out
    assert model.row_for_id(4) == 3 and model.row_for_id(99) == -1
    panel.set_rows(rows[:2])  # new rows: the id look-up and the cells are rebuilt
    assert model.row_for_id(4) == -1 and model.data(model.index(1, 0)) == "Anna Berg"
