"""Read models of a patient's record for the window: plain data, built in one session.

The main window's patient view shows a :class:`PatientSummary`; building it (the queries, the
review rule of every figure) is domain work and lives here, so that ``ui/`` runs no queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Patient, Recording, Visit
from app.records import measurements


@dataclass
class RecordingSummary:
    id: int
    name: str
    view: str
    capture_fps: float | None
    frames: int | None
    contacts: int
    review: measurements.ReviewCount = field(default_factory=measurements.ReviewCount)
    """Marks and reviewed marks (contacts and toe-offs), as the marking sidebar counts them."""


@dataclass
class VisitSummary:
    id: int
    date: dt.date
    clinician: str
    speed_kmh: float | None
    pain_running: int | None
    recordings: list[RecordingSummary] = field(default_factory=list)
    notes: str = ""
    cadence_spm: float | None = None
    target_spm: int | None = None

    @property
    def review(self) -> measurements.ReviewCount:
        """The review state of all the visit's recordings ("12 of 65 reviewed")."""
        total = measurements.ReviewCount()
        for r in self.recordings:
            total = total + r.review
        return total


@dataclass
class PatientSummary:
    id: int
    full_name: str
    details: str
    complaint: str
    visits: list[VisitSummary] = field(default_factory=list)


def _age(dob: dt.date | None) -> str:
    if dob is None:
        return "age unknown"
    t = dt.date.today()
    return f"{t.year - dob.year - ((t.month, t.day) < (dob.month, dob.day))} years"


def patient_summary(s: Session, patient_id: int) -> PatientSummary | None:
    """The patient's record as the window shows it; None when there is no such patient."""
    p = s.get(Patient, patient_id)
    if p is None:
        return None
    bits = [_age(p.date_of_birth), p.sex if p.sex != "unspecified" else ""]
    if p.height_cm:
        bits.append(f"{p.height_cm:g} cm")
    if p.leg_length_cm:
        bits.append(f"leg {p.leg_length_cm:g} cm")
    if p.date_of_birth:
        bits.append(f"born {p.date_of_birth.isoformat()}")
    recs: dict[int, list[RecordingSummary]] = {}
    # Reviewed contacts only: the review rule of every figure (app.records.measurements).
    contact_counts = measurements.reviewed_contact_counts(s, patient_id)
    review = measurements.patient_review_counts(s, patient_id)
    for r in s.scalars(
        select(Recording).join(Visit).where(Visit.patient_id == patient_id).order_by(Recording.id)
    ):
        recs.setdefault(r.visit_id, []).append(
            RecordingSummary(
                id=r.id,
                name=r.original_name or r.video_path,
                view=r.view,
                capture_fps=r.capture_fps,
                frames=r.frame_count,
                contacts=int(contact_counts.get(r.id, 0)),
                review=review.get(r.id, measurements.ReviewCount()),
            )
        )
    measured = measurements.patient_measurements(s, patient_id)
    prescribed = measurements.latest_prescriptions(s, patient_id)
    visits = [
        VisitSummary(
            id=v.id,
            date=v.visit_date,
            clinician=v.clinician.name if v.clinician else "",
            speed_kmh=v.treadmill_speed_kmh,
            pain_running=v.pain_running,
            recordings=recs.get(v.id, []),
            notes=v.notes or "",
            cadence_spm=measured[v.id].cadence_spm if v.id in measured else None,
            target_spm=prescribed[v.id].target_spm if v.id in prescribed else None,
        )
        for v in p.visits
    ]
    return PatientSummary(
        id=p.id,
        full_name=p.full_name,
        details=" · ".join(b for b in bits if b),
        complaint=p.complaint or "",
        visits=visits,
    )


def patient_names(s: Session, ids: set[int] | list[int]) -> dict[int, str]:
    """Full names of the patients with these ids (deleted ones are absent): the audit view."""
    if not ids:
        return {}
    rows = s.execute(select(Patient.id, Patient.full_name).where(Patient.id.in_(list(ids))))
    return {pid: name for pid, name in rows}
