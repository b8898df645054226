"""Outcome measures per visit: pain (NPRS), disability (Oswestry or Roland-Morris) and PSFS.

Pain scores live on :class:`app.db.models.Visit` (entered with the visit); disability and the
Patient-Specific Functional Scale live in :class:`app.db.models.VisitOutcome`. The smallest
important changes come from clinical.md (Ostelo 2008 [V]): NPRS 2 points, RMDQ 5, ODI 10, or
≥ 30 % of the baseline score. clinical.md gives no figure for the PSFS, so none is shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Visit, VisitOutcome
from app.records.validation import ValidationError, optional_score

#: Disability questionnaires the clinic can choose between (setting ``disability_scale``).
DISABILITY_SCALES: dict[str, tuple[str, int]] = {
    "rmdq": ("Roland-Morris (RMDQ)", 24),
    "odi": ("Oswestry (ODI)", 100),
}
DEFAULT_DISABILITY_SCALE = "rmdq"
#: Smallest important change in points (Ostelo 2008, clinical.md [V]).
IMPORTANT_CHANGE = {"nprs": 2.0, "rmdq": 5.0, "odi": 10.0}
#: ... or this fraction of the baseline score (Ostelo 2008 [V]).
IMPORTANT_CHANGE_FRACTION = 0.30
PSFS_MIN_ITEMS, PSFS_MAX_ITEMS = 3, 5
MAX_ACTIVITY_CHARS = 120


class OutcomeError(ValidationError):
    """An outcome entry the clinician must correct; ``field`` names the input, ``message`` says why."""


@dataclass
class PsfsItem:
    """One Patient-Specific Functional Scale activity: 0 = unable, 10 = as before the problem."""

    activity: str
    score: int | str | None
    running: bool = False


@dataclass
class OutcomeData:
    """What the outcomes dialog edits for one visit (plain values, no SQLAlchemy)."""

    pain_now: int | str | None = None
    pain_worst_24h: int | str | None = None
    pain_running: int | str | None = None
    odi: int | str | None = None
    rmdq: int | str | None = None
    psfs: list[PsfsItem] = field(default_factory=list)


def disability_scale(extra: dict[str, Any] | None) -> str:
    """The clinic's chosen scale from ``settings.extra`` ("odi" or "rmdq", default "rmdq")."""
    value = str((extra or {}).get("disability_scale", DEFAULT_DISABILITY_SCALE)).lower()
    return value if value in DISABILITY_SCALES else DEFAULT_DISABILITY_SCALE


def _whole(value: object, field_name: str, label: str, top: int) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(str(value).replace(",", ".")) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise OutcomeError(field_name, f"{label} must be a whole number from 0 to {top}.") from None
    if number != number or not 0 <= number <= top or number != int(number):
        raise OutcomeError(field_name, f"{label} must be a whole number from 0 to {top}.")
    return int(number)


def validate_psfs(items: Iterable[PsfsItem]) -> list[dict[str, Any]] | None:
    """Clean PSFS items; empty rows are dropped. Returns None when no item was entered."""
    cleaned: list[dict[str, Any]] = []
    for i, item in enumerate(items, 1):
        activity = " ".join((item.activity or "").split())
        blank_score = item.score is None or (isinstance(item.score, str) and not item.score.strip())
        if not activity and blank_score:
            continue
        if not activity:
            raise OutcomeError(f"psfs_{i}", f"PSFS item {i} has a score but no activity.")
        if len(activity) > MAX_ACTIVITY_CHARS:
            raise OutcomeError(
                f"psfs_{i}", f"PSFS activity {i} is longer than {MAX_ACTIVITY_CHARS} characters."
            )
        if blank_score:
            raise OutcomeError(f"psfs_{i}", f"Please score “{activity}” from 0 to 10.")
        score = _whole(item.score, f"psfs_{i}", f"The score of “{activity}”", 10)
        cleaned.append({"activity": activity, "score": score, "running": bool(item.running)})
    if not cleaned:
        return None
    if not PSFS_MIN_ITEMS <= len(cleaned) <= PSFS_MAX_ITEMS:
        raise OutcomeError(
            "psfs",
            f"The PSFS needs {PSFS_MIN_ITEMS} to {PSFS_MAX_ITEMS} activities; {len(cleaned)} "
            "entered. Leave all rows empty to skip the PSFS.",
        )
    if not any(c["running"] for c in cleaned):
        raise OutcomeError(
            "psfs",
            "Mark one PSFS activity as the running item (e.g. “run 5 km without pain”), so the "
            "history can follow it.",
        )
    if sum(c["running"] for c in cleaned) > 1:
        raise OutcomeError("psfs", "Only one PSFS activity can be the running item.")
    return cleaned


