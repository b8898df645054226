"""What a visit measured (from its marked recordings) and what was prescribed.

Review rule (``app.annotation.session.REVIEW_RULE``): every figure uses reviewed marks only,
those a clinician placed or accepted; unreviewed automatic proposals are not counted. The
queries here and in :mod:`app.history.trends` filter with :func:`reviewed_filter`, so the visits
table, the Prescribe baseline, the History, home programs and exports all follow it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.analysis.metrics import TemporalMetrics, temporal_metrics
from app.db.models import FootEventRecord, Prescription, Recording, Visit
from app.prescription.rules import PrescriptionError, validate_stored_prescription
from app.records.recordings import timebase_of, to_event
from app.records.validation import SPEED_RANGE_KMH, ValidationError, optional_number


def reviewed_filter() -> Any:
    """SQL condition on ``FootEventRecord`` for the events figures may use (reviewed only)."""
    return FootEventRecord.source == EventSource.MANUAL.value


def reviewed_contact_counts(session: Session, patient_id: int) -> dict[int, int]:
    """Reviewed initial contacts per recording of a patient (the visits table's count)."""
    from sqlalchemy import func

    e = FootEventRecord
    return dict(
        session.execute(
            select(e.recording_id, func.count())
            .join(Recording, Recording.id == e.recording_id)
            .join(Visit, Visit.id == Recording.visit_id)
            .where(Visit.patient_id == patient_id, e.type == "initial_contact", reviewed_filter())
            .group_by(e.recording_id)
        ).all()
    )


@dataclass(frozen=True)
class ReviewCount:
    """How far a recording's (or a visit's) marks are reviewed, counted as the sidebar does."""

    total: int = 0
    reviewed: int = 0

    @property
    def unreviewed(self) -> int:
        return self.total - self.reviewed

    def __add__(self, other: ReviewCount) -> ReviewCount:
        return ReviewCount(self.total + other.total, self.reviewed + other.reviewed)

    @property
    def text(self) -> str:
        """ "12 of 65 reviewed", "all 40 reviewed" or "not marked" (the visits table)."""
        if self.total == 0:
            return "not marked"
        if self.reviewed == self.total:
            return f"all {self.total} reviewed"
        return f"{self.reviewed} of {self.total} reviewed"


def review_counts(session: Session, where: Any) -> dict[int, ReviewCount]:
    """Marks and reviewed marks per recording matching ``where`` (a ``Recording`` condition)."""
    from sqlalchemy import case, func

    e = FootEventRecord
    rows = session.execute(
        select(e.recording_id, func.count(), func.sum(case((reviewed_filter(), 1), else_=0)))
        .join(Recording, Recording.id == e.recording_id)
        .where(where)
        .group_by(e.recording_id)
    ).all()
    return {rid: ReviewCount(int(n), int(r or 0)) for rid, n, r in rows}


def patient_review_counts(session: Session, patient_id: int) -> dict[int, ReviewCount]:
    """:func:`review_counts` for every recording of a patient (the visits table)."""
    visit_ids = select(Visit.id).where(Visit.patient_id == patient_id)
    return review_counts(session, Recording.visit_id.in_(visit_ids))


def visit_review_count(session: Session, visit_id: int) -> ReviewCount:
    """The review state of all the visit's recordings together (the Prescribe baseline)."""
    total = ReviewCount()
    for c in review_counts(session, Recording.visit_id == visit_id).values():
        total = total + c
    return total


@dataclass
class VisitMeasurement:
    """Temporal metrics of the visit's best-marked side-view recording."""

    recording_id: int
    metrics: TemporalMetrics
    contacts_per_side: tuple[int, int]
    capture_fps: float | None

    @property
    def cadence_spm(self) -> float | None:
        return self.metrics.cadence_spm

    @property
    def cadence_sd_spm(self) -> float | None:
        """Spread of cadence from step-to-step variation (:func:`cadence_sd_spm`)."""
        return cadence_sd_spm(self.metrics)


def cadence_sd_spm(m: TemporalMetrics) -> float | None:
    """Spread of cadence from step-to-step variation: 60 / step time, SD by the delta method.

    The one definition for the visits table, Prescribe and History (None when unknown)."""
    if m.cadence_spm is None:
        return None
    st = [m.step_time_s[f.value] for f in Foot]
    means = [s.mean for s in st if s.mean]
    sds = [s.sd for s in st if s.sd is not None]
    if not means or not sds:
        return None
    mean_step = sum(means) / len(means)
    sd_step = (sum(x * x for x in sds) / len(sds)) ** 0.5
    return 60.0 * sd_step / (mean_step * mean_step)


R = TypeVar("R")


def best_recording(
    recordings: Iterable[R],
    rec_id: Callable[[R], int],
    events: Callable[[R], list[FootEvent]],
    metrics: Callable[[R, list[FootEvent]], TemporalMetrics] = lambda _r, evs: temporal_metrics(evs),
) -> tuple[R, TemporalMetrics] | None:
    """The visit's measured recording: the one with the most reviewed initial contacts (at
    least two, and a cadence); on a tie the oldest. The one rule for every figure."""
    best: tuple[R, TemporalMetrics] | None = None
    best_n = 0
    for rec in sorted(recordings, key=rec_id):
        evs = events(rec)
        n_ic = sum(e.type is EventType.INITIAL_CONTACT for e in evs)
        if n_ic < 2 or n_ic <= best_n:
            continue
        m = metrics(rec, evs)
        if m.cadence_spm is None:
            continue
        best, best_n = (rec, m), n_ic
    return best


def visit_measurement(session: Session, visit_id: int) -> VisitMeasurement | None:
    """Metrics from the recording of this visit with the most initial contacts, or None."""
    return _best_per_visit(session, Recording.visit_id == visit_id).get(visit_id)


def patient_measurements(session: Session, patient_id: int) -> dict[int, VisitMeasurement]:
    """:func:`visit_measurement` for every visit of a patient, in two queries (patient view)."""
    visit_ids = select(Visit.id).where(Visit.patient_id == patient_id)
    return _best_per_visit(session, Recording.visit_id.in_(visit_ids))


def _best_per_visit(session: Session, where: Any) -> dict[int, VisitMeasurement]:
    recordings = list(session.scalars(select(Recording).where(where).order_by(Recording.id)))
    e = FootEventRecord
    # Plain rows, not ORM objects: a 100-visit history has thousands of events.
    rows = session.execute(
        select(e.recording_id, e.frame, e.foot, e.type, e.source, e.confidence)
        .where(e.recording_id.in_([r.id for r in recordings]), reviewed_filter())
        .order_by(e.frame)
    )
    by_recording: dict[int, list[Any]] = {}
    for row in rows:
        by_recording.setdefault(row.recording_id, []).append(row)
    by_visit: dict[int, list[Recording]] = {}
    for rec in recordings:
        by_visit.setdefault(rec.visit_id, []).append(rec)

    def events(rec: Recording) -> list[FootEvent]:
        rows = by_recording.get(rec.id, [])
        tb = timebase_of(rec, frames=(r.frame for r in rows))  # the file's clock, from the row
        return [to_event(r, tb) for r in rows]

    best: dict[int, VisitMeasurement] = {}
    for visit_id, recs in by_visit.items():
        found = best_recording(recs, lambda r: r.id, events)
        if found is not None:
            rec, m = found
            best[visit_id] = VisitMeasurement(
                rec.id, m, (m.contacts.get("left", 0), m.contacts.get("right", 0)), rec.capture_fps
            )
    return best


def latest_prescriptions(session: Session, patient_id: int) -> dict[int, Prescription]:
    """The newest prescription of each visit of a patient, in one query."""
    stmt = (
        select(Prescription)
        .join(Visit)
        .where(Visit.patient_id == patient_id)
        .order_by(Prescription.id)
    )
    return {p.visit_id: p for p in session.scalars(stmt)}  # later ids overwrite earlier


def save_prescription(session: Session, visit_id: int, plan: dict[str, Any]) -> Prescription:
    """Store a prescription (the plan's JSON) with the visit; earlier ones are kept as history."""
    if session.get(Visit, visit_id) is None:
        raise ValidationError("visit_id", "This visit no longer exists.")
    if plan.get("target_spm") is None:
        raise ValidationError("target_spm", "The prescription has no target cadence.")
    try:
        target, baseline, percent = validate_stored_prescription(
            plan["target_spm"], plan.get("baseline_spm"), plan.get("percent")
        )
        speed = plan.get("treadmill_speed_kmh")
        optional_number(speed, "treadmill_speed_kmh", "Treadmill speed", SPEED_RANGE_KMH, "km/h")
    except PrescriptionError as exc:
        raise ValidationError("target_spm", str(exc)) from None
    p = Prescription(
        visit_id=visit_id,
        baseline_spm=baseline,
        baseline_source=plan.get("baseline_source"),
        target_spm=target,
        increase_pct=percent,
        plan=plan,
    )
    session.add(p)
    session.flush()
    return p


def latest_prescription(session: Session, visit_id: int) -> Prescription | None:
    stmt = (
        select(Prescription)
        .where(Prescription.visit_id == visit_id)
        .order_by(Prescription.id.desc())
    )
    return session.scalars(stmt).first()


def previous_prescription(session: Session, visit_id: int) -> Prescription | None:
    """The newest prescription of an earlier visit of the same patient (for the follow-up)."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        return None
    stmt = (
        select(Prescription)
        .join(Visit)
        .where(
            Visit.patient_id == visit.patient_id,
            (Visit.visit_date < visit.visit_date)
            | ((Visit.visit_date == visit.visit_date) & (Visit.id < visit.id)),
        )
        .order_by(Visit.visit_date.desc(), Prescription.id.desc())
    )
    return session.scalars(stmt).first()


def current_prescription_for_patient(session: Session, patient_id: int) -> Prescription | None:
    stmt = (
        select(Prescription)
        .join(Visit)
        .where(Visit.patient_id == patient_id)
        .order_by(Visit.visit_date.desc(), Prescription.id.desc())
    )
    return session.scalars(stmt).first()
