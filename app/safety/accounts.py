"""Optional clinician sign-in: argon2id password hashes, roles, and the idle lock.

Sign-in is off until the first clinician is given a password (:func:`accounts_enabled`); a
single-user practice never sees a sign-in window. Passwords are hashed with argon2id
(``argon2-cffi``'s defaults, RFC 9106's second recommended setting) and never stored or logged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import Clinician
from app.safety import audit

if TYPE_CHECKING:
    from app.db.database import Database

ROLES = ("clinician", "admin")
MIN_PASSWORD = 8
DEFAULT_IDLE_MINUTES = 10.0

_hasher = PasswordHasher()  # argon2id
# Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password")


class SignInError(Exception):
    """Sign-in or account change refused. ``message`` is for the clinician."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (checks the minimum length)."""
    if len(password) < MIN_PASSWORD:
        raise SignInError(f"Choose a password of at least {MIN_PASSWORD} characters.")
    return _hasher.hash(password)


def accounts_enabled(session: Session) -> bool:
    """True once any active clinician has a password: then the program asks who is working."""
    stmt = select(func.count(Clinician.id)).where(
        Clinician.password_hash.is_not(None), Clinician.active
    )
    return bool(session.scalar(stmt))


def set_password(
    session: Session, clinician_id: int, password: str, *, role: str | None = None
) -> Clinician:
    """Give a clinician a (new) password and optionally a role ("clinician" or "admin")."""
    clinician = session.get(Clinician, clinician_id)
    if clinician is None:
        raise SignInError("This clinician no longer exists.")
    if role is not None:
        if role not in ROLES:
            raise SignInError(f"The role must be one of: {', '.join(ROLES)}.")
        clinician.role = role
    clinician.password_hash = hash_password(password)
    session.flush()
    return clinician


def create_account(
    session: Session, name: str, password: str, *, role: str = "clinician"
) -> Clinician:
    """A new clinician with a password. The first account of a clinic should be an admin."""
    name = " ".join(name.split())
    if not name:
        raise SignInError("Please enter the clinician's name.")
    if session.scalar(select(Clinician.id).where(Clinician.name == name)) is not None:
        raise SignInError(f"There is already a clinician called {name}.")
    clinician = Clinician(name=name, role="clinician")
    session.add(clinician)
    session.flush()
    return set_password(session, clinician.id, password, role=role)


def sign_in(db: Database, name: str, password: str) -> Clinician:
    """Check the password; on success the database records this clinician on every edit.

    Failed attempts are recorded in the audit trail (with the clinician's id when the name
    exists). Raises :class:`SignInError` with one message for wrong name or wrong password.
    """
    name = " ".join(name.split())
    with db.session() as s:
        clinician = s.scalars(
            select(Clinician).where(Clinician.name == name, Clinician.active)
        ).first()
        stored = clinician.password_hash if clinician is not None else None
        try:
            _hasher.verify(stored or _DUMMY_HASH, password)
            ok = stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok:
            audit.record(s, "sign_in_failed", clinician_id=clinician.id if clinician else None)
    if not ok or clinician is None:
        raise SignInError("The name or the password is not right. Please try again.")
    with db.session() as s:
        if _hasher.check_needs_rehash(stored or ""):
            s.get(Clinician, clinician.id).password_hash = _hasher.hash(password)  # type: ignore[union-attr]
        audit.record(s, "sign_in", clinician_id=clinician.id)
    db.clinician_id = clinician.id
    return clinician


def sign_out(db: Database, *, reason: str = "sign_out") -> None:
    """Forget the signed-in clinician (``reason`` "lock" for the idle lock)."""
    if db.clinician_id is None:
        return
    with db.session() as s:
        audit.record(s, "lock" if reason == "lock" else "sign_out")
    db.clinician_id = None


def current_clinician(db: Database) -> Clinician | None:
    if db.clinician_id is None:
        return None
    with db.session() as s:
        return s.get(Clinician, db.clinician_id)


def is_admin(db: Database) -> bool:
    """True when the signed-in clinician is an administrator, or when sign-in is not in use
    (a single-user practice administers itself)."""
    with db.session() as s:
        if not accounts_enabled(s):
            return True
        if db.clinician_id is None:
            return False
        c = s.get(Clinician, db.clinician_id)
        return c is not None and c.role == "admin"


def idle_minutes(extra: dict[str, object]) -> float:
    """The idle-lock delay from settings ``extra["idle_lock_minutes"]`` (0 disables it)."""
    try:
        return max(0.0, float(extra.get("idle_lock_minutes", DEFAULT_IDLE_MINUTES)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return DEFAULT_IDLE_MINUTES


class IdleLock:
    """Tracks activity; :meth:`due` turns True after ``minutes`` without :meth:`touch`.

    Pure logic with an injectable clock so it can be tested without waiting; the UI calls
    :meth:`touch` on input events and polls :meth:`due` from a timer.
    """

    def __init__(self, minutes: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.minutes = minutes
        self._clock = clock
        self._last = clock()

    def touch(self) -> None:
        self._last = self._clock()

    def due(self) -> bool:
        return self.minutes > 0 and (self._clock() - self._last) >= self.minutes * 60.0

    def seconds_left(self) -> float:
        if self.minutes <= 0:
            return float("inf")
        return max(0.0, self.minutes * 60.0 - (self._clock() - self._last))
