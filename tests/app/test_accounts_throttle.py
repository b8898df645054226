"""Passwords: blank-only ones are refused, repeated wrong guesses meet a growing delay that
survives a restart (it is counted from the audit trail)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from app.db.database import open_database, sqlite_url
from app.safety import accounts, audit


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    d = open_database(sqlite_url(tmp_path / "c.sqlite3"))
    with d.session() as s:
        accounts.create_account(s, "Sam Physio", "battery staple")
    yield d
    d.dispose()


@pytest.mark.parametrize("password", [" " * 8, " " * 20, "\t" * 9, "\u3000" * 8])
def test_blank_only_passwords_are_refused(db, password: str) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s, pytest.raises(accounts.SignInError) as err:
        accounts.create_account(s, "Blank Pass", password)
    assert "only spaces" in err.value.message
    with db.session() as s:
        sam = s.scalars(accounts.select(accounts.Clinician)).first()
        with pytest.raises(accounts.SignInError):
            accounts.set_password(s, sam.id, password)


@pytest.mark.parametrize("password", ["line\nbreak!", "bad \ud800 char", "short"])
def test_untypeable_or_short_passwords_are_refused(password: str) -> None:
    with pytest.raises(accounts.SignInError):
        accounts.hash_password(password)


def test_clinician_names_are_checked_like_patient_names(db) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s, pytest.raises(accounts.SignInError) as err:
        accounts.create_account(s, "Sam \u202eadmin", "battery staple")
    assert "U+202E" in err.value.message


def test_lockout_policy() -> None:
    now = dt.datetime(2026, 12, 1, 12, 0, 0)
    fails = [now - dt.timedelta(seconds=i) for i in range(4)]
    assert accounts.lockout_seconds(fails, now) == 0
    fails.append(now)
    assert accounts.lockout_seconds(fails, now) == 30
    assert accounts.lockout_seconds(fails, now + dt.timedelta(seconds=31)) == 0
    fails.append(now + dt.timedelta(seconds=31))
    assert accounts.lockout_seconds(fails, now + dt.timedelta(seconds=31)) == 60
    many = [now] * 40
    assert accounts.lockout_seconds(many, now) == accounts.MAX_LOCKOUT_S
    assert accounts.lockout_seconds(many, now + dt.timedelta(hours=2)) == 0  # forgotten


def _guess(db, name: str, n: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    checked = locked = 0
    for i in range(n):
        try:
            accounts.sign_in(db, name, f"guess number {i}")
        except accounts.SignInLocked as exc:
            locked += 1
            # the first pause is 30 s; a slow machine may already be a second into it
            shown = max(1, int(exc.seconds + 0.999))
            assert f"try again in {shown} seconds" in exc.message and 25 < exc.seconds <= 30
        except accounts.SignInError:
            checked += 1
    return checked, locked


def test_thirty_wrong_guesses_in_five_seconds_meet_a_delay(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    checked, locked = _guess(db, "Sam Physio", 30)
    elapsed = time.monotonic() - start
    assert elapsed < 30  # the guesses came quickly …
    assert checked == accounts.FREE_FAILURES and locked == 30 - accounts.FREE_FAILURES  # … yet 5 were checked
    # even the right password is refused while the name is paused
    with pytest.raises(accounts.SignInLocked):
        accounts.sign_in(db, "Sam Physio", "battery staple")
    # a restart (a new connection, a fresh process state) keeps the pause: it is in the trail
    db.dispose()
    accounts._unknown_failures.clear()
    again = open_database(sqlite_url(tmp_path / "c.sqlite3"))
    try:
        with pytest.raises(accounts.SignInLocked):
            accounts.sign_in(again, "Sam Physio", "battery staple")
        later = accounts._utcnow() + dt.timedelta(seconds=31)
        sam = accounts.sign_in(again, "Sam Physio", "battery staple", now=later)
        assert again.clinician_id == sam.id
        # the success resets the count: one more wrong guess is checked, not paused
        with pytest.raises(accounts.SignInError) as err:
            accounts.sign_in(again, "Sam Physio", "wrong again", now=later)
        assert not isinstance(err.value, accounts.SignInLocked)
        with again.session() as s:
            actions = [r.action for r in audit.entries(s)]
        assert actions.count("sign_in_failed") >= 30  # every attempt, paused ones too, is in the trail
    finally:
        again.dispose()


def test_unknown_names_are_paused_too(db) -> None:  # type: ignore[no-untyped-def]
    checked, locked = _guess(db, "Nobody Here", 12)
    assert checked == accounts.FREE_FAILURES and locked == 12 - accounts.FREE_FAILURES
    # another name is not affected
    assert accounts.sign_in(db, "Sam Physio", "battery staple").name == "Sam Physio"
