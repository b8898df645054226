"""Optional clinician sign-in: argon2id password hashes, roles, and the idle lock.

Sign-in is off until the first clinician is given a password (:func:`accounts_enabled`); a
single-user practice never sees a sign-in window. Passwords are hashed with argon2id
(``argon2-cffi``'s defaults, RFC 9106's second recommended setting) and never stored or logged.

Repeated wrong passwords slow down: after :data:`FREE_FAILURES` failures in a row for one name
(within :data:`FAILURE_WINDOW`), that name is refused for 30 s, then 60 s, 120 s … up to 15 min
per further failure, without even checking the password. For an existing clinician the
failures are counted from the audit trail's ``sign_in_failed`` entries, so the delay survives
a restart of the program and holds on every workstation of a shared database; for a name
that does not exist the count is kept in this process only (there is no account to protect,
and the name must not be written anywhere). A correct password resets the count.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import AuditEntry, Clinician
from app.errors import ClinicError
from app.safety import audit

if TYPE_CHECKING:
    from app.db.database import Database

ROLES = ("clinician", "admin")
MIN_PASSWORD = 8
DEFAULT_IDLE_MINUTES = 10.0

_hasher = PasswordHasher()  # argon2id
# Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password")


FREE_FAILURES = 5
FIRST_LOCKOUT_S = 30.0
MAX_LOCKOUT_S = 15 * 60.0
FAILURE_WINDOW = dt.timedelta(hours=1)
LOCKED_DETAIL = "refused: too many failures"  # audit detail of an attempt made while locked


class SignInError(ClinicError):
    """Sign-in or account change refused. ``message`` is for the clinician."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SignInLocked(SignInError):
    """Too many wrong passwords for this name: ``seconds`` until the next attempt is checked."""

    def __init__(self, message: str, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds


def check_new_password(password: object) -> str:
    """``password`` if it may be set, else :class:`SignInError` with the reason.

    At least :data:`MIN_PASSWORD` characters, not only spaces (eight spaces were accepted), and
    only characters that can be typed again (no control characters or damaged text).
    """
    if not isinstance(password, str):
        raise SignInError("The password must be text.")
    if not password.strip():
        raise SignInError("A password cannot be only spaces. Choose one with letters or digits.")
    if len(password) < MIN_PASSWORD:
        raise SignInError(f"Choose a password of at least {MIN_PASSWORD} characters.")
    if any(ch in "\r\n\t" or ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF for ch in password):
        raise SignInError(
            "The password contains a character that cannot be typed at sign-in "
            "(a line break, tab or damaged character). Choose another."
        )
    return password


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (checked by :func:`check_new_password`)."""
    return _hasher.hash(check_new_password(password))


def lockout_seconds(failures: Sequence[dt.datetime], now: dt.datetime) -> float:
    """Seconds until a name with these consecutive failure times may try again (0: now).

    Pure policy: the first :data:`FREE_FAILURES` failures cost nothing; from then on each
    failure locks the name for 30 s, doubling per further failure, at most 15 minutes.
    Failures older than :data:`FAILURE_WINDOW` are forgotten.
    """
    recent = sorted(t for t in failures if now - t <= FAILURE_WINDOW)
    if len(recent) < FREE_FAILURES:
        return 0.0
    delay = min(MAX_LOCKOUT_S, FIRST_LOCKOUT_S * 2.0 ** (len(recent) - FREE_FAILURES))
    return max(0.0, delay - (now - recent[-1]).total_seconds())


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)  # as the audit trail stores it


# Unknown names only (see the module docstring): (database, casefolded name) -> failure times.
_unknown_failures: OrderedDict[tuple[str, str], list[dt.datetime]] = OrderedDict()
_unknown_lock = threading.Lock()
_MAX_UNKNOWN_NAMES = 1000


def _recorded_failures(session: Session, clinician_id: int, now: dt.datetime) -> list[dt.datetime]:
    """This clinician's failed sign-ins since the last success, newest first, from the trail."""
    rows = session.execute(
        select(AuditEntry.action, AuditEntry.at, AuditEntry.detail)
        .where(
            AuditEntry.clinician_id == clinician_id,
            AuditEntry.action.in_(("sign_in", "sign_in_failed")),
            AuditEntry.at >= now - FAILURE_WINDOW,
        )
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(100)
    ).all()
    out: list[dt.datetime] = []
    for action, at, detail in rows:
        if action == "sign_in":
            break
        if detail != LOCKED_DETAIL and at is not None:
            out.append(at)
    return out


def _unknown_key(db: Database, name: str) -> tuple[str, str]:
    return (str(db.engine.url), name.casefold())


def _locked_message(seconds: float) -> str:
    wait = max(1, int(seconds + 0.999))
    when = (dt.datetime.now() + dt.timedelta(seconds=wait)).strftime("%H:%M:%S")
    span = f"{wait} seconds" if wait < 120 else f"{(wait + 59) // 60} minutes"
    return (
        "Too many wrong passwords for this name. For safety, sign-in is paused: please try "
        f"again in {span} (at {when}). Ask an administrator if you have forgotten your password."
    )


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
    from app.records.validation import ValidationError, clean_text

    try:
        name = clean_text(name, "name", "The clinician's name", max_len=200) or ""
    except ValidationError as exc:
        raise SignInError(exc.message) from None
    if not name:
        raise SignInError("Please enter the clinician's name.")
    check_new_password(password)  # before anything is added to the session
    if session.scalar(select(Clinician.id).where(Clinician.name == name)) is not None:
        raise SignInError(f"There is already a clinician called {name}.")
    clinician = Clinician(name=name, role="clinician")
    session.add(clinician)
    session.flush()
    return set_password(session, clinician.id, password, role=role)


# --- the clinician list (independent of sign-in) --------------------------------------------


def _clean_name(name: object) -> str:
    from app.records.validation import ValidationError, clean_text

    try:
        cleaned = clean_text(name, "name", "The clinician's name", max_len=200) or ""
    except ValidationError as exc:
        raise SignInError(exc.message) from None
    # one spelling per name (NFC, single spaces), as sign-in compares it
    cleaned = unicodedata.normalize("NFC", " ".join(cleaned.split()))
    if not cleaned:
        raise SignInError("Please enter the clinician's name.")
    return cleaned


def list_clinicians(session: Session, *, include_inactive: bool = True) -> list[Clinician]:
    """Every clinician of the clinic, active first, by name (for the Settings list)."""
    stmt = select(Clinician).order_by(Clinician.active.desc(), Clinician.name)
    if not include_inactive:
        stmt = stmt.where(Clinician.active)
    return list(session.scalars(stmt))


def clinicians_by_name(session: Session) -> list[Clinician]:
    """Every clinician (active or not), by name: the audit filter and the accounts dialog."""
    return list(session.scalars(select(Clinician).order_by(Clinician.name)))


def sign_in_names(session: Session) -> list[str]:
    """Names that can sign in (active, with a password), by name: the sign-in list."""
    return list(
        session.scalars(
            select(Clinician.name)
            .where(Clinician.active, Clinician.password_hash.is_not(None))
            .order_by(Clinician.name)
        )
    )


def clinician_named(session: Session, name: str) -> Clinician | None:
    """The clinician with exactly this name, None when there is none."""
    return session.scalars(select(Clinician).where(Clinician.name == name)).first()


def add_clinician(session: Session, name: str) -> Clinician:
    """A clinician without a password: listed for visits; sign-in stays as it is.

    A deactivated clinician of the same name is made active again rather than duplicated.
    """
    name = _clean_name(name)
    existing = session.scalars(select(Clinician).where(Clinician.name == name)).first()
    if existing is not None:
        if existing.active:
            raise SignInError(f"There is already a clinician called {name}.")
        existing.active = True
        session.flush()
        return existing
    clinician = Clinician(name=name, role="clinician")
    session.add(clinician)
    session.flush()
    return clinician


def rename_clinician(session: Session, clinician_id: int, name: str) -> Clinician:
    """Correct a clinician's name; their visits keep pointing at them."""
    clinician = session.get(Clinician, clinician_id)
    if clinician is None:
        raise SignInError("This clinician no longer exists.")
    name = _clean_name(name)
    other = session.scalar(
        select(Clinician.id).where(Clinician.name == name, Clinician.id != clinician_id)
    )
    if other is not None:
        raise SignInError(f"There is already a clinician called {name}.")
    clinician.name = name
    session.flush()
    return clinician


def set_clinician_active(session: Session, clinician_id: int, active: bool) -> Clinician:
    """Deactivate (hidden from new visits and sign-in; past visits keep the name) or reactivate.

    The last active administrator with a password cannot be deactivated while sign-in is on,
    or nobody could manage accounts any more.
    """
    clinician = session.get(Clinician, clinician_id)
    if clinician is None:
        raise SignInError("This clinician no longer exists.")
    if not active and clinician.active and clinician.password_hash and clinician.role == "admin":
        admins = session.scalar(
            select(func.count(Clinician.id)).where(
                Clinician.active,
                Clinician.role == "admin",
                Clinician.password_hash.is_not(None),
                Clinician.id != clinician_id,
            )
        )
        if not admins:
            raise SignInError(
                f"{clinician.name} is the only administrator who can sign in. Make another "
                "clinician an administrator first (Tools ▸ Clinician accounts)."
            )
    clinician.active = bool(active)
    session.flush()
    return clinician


def sign_in(
    db: Database, name: str, password: str, *, now: dt.datetime | None = None
) -> Clinician:
    """Check the password; on success the database records this clinician on every edit.

    Failed attempts are recorded in the audit trail (with the clinician's id when the name
    exists). Raises :class:`SignInError` with one message for wrong name or wrong password, and
    :class:`SignInLocked` (saying when to try again) after repeated failures for the name.
    ``now`` (UTC, naive) is for tests of the delay.
    """
    # as create_account stores it (NFC), so a name typed with combining accents still matches
    name = unicodedata.normalize("NFC", " ".join(name.split()))
    now = now or _utcnow()
    with db.session() as s:
        clinician = s.scalars(
            select(Clinician).where(Clinician.name == name, Clinician.active)
        ).first()
        if clinician is not None:
            failures = _recorded_failures(s, clinician.id, now)
        else:
            with _unknown_lock:
                failures = list(_unknown_failures.get(_unknown_key(db, name), []))
        wait = lockout_seconds(failures, now)
        if wait > 0:
            audit.record(
                s,
                "sign_in_failed",
                clinician_id=clinician.id if clinician else None,
                detail=LOCKED_DETAIL,
            )
        else:
            stored = clinician.password_hash if clinician is not None else None
            try:
                _hasher.verify(stored or _DUMMY_HASH, password)
                ok = stored is not None
            except (VerifyMismatchError, VerificationError, InvalidHashError, UnicodeError):
                ok = False
            if not ok:
                audit.record(
                    s, "sign_in_failed", clinician_id=clinician.id if clinician else None
                )
    if wait > 0:
        raise SignInLocked(_locked_message(wait), wait)
    if not ok or clinician is None:
        if clinician is None:
            _remember_unknown_failure(db, name, now)
        raise SignInError("The name or the password is not right. Please try again.")
    with db.session() as s:
        if _hasher.check_needs_rehash(stored or ""):
            s.get(Clinician, clinician.id).password_hash = _hasher.hash(password)  # type: ignore[union-attr]
        audit.record(s, "sign_in", clinician_id=clinician.id)
    db.clinician_id = clinician.id
    return clinician


def _remember_unknown_failure(db: Database, name: str, now: dt.datetime) -> None:
    key = _unknown_key(db, name)
    with _unknown_lock:
        times = [t for t in _unknown_failures.pop(key, []) if now - t <= FAILURE_WINDOW]
        _unknown_failures[key] = (times + [now])[-50:]
        while len(_unknown_failures) > _MAX_UNKNOWN_NAMES:
            _unknown_failures.popitem(last=False)


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
