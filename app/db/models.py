"""The clinic's records as SQLAlchemy 2 models.

Every table that two workstations might edit at once carries a ``version`` column used by
SQLAlchemy's optimistic concurrency (``version_id_col``): a stale save raises instead of
silently overwriting another clinician's edit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def new_uid() -> str:
    """A record's permanent identity (32 hex digits), never reused.

    Integer ids can come back after a restore (SQLite reuses the largest freed id), so anything
    outside the database that belongs to a record, such as its media folder, is named by ``uid``.
    """
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Clinician(Base):
    __tablename__ = "clinician"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    # Optional sign-in (app.safety.accounts): argon2id hash, never the password itself.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # "clinician" or "admin"; only administrators may view and export the audit trail.
    role: Mapped[str] = mapped_column(String(20), default="clinician", server_default="clinician")


class Patient(Base):
    __tablename__ = "patient"
    __table_args__ = (
        Index("ix_patient_name_key", "name_key"),
        Index("uq_patient_uid", "uid", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Never reused, unlike ``id``: names the record's media folder (see ``new_uid``).
    uid: Mapped[str] = mapped_column(String(32), default=new_uid, nullable=False)
    full_name: Mapped[str] = mapped_column(String(300))
    # Case- and accent-folded name used for instant search and duplicate detection.
    name_key: Mapped[str] = mapped_column(String(300))
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(20), default="unspecified")
    height_cm: Mapped[float | None] = mapped_column(Float)
    leg_length_cm: Mapped[float | None] = mapped_column(Float)
    phone: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    complaint: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now, onupdate=_now)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    visits: Mapped[list[Visit]] = relationship(
        back_populates="patient",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Visit.visit_date",
    )

    __mapper_args__ = {"version_id_col": version}


class Visit(Base):
    __tablename__ = "visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Never reused, unlike ``id``: names the record's media folder (see ``new_uid``).
    uid: Mapped[str] = mapped_column(String(32), default=new_uid, nullable=False)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    clinician_id: Mapped[int | None] = mapped_column(
        ForeignKey("clinician.id", ondelete="SET NULL")
    )
    visit_date: Mapped[dt.date] = mapped_column(Date)
    treadmill_speed_kmh: Mapped[float | None] = mapped_column(Float)
    incline_pct: Mapped[float | None] = mapped_column(Float)
    shoes: Mapped[str | None] = mapped_column(String(200))
    pain_now: Mapped[int | None] = mapped_column(Integer)
    pain_worst_24h: Mapped[int | None] = mapped_column(Integer)
    pain_running: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    patient: Mapped[Patient] = relationship(back_populates="visits")
    clinician: Mapped[Clinician | None] = relationship()
    recordings: Mapped[list[Recording]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", passive_deletes=True
    )
    prescriptions: Mapped[list[Prescription]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", passive_deletes=True
    )
    home_programs: Mapped[list[HomeProgram]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        Index("uq_visit_uid", "uid", unique=True),
        CheckConstraint("pain_now IS NULL OR (pain_now BETWEEN 0 AND 10)", name="pain_now"),
        CheckConstraint(
            "pain_worst_24h IS NULL OR (pain_worst_24h BETWEEN 0 AND 10)", name="pain_worst"
        ),
        CheckConstraint(
            "pain_running IS NULL OR (pain_running BETWEEN 0 AND 10)", name="pain_running"
        ),
    )
    __mapper_args__ = {"version_id_col": version}


class Recording(Base):
    __tablename__ = "recording"
    __table_args__ = (Index("uq_recording_uid", "uid", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Never reused, unlike ``id``: names the record's media folder (see ``new_uid``).
    uid: Mapped[str] = mapped_column(String(32), default=new_uid, nullable=False)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    # Relative to the data folder's videos directory, so the folder can move or be shared.
    video_path: Mapped[str] = mapped_column(String(1000))
    original_name: Mapped[str | None] = mapped_column(String(500))
    view: Mapped[str] = mapped_column(String(20), default="side")
    container_fps: Mapped[float | None] = mapped_column(Float)
    capture_fps: Mapped[float | None] = mapped_column(Float)
    frame_count: Mapped[int | None] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    cm_per_px: Mapped[float | None] = mapped_column(Float)
    calibration: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The file's clock (app.video.timebase.timestamp_map): frame -> time without a video decode.
    # Filled at import / recording and on the first open of a video imported before (0005).
    timestamps: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    # Bumped by every save of the foot events: two workstations annotating the same recording
    # detect each other's saves instead of silently overwriting (app.records.recordings).
    events_revision: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )

    visit: Mapped[Visit] = relationship(back_populates="recordings")
    events: Mapped[list[FootEventRecord]] = relationship(
        back_populates="recording",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="FootEventRecord.frame",
    )
    overlays: Mapped[list[Overlay]] = relationship(
        back_populates="recording", cascade="all, delete-orphan", passive_deletes=True
    )


class FootEventRecord(Base):
    __tablename__ = "foot_event"
    __table_args__ = (
        UniqueConstraint("recording_id", "frame", "foot", "type", name="one_per_frame"),
        CheckConstraint("foot IN ('left', 'right')", name="foot"),
        CheckConstraint("type IN ('initial_contact', 'toe_off')", name="type"),
        CheckConstraint("source IN ('manual', 'automatic')", name="source"),
        CheckConstraint("frame >= 0", name="frame"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recording.id", ondelete="CASCADE"), index=True
    )
    frame: Mapped[int] = mapped_column(Integer)
    foot: Mapped[str] = mapped_column(String(5))
    type: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(10), default="manual")
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)

    recording: Mapped[Recording] = relationship(back_populates="events")


class Overlay(Base):
    """A measurement drawn on the video (reference line, angle, distance, calibration): on
    ``frame``, on every frame (``frame`` = -1), or on ``frame`` to ``last_frame``."""

    __tablename__ = "overlay"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recording.id", ondelete="CASCADE"), index=True
    )
    frame: Mapped[int] = mapped_column(Integer)
    last_frame: Mapped[int | None] = mapped_column(Integer)  # 0007: a range of frames
    kind: Mapped[str] = mapped_column(String(20))
    points: Mapped[list[list[float]]] = mapped_column(JSON)
    value: Mapped[float | None] = mapped_column(Float)
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)

    recording: Mapped[Recording] = relationship(back_populates="overlays")


class Prescription(Base):
    __tablename__ = "prescription"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    baseline_spm: Mapped[float | None] = mapped_column(Float)
    baseline_source: Mapped[str | None] = mapped_column(String(50))
    target_spm: Mapped[int] = mapped_column(Integer)
    increase_pct: Mapped[float | None] = mapped_column(Float)
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)

    visit: Mapped[Visit] = relationship(back_populates="prescriptions")


class HomeProgram(Base):
    __tablename__ = "home_program"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pdf_path: Mapped[str | None] = mapped_column(String(1000))
    printed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)

    visit: Mapped[Visit] = relationship(back_populates="home_programs")


class VisitOutcome(Base):
    """Patient-reported outcome measures of one visit (pain NPRS stays on :class:`Visit`).

    Both disability scales have a column, so a clinic that switches between Oswestry and
    Roland-Morris keeps every earlier score. ``psfs`` holds the Patient-Specific Functional Scale
    items as ``[{"activity": str, "score": int, "running": bool}, ...]`` (3–5 items, 0–10).
    """

    __tablename__ = "visit_outcome"
    __table_args__ = (
        CheckConstraint("odi IS NULL OR (odi BETWEEN 0 AND 100)", name="odi"),
        CheckConstraint("rmdq IS NULL OR (rmdq BETWEEN 0 AND 24)", name="rmdq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(
        ForeignKey("visit.id", ondelete="CASCADE"), unique=True, index=True
    )
    odi: Mapped[int | None] = mapped_column(Integer)
    rmdq: Mapped[int | None] = mapped_column(Integer)
    psfs: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now, onupdate=_now)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class AuditEntry(Base):
    """Who did what to which patient's data, and when (app.safety.audit).

    No foreign keys on purpose: the trail must outlive the deletion of the patient or the
    clinician it mentions. ``detail`` holds ids and field names only, never health data.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_patient_id", "patient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    clinician_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    patient_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(String(500))
    workstation: Mapped[str | None] = mapped_column(String(200))
    # Hash chained to the previous entry, so an edited or deleted row is detectable.
    chain_hash: Mapped[str | None] = mapped_column(String(64))


__all__ = [
    "AuditEntry",
    "Base",
    "Clinician",
    "FootEventRecord",
    "HomeProgram",
    "Overlay",
    "Patient",
    "Prescription",
    "Recording",
    "Visit",
    "VisitOutcome",
    "func",
    "new_uid",
]
