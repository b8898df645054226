"""Visits (sessions): one treadmill assessment of one patient on one day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Clinician, Patient, Visit
from app.paths import DataFolder
from app.records import media
from app.records.validation import (
    INCLINE_RANGE_PCT,
    SPEED_RANGE_KMH,
    ValidationError,
    clean_text,
    optional_number,
    optional_score,
    parse_date,
)


@dataclass
class VisitData:
    visit_date: dt.date | str | None = None
    clinician_id: int | None = None
    treadmill_speed_kmh: float | str | None = None
    incline_pct: float | str | None = None
    shoes: str | None = None
    pain_now: int | str | None = None
    pain_worst_24h: int | str | None = None
    pain_running: int | str | None = None
    notes: str | None = None

    @classmethod
    def from_visit(cls, v: Visit) -> VisitData:
        return cls(
            visit_date=v.visit_date,
            clinician_id=v.clinician_id,
            treadmill_speed_kmh=v.treadmill_speed_kmh,
            incline_pct=v.incline_pct,
            shoes=v.shoes,
            pain_now=v.pain_now,
            pain_worst_24h=v.pain_worst_24h,
            pain_running=v.pain_running,
            notes=v.notes,
        )


def _validated(session: Session, data: VisitData) -> dict[str, object]:
    date = parse_date(data.visit_date, "visit_date") if data.visit_date else dt.date.today()
    if data.clinician_id is not None and session.get(Clinician, data.clinician_id) is None:
        raise ValidationError("clinician_id", "The chosen clinician does not exist.")
    return {
        "visit_date": date,
        "clinician_id": data.clinician_id,
        "treadmill_speed_kmh": optional_number(
            data.treadmill_speed_kmh,
            "treadmill_speed_kmh",
            "Treadmill speed",
            SPEED_RANGE_KMH,
            "km/h",
        ),
        "incline_pct": optional_number(
            data.incline_pct, "incline_pct", "Incline", INCLINE_RANGE_PCT, "%"
        ),
        "shoes": clean_text(data.shoes, "shoes", "Shoes"),
        "pain_now": optional_score(data.pain_now, "pain_now", "Pain now"),
        "pain_worst_24h": optional_score(
            data.pain_worst_24h, "pain_worst_24h", "Worst pain in 24 h"
        ),
        "pain_running": optional_score(data.pain_running, "pain_running", "Pain during running"),
        "notes": clean_text(data.notes, "notes", "The notes", multiline=True),
    }


def create_visit(session: Session, patient_id: int, data: VisitData) -> Visit:
    if session.get(Patient, patient_id) is None:
        raise ValidationError("patient_id", "This patient no longer exists.")
    visit = Visit(patient_id=patient_id, **_validated(session, data))
    session.add(visit)
    session.flush()
    return visit


def update_visit(
    session: Session, visit_id: int, data: VisitData, *, expected_version: int | None = None
) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise ValidationError("id", "This visit no longer exists.")
    if expected_version is not None and visit.version != expected_version:
        raise ValidationError(
            "version",
            "This visit was changed on another workstation since you opened it. Reopen it and "
            "make your change again.",
        )
    for key, value in _validated(session, data).items():
        setattr(visit, key, value)
    session.flush()
    return visit


def delete_visit(
    session: Session,
    visit_id: int,
    videos_root: Path | None = None,
    data_root: Path | None = None,
) -> list[Path]:
    """Delete a visit and its records; returns its files for the caller to remove after commit.

    The files are the visit's videos (with their capture sidecars and pose caches), whatever
    else is in its uid-named folder and, with ``data_root``, the stills exported from its
    recordings and the PDF copies of home programs given at this visit; never a file that a
    remaining row references (:mod:`app.records.media`). Without ``videos_root`` no file is
    returned. Remove them with :func:`app.records.patients.remove_media`.
    """
    visit = session.get(Visit, visit_id)
    if visit is None:
        return []
    paths: list[Path] = []
    layout = None
    if videos_root is not None:
        videos_root = Path(videos_root)
        layout = DataFolder(Path(data_root)).media(videos_root) if data_root is not None else None
        folder = media.visit_folder(session, videos_root, visit_id)
        paths = media.candidates(
            layout,
            videos_root,
            recordings=visit.recordings,
            programs=visit.home_programs,
            owned_folders=[folder],
        )
    session.delete(visit)
    session.flush()
    if videos_root is None:
        return []
    return media.unreferenced(session, layout, videos_root, paths)


def visits_of(session: Session, patient_id: int) -> list[Visit]:
    stmt = select(Visit).where(Visit.patient_id == patient_id).order_by(Visit.visit_date, Visit.id)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class PreviousConditions:
    """The treadmill conditions of a patient's latest visit, carried over to a follow-up."""

    visit_id: int
    visit_date: dt.date
    treadmill_speed_kmh: float | None
    incline_pct: float | None
    shoes: str | None

    def any(self) -> bool:
        """True when there is at least one condition to carry over."""
        return any(
            v not in (None, "") for v in (self.treadmill_speed_kmh, self.incline_pct, self.shoes)
        )


def last_conditions(session: Session, patient_id: int) -> PreviousConditions | None:
    """Speed, incline and shoes of the patient's latest visit (by date, then by creation)."""
    row = session.execute(
        select(
            Visit.id, Visit.visit_date, Visit.treadmill_speed_kmh, Visit.incline_pct, Visit.shoes
        )
        .where(Visit.patient_id == patient_id)
        .order_by(Visit.visit_date.desc(), Visit.created_at.desc(), Visit.id.desc())
        .limit(1)
    ).first()
    return PreviousConditions(*row) if row is not None else None


def clinicians(session: Session) -> list[Clinician]:
    return list(session.scalars(select(Clinician).where(Clinician.active).order_by(Clinician.name)))


def ensure_clinician(session: Session, name: str) -> Clinician:
    found = session.scalars(select(Clinician).where(Clinician.name == name)).first()
    if found:
        return found
    clinician = Clinician(name=name)
    session.add(clinician)
    session.flush()
    return clinician
