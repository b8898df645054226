"""The visit's details on Patient & visits list its practice sessions (Practice tab)."""

from __future__ import annotations

import datetime as dt

from app.records.summary import PatientSummary, VisitSummary
from ui.patient_view import PatientView


def test_practice_sessions_are_listed_with_the_selected_visit(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = PatientView()
    qtbot.addWidget(view)
    view.show()
    asked: list[int] = []

    def lines(vid: int) -> list[str]:
        asked.append(vid)
        return ["09:42 · 12:00 min · target 172 ± 2 spm"] if vid == 2 else []

    view.practice_lines = lines
    visits = [VisitSummary(1, dt.date(2026, 10, 1), "Dr A", None, None, []),
              VisitSummary(2, dt.date(2026, 10, 8), "Dr A", None, None, [])]  # fmt: skip
    view.show_patient(PatientSummary(9, "Ana", "", "", visits))
    assert view.current_visit_id() == 2 and asked[-1] == 2  # newest first
    assert view.practice.count() == 1 and view.practice.isVisible()
    assert "target 172" in view.practice.item(0).text()
    view.visits.setCurrentCell(1, 0)
    assert asked[-1] == 1 and view.practice.count() == 0 and not view.practice.isVisible()

    def broken(vid: int) -> list[str]:
        raise RuntimeError("database is locked")

    view.practice_lines = broken
    view.visits.setCurrentCell(0, 0)
    assert "could not be read" in view.practice.item(0).text()