def validate_outcomes(data: OutcomeData) -> dict[str, Any]:
    """All fields checked; raises :class:`OutcomeError` with a message for the clinician."""
    return {
        "pain_now": optional_score(data.pain_now, "pain_now", "Pain now"),
        "pain_worst_24h": optional_score(
            data.pain_worst_24h, "pain_worst_24h", "Worst pain in 24 h"
        ),
        "pain_running": optional_score(data.pain_running, "pain_running", "Pain during running"),
        "odi": _whole(data.odi, "odi", "The Oswestry score (ODI, %)", 100),
        "rmdq": _whole(data.rmdq, "rmdq", "The Roland-Morris score", 24),
        "psfs": validate_psfs(data.psfs),
    }


def load_outcomes(session: Session, visit_id: int) -> OutcomeData:
    """The visit's current outcome entries (empty fields where nothing was recorded)."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise OutcomeError("visit_id", "This visit no longer exists.")
    row = session.scalars(select(VisitOutcome).where(VisitOutcome.visit_id == visit_id)).first()
    items = [
        PsfsItem(str(i.get("activity", "")), i.get("score"), bool(i.get("running")))
        for i in ((row.psfs if row else None) or [])
    ]
    return OutcomeData(
        visit.pain_now,
        visit.pain_worst_24h,
        visit.pain_running,
        row.odi if row else None,
        row.rmdq if row else None,
        items,
    )


def save_outcomes(session: Session, visit_id: int, data: OutcomeData) -> VisitOutcome:
    """Validate and store the visit's outcome measures (pain on the visit, the rest alongside)."""
    values = validate_outcomes(data)
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise OutcomeError(
            "visit_id", "This visit no longer exists (deleted on another workstation?)."
        )
    visit.pain_now = values["pain_now"]
    visit.pain_worst_24h = values["pain_worst_24h"]
    visit.pain_running = values["pain_running"]
    row = session.scalars(select(VisitOutcome).where(VisitOutcome.visit_id == visit_id)).first()
    if row is None:
        row = VisitOutcome(visit_id=visit_id)
        session.add(row)
    row.odi, row.rmdq, row.psfs = values["odi"], values["rmdq"], values["psfs"]
    session.flush()
    return row


def psfs_mean(items: list[dict[str, Any]] | None) -> float | None:
    """Mean PSFS score over the items (the usual summary), or None."""
    scores = [float(i["score"]) for i in items or [] if i.get("score") is not None]
    return sum(scores) / len(scores) if scores else None


def psfs_running(items: list[dict[str, Any]] | None) -> float | None:
    """The score of the running item, or None."""
    for i in items or []:
        if i.get("running") and i.get("score") is not None:
            return float(i["score"])
    return None


def important_change(measure: str, baseline: float | None) -> float | None:
    """Points a score must improve by to count as important: the fixed threshold, or 30 % of the
    baseline when that is smaller (Ostelo 2008 allows either)."""
    points = IMPORTANT_CHANGE.get(measure)
    if points is None:
        return None
    if baseline is not None and baseline > 0:
        return min(points, IMPORTANT_CHANGE_FRACTION * baseline)
    return points


def reaches_important_change(change: float, threshold: float) -> bool:
    """The one rule for "at least the smallest important change": ``|change| ≥ threshold``.

    Ostelo 2008 defines the threshold as the smallest change that matters, so a change of
    exactly the threshold (NPRS 4 → 2 with 2 points) counts. Compare, History and the outcome
    code all call this; the small tolerance absorbs float round-off (30 % of a baseline).
    """
    return abs(change) >= threshold - 1e-9


def is_important_improvement(
    measure: str, baseline: float | None, value: float | None
) -> bool | None:
    """True when a (lower-is-better) score fell by at least the smallest important change."""
    if baseline is None or value is None:
        return None
    threshold = important_change(measure, baseline)
    if threshold is None:
        return None
    return baseline > value and reaches_important_change(baseline - value, threshold)
