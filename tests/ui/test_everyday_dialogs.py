"""New patient / visit forms: focus on the first field, dates as the locale writes them, the
message never covering a field, and follow-up visits carrying over the treadmill conditions."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QLocale, Qt

from app.records.validation import ValidationError
from app.records.visits import PreviousConditions
from ui.dialogs import PatientDialog, VisitDialog, parse_local_date


@pytest.mark.parametrize("make", [PatientDialog, lambda: VisitDialog(None, [(1, "Sam")])])
def test_forms_open_with_focus_on_the_first_field_and_space_does_not_save(qtbot, make) -> None:
    d = make()
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    first = next(iter(d.fields.values()))
    qtbot.waitUntil(lambda: first.hasFocus(), timeout=2000)
    qtbot.keyClick(d.focusWidget(), Qt.Key.Key_Space)
    assert d.isVisible() and d.result() == 0  # Space typed a space, it did not press Save


@pytest.mark.parametrize(
    ("text", "locale", "iso"),
    [
        ("14.03.1987", QLocale(QLocale.Language.German, QLocale.Country.Germany), "1987-03-14"),
        (
            "14.03.1987",
            QLocale(QLocale.Language.English, QLocale.Country.UnitedStates),
            "1987-03-14",
        ),
        (
            "14/03/1987",
            QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom),
            "1987-03-14",
        ),
        (
            "3/14/1987",
            QLocale(QLocale.Language.English, QLocale.Country.UnitedStates),
            "1987-03-14",
        ),
        ("1987-03-14", QLocale(QLocale.Language.French, QLocale.Country.France), "1987-03-14"),
        ("14/03/87", QLocale(QLocale.Language.French, QLocale.Country.France), "1987-03-14"),
    ],
)
def test_dates_in_the_locale_form_and_iso_are_accepted(text, locale, iso) -> None:
    assert parse_local_date(text, "date_of_birth", locale) == iso


def test_an_unreadable_date_names_the_locale_form() -> None:
    de = QLocale(QLocale.Language.German, QLocale.Country.Germany)
    with pytest.raises(ValidationError) as exc:
        parse_local_date("14th of March", "date_of_birth", de)
    assert "14.03.1987" in exc.value.message and exc.value.field == "date_of_birth"


def test_date_of_birth_14_03_1987_is_saved(qtbot) -> None:
    d = PatientDialog()
    qtbot.addWidget(d)
    d.name.setText("Anna Test")
    d.dob.setText("14.03.1987")
    d._try_accept()
    assert d.result() == d.DialogCode.Accepted, d.error.text()
    assert d.result_data is not None and d.result_data.date_of_birth == "1987-03-14"


def test_the_message_does_not_cover_the_notes_box(qtbot) -> None:
    d = PatientDialog()
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    d.name.setText("X")
    d.dob.setText("31.02.1987")  # not a date: a message long enough to wrap
    d._try_accept()
    assert d.error.isVisible()
    qtbot.waitUntil(lambda: d.error.geometry().top() >= d.notes.geometry().bottom(), timeout=2000)
    assert d.buttons.geometry().top() >= d.error.geometry().bottom()
    assert d.error.height() >= d.error.heightForWidth(d.error.width())


def test_follow_up_visit_prefills_the_last_conditions_and_says_from_when(qtbot) -> None:
    previous = PreviousConditions(7, dt.date(2026, 10, 3), 10.5, 1.0, "Pegasus 40")
    d = VisitDialog(None, [(1, "Sam")], previous=previous)
    qtbot.addWidget(d)
    assert d.speed.text() == "10.5" and d.incline.text() == "1" and d.shoes.text() == "Pegasus 40"
    assert "from the visit of 2026-10-03" in d.prefill_note.text()
    assert not d.prefill_note.isHidden()
    first = VisitDialog(None, [(1, "Sam")])
    qtbot.addWidget(first)
    assert first.speed.text() == "" and first.prefill_note.isHidden()
