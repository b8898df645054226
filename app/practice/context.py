"""What Practice needs to know about the selected visit: who, the prescribed target, the plan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.db.models import Visit
from app.prescription.plan import CadencePlan
from app.prescription.rules import PrescriptionError
from app.records import measurements
from app.records.media import visit_folder

from .store import count_for_patient


@dataclass(frozen=True)
class VisitContext:
    visit_id: int
    patient_id: int
    patient_name: str
    visit_date: dt.date
    target_spm: int | None
    """The visit's prescribed target, else the newest earlier one (None: none yet)."""
    target_from: str
    """"this visit", "an earlier visit" or "" (not prescribed)."""
    plan: CadencePlan | None
    session_number: int
    """This practice's number for the patient (1 = the first)."""
    folder: Path
    """Where a practice recording of this visit is saved."""

    @property
    def label(self) -> str:
        return f"{self.patient_name} · visit of {self.visit_date}"


def visit_context(db: Any, videos_root: Path, visit_id: int) -> VisitContext | None:
    """The context of ``visit_id`` (None if the visit no longer exists)."""
    with db.session() as s:
        visit = s.get(Visit, visit_id)
        if visit is None:
            return None
        presc = measurements.latest_prescription(s, visit_id)
        source = "this visit"
        if presc is None:
            presc = measurements.previous_prescription(s, visit_id)
            source = "an earlier visit"
        plan = None
        if presc is not None and presc.plan:
            try:
                plan = CadencePlan.from_dict(presc.plan)
            except PrescriptionError:
                plan = None  # a damaged plan: the target column still holds the number
        name, date, pid = visit.patient.full_name, visit.visit_date, visit.patient_id
        folder = visit_folder(s, videos_root, visit_id)
    return VisitContext(
        visit_id, pid, name, date,
        int(presc.target_spm) if presc is not None else None,
        source if presc is not None else "",
        plan, count_for_patient(db, pid) + 1, folder,
    )  # fmt: skip
