"""Practice sessions in the clinic database (table ``practice_session``, migration 0006).

SQLAlchemy Core on the table the migration creates, so the shared ORM models stay untouched.
:func:`save_session` inserts or, for a session saved before (same ``uid``), replaces it: the
panel saves a running session every few seconds and again at the end, so a crash or a camera
that stops keeps the session so far.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from .session import PracticeError, PracticeSession, Sample, Totals, totals

metadata = sa.MetaData()

practice_session = sa.Table(
    "practice_session",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("uid", sa.String(32), nullable=False),
    sa.Column("visit_id", sa.Integer, nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("duration_s", sa.Float, nullable=False),
    sa.Column("target_spm", sa.Float, nullable=False),
    sa.Column("tolerance_spm", sa.Float, nullable=False),
    sa.Column("schedule", sa.JSON),
    sa.Column("samples", sa.JSON, nullable=False),
    sa.Column("metronome_spans", sa.JSON, nullable=False),
    sa.Column("measured_cue_s", sa.Float, nullable=False),
    sa.Column("on_target_cue_s", sa.Float, nullable=False),
    sa.Column("measured_nocue_s", sa.Float, nullable=False),
    sa.Column("on_target_nocue_s", sa.Float, nullable=False),
    sa.Column("mean_cue_spm", sa.Float),
    sa.Column("mean_nocue_spm", sa.Float),
    sa.Column("notes", sa.JSON),
    sa.Column("recording_path", sa.Text),
    sa.Column("saved_at", sa.DateTime, nullable=False),
)

_visit = sa.table(
    "visit", sa.column("id", sa.Integer), sa.column("patient_id", sa.Integer),
    sa.column("visit_date", sa.Date),
)  # fmt: skip


@dataclass
class SavedPractice:
    """A practice session as read back from the database."""

    id: int
    uid: str
    visit_id: int
    started_at: dt.datetime
    duration_s: float
    target_spm: float
    tolerance_spm: float
    samples: list[Sample]
    spans: list[list[Any]]
    totals: Totals
    schedule: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    recording_path: str | None = None
    visit_date: dt.date | None = None


def encode_samples(samples: list[Sample]) -> dict[str, list[Any]]:
    """Column-wise JSON: ``{"t": [...], "spm": [...], "cue": [0/1...], "conf": [...]}``."""
    return {
        "t": [s.t for s in samples],
        "spm": [s.spm for s in samples],
        "cue": [int(s.cue) for s in samples],
        "conf": [s.confidence for s in samples],
    }


def decode_samples(data: Any) -> list[Sample]:
    try:
        t, spm, cue, conf = (data[k] for k in ("t", "spm", "cue", "conf"))
        return [
            Sample(float(a), None if b is None else float(b), bool(c), float(d))
            for a, b, c, d in zip(t, spm, cue, conf, strict=True)
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise PracticeError("A saved practice session is damaged (its cadence record).") from exc


def row_values(session: PracticeSession, visit_id: int, duration_s: float) -> dict[str, Any]:
    """A snapshot of ``session`` as a row (take it on the thread that changes the session)."""
    if session.started_at is None:
        raise PracticeError("A practice session that never started cannot be saved.")
    tot = session.totals()
    return {
        "uid": session.uid,
        "visit_id": int(visit_id),
        "started_at": session.started_at.replace(tzinfo=None),
        "duration_s": round(float(duration_s), 3),
        "target_spm": session.target_spm,
        "tolerance_spm": session.tolerance_spm,
        "schedule": session.schedule.to_dict(),
        "samples": encode_samples(session.samples),
        "metronome_spans": [list(s) for s in session.spans],
        "measured_cue_s": tot.measured_cue_s,
        "on_target_cue_s": tot.on_target_cue_s,
        "measured_nocue_s": tot.measured_nocue_s,
        "on_target_nocue_s": tot.on_target_nocue_s,
        "mean_cue_spm": tot.mean_cue_spm,
        "mean_nocue_spm": tot.mean_nocue_spm,
        "notes": list(session.events),
        "recording_path": session.recording_path,
        "saved_at": dt.datetime.now(),
    }


def save_session(db: Any, session: PracticeSession, visit_id: int,
                 duration_s: float | None = None) -> int:  # fmt: skip
    """Insert or replace (same uid) ``session`` for ``visit_id``; returns the row id.

    ``db`` is an :class:`app.db.database.Database`; its errors (locked, disk full) propagate
    as the database layer raises them.
    """
    d = session.duration_s if duration_s is None else duration_s
    return save_values(db, row_values(session, visit_id, d))


def save_values(db: Any, values: dict[str, Any]) -> int:
    """Insert or replace (same uid) a row made by :func:`row_values`; returns its id."""
    with db.session() as s:
        found = s.execute(
            sa.select(practice_session.c.id).where(practice_session.c.uid == values["uid"])
        ).scalar()
        if found is not None:
            s.execute(practice_session.update().where(practice_session.c.id == found).values(**values))
            return int(found)
        return int(s.execute(practice_session.insert().values(**values)).inserted_primary_key[0])


def _from_row(row: Any) -> SavedPractice:
    samples = decode_samples(row.samples)
    return SavedPractice(
        id=row.id, uid=row.uid, visit_id=row.visit_id, started_at=row.started_at,
        duration_s=row.duration_s, target_spm=row.target_spm, tolerance_spm=row.tolerance_spm,
        samples=samples, spans=list(row.metronome_spans or []),
        totals=totals(samples, row.target_spm, row.tolerance_spm),
        schedule=row.schedule, notes=list(row.notes or []), recording_path=row.recording_path,
        visit_date=getattr(row, "visit_date", None),
    )  # fmt: skip


def sessions_for_visit(db: Any, visit_id: int) -> list[SavedPractice]:
    """The visit's practice sessions, oldest first."""
    with db.session() as s:
        rows = s.execute(
            sa.select(practice_session).where(practice_session.c.visit_id == visit_id)
            .order_by(practice_session.c.started_at)
        ).all()  # fmt: skip
    return [_from_row(r) for r in rows]


def sessions_for_patient(db: Any, patient_id: int) -> list[SavedPractice]:
    """Every practice session of the patient, by visit date then start time."""
    with db.session() as s:
        return sessions_in(s, patient_id)


def sessions_in(session: Any, patient_id: int) -> list[SavedPractice]:
    """:func:`sessions_for_patient` inside an open unit of work (a SQLAlchemy ``Session``)."""
    rows = session.execute(
        sa.select(practice_session, _visit.c.visit_date)
        .join(_visit, _visit.c.id == practice_session.c.visit_id)
        .where(_visit.c.patient_id == patient_id)
        .order_by(_visit.c.visit_date, practice_session.c.started_at)
    ).all()  # fmt: skip
    return [_from_row(r) for r in rows]


def count_for_patient(db: Any, patient_id: int) -> int:
    with db.session() as s:
        return int(s.execute(
            sa.select(sa.func.count()).select_from(practice_session)
            .join(_visit, _visit.c.id == practice_session.c.visit_id)
            .where(_visit.c.patient_id == patient_id)
        ).scalar() or 0)  # fmt: skip


def delete_session(db: Any, session_id: int) -> None:
    with db.session() as s:
        s.execute(practice_session.delete().where(practice_session.c.id == session_id))
