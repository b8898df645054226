"""The clinic's clinician list works without passwords and never turns sign-in on."""

from __future__ import annotations

import datetime as dt

import pytest

from app.clinic import open_clinic
from app.records import visits as visit_records
from app.safety import accounts


@pytest.fixture
def clinic():  # type: ignore[no-untyped-def]
    c = open_clinic()
    yield c
    c.close()


def test_clinicians_are_added_renamed_and_deactivated_without_sign_in(clinic) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        sam = accounts.add_clinician(s, "  Sam   Okafor (PT) ").id
        lea = accounts.add_clinician(s, "Lea Brandt").id
    with clinic.db.session() as s:
        assert not accounts.accounts_enabled(s)  # no password: sign-in stays off
        assert [c.name for c in visit_records.clinicians(s)] == ["Lea Brandt", "Sam Okafor (PT)"]
        accounts.rename_clinician(s, lea, "Lea Brandt (PT)")
        accounts.set_clinician_active(s, sam, False)
    with clinic.db.session() as s:
        assert [c.name for c in visit_records.clinicians(s)] == ["Lea Brandt (PT)"]
        listed = [(c.name, c.active) for c in accounts.list_clinicians(s)]
        assert listed == [("Lea Brandt (PT)", True), ("Sam Okafor (PT)", False)]
        # adding the name again brings the same clinician back, not a duplicate
        assert accounts.add_clinician(s, "Sam Okafor (PT)").id == sam
        assert not accounts.accounts_enabled(s)


def test_clinician_list_refuses_duplicates_and_blank_names(clinic) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        a = accounts.add_clinician(s, "Ana").id
        accounts.add_clinician(s, "Ben")
        with pytest.raises(accounts.SignInError, match="already"):
            accounts.add_clinician(s, "Ana")
        with pytest.raises(accounts.SignInError, match="already"):
            accounts.rename_clinician(s, a, "Ben")
        with pytest.raises(accounts.SignInError, match="enter"):
            accounts.add_clinician(s, "   ")


def test_the_last_signing_in_administrator_cannot_be_deactivated(clinic) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        admin = accounts.create_account(s, "Dr Admin", "long enough pw", role="admin").id
        plain = accounts.add_clinician(s, "No Password").id
    with clinic.db.session() as s:
        with pytest.raises(accounts.SignInError, match="only administrator"):
            accounts.set_clinician_active(s, admin, False)
        accounts.set_clinician_active(s, plain, False)  # others may be


def test_last_conditions_are_those_of_the_latest_visit(clinic) -> None:  # type: ignore[no-untyped-def]
    from app.records.patients import PatientData, create_patient

    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Runner One")).id
        assert visit_records.last_conditions(s, pid) is None
        for day, speed, shoes in [(3, 10.0, "Old"), (20, 11.5, "New"), (10, 9.0, "Mid")]:
            visit_records.create_visit(
                s,
                pid,
                visit_records.VisitData(
                    visit_date=dt.date(2026, 10, day), treadmill_speed_kmh=speed, shoes=shoes
                ),
            )
        last = visit_records.last_conditions(s, pid)
    assert last is not None
    assert (last.visit_date, last.treadmill_speed_kmh, last.shoes) == (
        dt.date(2026, 10, 20),
        11.5,
        "New",
    )
