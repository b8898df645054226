"""The visits table shows each visit's review state, so the clinician sees which still needs
review (issue 15)."""

from __future__ import annotations

import datetime as dt

from app.records.measurements import ReviewCount
from app.records.summary import PatientSummary, RecordingSummary, VisitSummary
from ui.patient_view import REVIEW_COLUMN, PatientView


def _rec(rid: int, total: int, reviewed: int) -> RecordingSummary:
    return RecordingSummary(rid, f"clip{rid}.mp4", "side", 240.0, 900, reviewed,
                            ReviewCount(total, reviewed))


def test_review_column_and_recordings_say_what_is_left(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = PatientView()
    qtbot.addWidget(view)
    visits = [
        VisitSummary(1, dt.date(2026, 10, 1), "Dr A", None, None, [_rec(1, 65, 12)]),
        VisitSummary(2, dt.date(2026, 10, 8), "Dr A", None, None, [_rec(2, 20, 20), _rec(3, 4, 0)]),
        VisitSummary(3, dt.date(2026, 10, 15), "Dr A", None, None, [_rec(4, 0, 0)]),
        VisitSummary(4, dt.date(2026, 10, 22), "Dr A", None, None, []),
    ]
    view.show_patient(PatientSummary(9, "Ana", "", "", visits))
    assert view.visits.horizontalHeaderItem(REVIEW_COLUMN).text() == "Review"
    by_date = {
        view.visits.item(r, 0).text(): view.visits.item(r, REVIEW_COLUMN)
        for r in range(view.visits.rowCount())
    }
    first = by_date["2026-10-01"]
    assert first.text() == "12 of 65 reviewed"
    assert "53 unreviewed" in first.toolTip() and first.font().bold()
    assert by_date["2026-10-08"].text() == "20 of 24 reviewed"  # both recordings together
    assert by_date["2026-10-15"].text() == "not marked" and not by_date["2026-10-15"].font().bold()
    assert by_date["2026-10-22"].text() == "—"  # no recording yet
    view.visits.setCurrentCell(3, 0)  # rows are newest first: the 2026-10-01 visit
    assert "12 of 65 reviewed" in view.recordings.item(0).text()


def test_recording_line_gives_the_frame_rate_to_four_figures(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = PatientView()
    qtbot.addWidget(view)
    rec = RecordingSummary(1, "clip.mp4", "side", 31.708912, 360, 0, ReviewCount(0, 0))
    visit = VisitSummary(1, dt.date(2026, 10, 1), "Dr A", None, None, [rec])
    view.show_patient(PatientSummary(9, "Ana", "", "", [visit]))
    view.visits.setCurrentCell(0, 0)
    line = view.recordings.item(0).text()
    assert "31.71 fps" in line and "31.7089" not in line
