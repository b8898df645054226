"""The audit trail: who viewed, created, changed, exported, printed or deleted which patient's data.

Entries go to the ``audit_log`` table (never to log files). They carry ids only: the patient id,
the clinician id, and a short ``detail`` naming *what kind* of record or which fields changed —
never names, notes or other health data, so the trail itself can be shown to an administrator
and exported without disclosing clinical content.

Creates, changes and deletions of patients, visits and their child records are recorded
automatically by a flush hook installed on each opened database (:func:`install`); views,
exports and prints are recorded by the UI through :func:`record`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import socket
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.db.models import (
    AuditEntry,
    Clinician,
    HomeProgram,
    Overlay,
    Patient,
    Prescription,
    Recording,
    Visit,
)
from app.errors import ClinicError
from app.safety import audit_chain
from app.safety.audit_chain import ChainReport as ChainReport  # re-exported for the UI
from app.safety.audit_chain import check_at_start as check_at_start
from app.safety.audit_chain import verify as verify

if TYPE_CHECKING:
    from app.db.database import Database

ACTIONS = (
    "view",
    "create",
    "change",
    "delete",
    "export",
    "print",
    "sign_in",
    "sign_out",
    "sign_in_failed",
    "lock",
    "backup",
    "restore",
)
MAX_DETAIL = 500
_HOST = socket.gethostname()[:200]


class AuditError(ClinicError, ValueError):
    """An audit call was malformed (a programming error, not a clinician's)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _values(
    session: Session,
    action: str,
    patient_id: int | None,
    clinician_id: int | None,
    detail: str | None,
) -> dict[str, object]:
    if action not in ACTIONS:
        raise AuditError(f"unknown audit action {action!r}; use one of {ACTIONS}")
    if clinician_id is None:
        clinician_id = session.info.get("clinician_id")
    return {
        "at": _now(),
        "clinician_id": clinician_id,
        "action": action,
        "patient_id": patient_id,
        "detail": (detail or None) and detail[:MAX_DETAIL],
        "workstation": _HOST,
    }


def record(
    session: Session,
    action: str,
    patient_id: int | None = None,
    clinician_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Add one audit entry in ``session``'s transaction (it commits or rolls back with the edit).

    ``clinician_id`` defaults to the signed-in clinician of the database the session came
    from. ``detail`` must not contain health data or names: use record kinds, ids and field
    names ("visit 12", "home program PDF"). ``action`` is one of :data:`ACTIONS`.
    """
    values = _values(session, action, patient_id, clinician_id, detail)
    # Core insert: safe to call from inside a flush (the automatic hook) and outside one.
    _append(session, [values])


def _append(session: Session, rows: list[dict[str, object]]) -> None:
    """Insert and hash-chain entries (app.safety.audit_chain); the head is kept after commit."""
    head = audit_chain.append(session.connection(), rows)
    if head is not None:
        session.info["audit_head"] = head


def _after_commit(session: Session) -> None:
    head = session.info.pop("audit_head", None)
    if head is not None:
        bind = session.get_bind()
        url = bind.engine.url if bind is not None else None
        if url is not None and url.get_backend_name() == "sqlite" and url.database:
            audit_chain.write_head(Path(url.database), *head)


def _after_rollback(session: Session) -> None:
    session.info.pop("audit_head", None)  # a rolled-back entry never becomes the head


# Views repeat as the clinician clicks around; one entry per patient per this many seconds.
VIEW_REPEAT_S = 600.0
_views: weakref.WeakKeyDictionary[Database, dict[tuple[int | None, int], float]] = (
    weakref.WeakKeyDictionary()
)


def log_action(
    db: Database, action: str, patient_id: int | None = None, detail: str | None = None
) -> None:
    """:func:`record` in its own transaction: a one-line call site for the UI (export, print)."""
    with db.session() as s:
        record(s, action, patient_id, detail=detail)


def log_view(db: Database, patient_id: int, *, now: float | None = None) -> bool:
    """Record that the signed-in clinician opened ``patient_id``'s record.

    Repeated views of the same patient by the same clinician within :data:`VIEW_REPEAT_S`
    are folded into one entry. Returns True when an entry was written.
    """
    import time

    now = time.monotonic() if now is None else now
    seen = _views.setdefault(db, {})
    key = (db.clinician_id, patient_id)
    last = seen.get(key)
    if last is not None and now - last < VIEW_REPEAT_S:
        return False
    log_action(db, "view", patient_id)
    seen[key] = now
    return True


# --- automatic entries for ORM edits --------------------------------------------------------

# Child records whose patient is found through their visit (or recording).
_VIA_VISIT = (Recording, Prescription, HomeProgram)
_KIND = {
    Patient: "patient",
    Visit: "visit",
    Recording: "recording",
    Prescription: "prescription",
    HomeProgram: "home program",
    Overlay: "measurement",
}


def _visit_outcome_class() -> type | None:
    try:
        from app.db.models import VisitOutcome
    except ImportError:  # pragma: no cover - older model sets
        return None
    return VisitOutcome


def _patient_of(session: Session, obj: object) -> int | None:
    conn = session.connection()
    if isinstance(obj, Patient):
        return obj.id
    if isinstance(obj, Visit):
        return obj.patient_id
    visit_id = getattr(obj, "visit_id", None)
    if visit_id is None and isinstance(obj, Overlay):
        visit_id = conn.execute(
            select(Recording.visit_id).where(Recording.id == obj.recording_id)
        ).scalar()
    if visit_id is None:
        return None
    return conn.execute(select(Visit.patient_id).where(Visit.id == visit_id)).scalar()


def _changed_fields(obj: object) -> list[str]:
    state = inspect(obj)
    skip = {"version", "updated_at", "name_key", "events_revision"}
    return sorted(
        attr.key
        for attr in state.mapper.column_attrs
        if attr.key not in skip and state.attrs[attr.key].history.has_changes()
    )


def _kind(obj: object) -> str | None:
    for cls, name in _KIND.items():
        if isinstance(obj, cls):
            return name
    outcome = _visit_outcome_class()
    if outcome is not None and isinstance(obj, outcome):
        return "outcome measures"
    return None


def _before_flush(session: Session, _ctx: object, _instances: object) -> None:
    # Every new visit records who saw the patient, unless the form chose a clinician.
    clinician_id = session.info.get("clinician_id")
    if clinician_id is None:
        return
    for obj in session.new:
        if isinstance(obj, Visit) and obj.clinician_id is None:
            obj.clinician_id = clinician_id


def _after_flush(session: Session, _ctx: object) -> None:
    entries: dict[tuple[str, int | None, str], None] = {}
    for action, objects in (
        ("create", session.new),
        ("change", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            kind = _kind(obj)
            if kind is None:
                continue
            detail = f"{kind} {getattr(obj, 'id', '')}".strip()
            if action == "change":
                fields = _changed_fields(obj)
                if not fields:
                    continue
                detail += ": " + ", ".join(fields)
            try:
                patient_id = _patient_of(session, obj)
            except Exception:  # a parent deleted in the same flush: still log the edit
                patient_id = getattr(obj, "patient_id", None)
            entries[(action, patient_id, detail)] = None
    if not entries:
        return
    rows = [_values(session, a, pid, None, d) for (a, pid, d) in entries]
    _append(session, rows)


def install(db: Database) -> None:
    """Record creates/changes/deletes of clinical records automatically in ``db``'s sessions.

    Called where the clinic is opened (:func:`app.clinic.open_clinic_database`), through the
    database's public hook; idempotent.
    """
    db.add_session_hooks(
        "audit",
        {
            "before_flush": _before_flush,
            "after_flush": _after_flush,
            "after_commit": _after_commit,
            "after_rollback": _after_rollback,
        },
    )


# --- reading and exporting ------------------------------------------------------------------


@dataclass(frozen=True)
class AuditRow:
    """One line of the audit view (ids and the clinician's name, no patient data)."""

    at: dt.datetime
    action: str
    patient_id: int | None
    clinician_id: int | None
    clinician: str
    detail: str
    workstation: str


def entries(
    session: Session,
    *,
    patient_id: int | None = None,
    clinician_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 5000,
) -> list[AuditRow]:
    """Audit entries, newest first, optionally filtered."""
    stmt = select(AuditEntry, Clinician.name).outerjoin(
        Clinician, Clinician.id == AuditEntry.clinician_id
    )
    if patient_id is not None:
        stmt = stmt.where(AuditEntry.patient_id == patient_id)
    if clinician_id is not None:
        stmt = stmt.where(AuditEntry.clinician_id == clinician_id)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    stmt = stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    return [
        AuditRow(
            at=e.at,
            action=e.action,
            patient_id=e.patient_id,
            clinician_id=e.clinician_id,
            clinician=name or ("—" if e.clinician_id is None else f"#{e.clinician_id}"),
            detail=e.detail or "",
            workstation=e.workstation or "",
        )
        for e, name in session.execute(stmt)
    ]


CSV_HEADER = [
    "time_utc",
    "action",
    "patient_id",
    "clinician_id",
    "clinician",
    "detail",
    "workstation",
]


def to_csv(rows: Iterable[AuditRow]) -> str:
    """The rows as CSV text (UTC ISO times)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        writer.writerow(
            [
                r.at.isoformat(timespec="seconds"),
                r.action,
                "" if r.patient_id is None else r.patient_id,
                "" if r.clinician_id is None else r.clinician_id,
                r.clinician,
                r.detail,
                r.workstation,
            ]
        )
    return out.getvalue()


def export_csv(rows: Iterable[AuditRow], path: Path) -> None:
    """Write the rows to ``path`` (UTF-8 with BOM so spreadsheet programs read accents)."""
    path.write_text(to_csv(rows), encoding="utf-8-sig")
