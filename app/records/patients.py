"""Patients: create, edit, search, delete (with their media files)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import HomeProgram, Patient, Recording, Visit
from app.paths import DataFolder, patient_video_folder
from app.records import media
from app.records.validation import (
    HEIGHT_RANGE_CM,
    LEG_LENGTH_RANGE_CM,
    SEXES,
    ValidationError,
    clean_name,
    clean_text,
    name_key,
    optional_number,
    parse_date,
)


@dataclass
class PatientData:
    """What the patient form edits; plain values so the UI needs no SQLAlchemy."""

    full_name: str = ""
    date_of_birth: dt.date | str | None = None
    sex: str = "unspecified"
    height_cm: float | str | None = None
    leg_length_cm: float | str | None = None
    phone: str | None = None
    email: str | None = None
    complaint: str | None = None
    notes: str | None = None
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_patient(cls, p: Patient) -> PatientData:
        return cls(
            full_name=p.full_name,
            date_of_birth=p.date_of_birth,
            sex=p.sex,
            height_cm=p.height_cm,
            leg_length_cm=p.leg_length_cm,
            phone=p.phone,
            email=p.email,
            complaint=p.complaint,
            notes=p.notes,
        )


@dataclass(frozen=True)
class PatientRow:
    """One line of the patient list."""

    id: int
    full_name: str
    name_key: str
    date_of_birth: dt.date | None
    complaint: str
    last_visit: dt.date | None
    visit_count: int


def _validated(data: PatientData) -> dict[str, object]:
    name = clean_name(data.full_name)
    dob = parse_date(data.date_of_birth, "date_of_birth")
    if dob is not None and dob > dt.date.today() - dt.timedelta(days=365 * 3):
        raise ValidationError(
            "date_of_birth", "The date of birth makes the patient younger than 3."
        )
    sex = (data.sex or "unspecified").lower()
    if sex not in SEXES:
        raise ValidationError("sex", f"Sex must be one of: {', '.join(SEXES)}.")
    height = optional_number(data.height_cm, "height_cm", "Height", HEIGHT_RANGE_CM, "cm")
    leg = optional_number(
        data.leg_length_cm, "leg_length_cm", "Leg length", LEG_LENGTH_RANGE_CM, "cm"
    )
    if height is not None and leg is not None and leg > 0.65 * height:
        raise ValidationError(
            "leg_length_cm",
            f"A leg length of {leg:g} cm is more than 65 % of the height ({height:g} cm); please check both.",
        )

    return {
        "full_name": name,
        "name_key": name_key(name),
        "date_of_birth": dob,
        "sex": sex,
        "height_cm": height,
        "leg_length_cm": leg,
        "phone": clean_text(data.phone, "phone", "The phone number"),
        "email": clean_text(data.email, "email", "The e-mail address"),
        "complaint": clean_text(data.complaint, "complaint", "The complaint"),
        "notes": clean_text(data.notes, "notes", "The notes", multiline=True),
    }


def find_duplicates(
    session: Session, data: PatientData, *, exclude_id: int | None = None
) -> list[Patient]:
    """Patients with the same name (accents and case ignored) and the same or unknown birth date."""
    key = name_key(clean_name(data.full_name))
    dob = parse_date(data.date_of_birth, "date_of_birth")
    stmt = select(Patient).where(Patient.name_key == key)
    if exclude_id is not None:
        stmt = stmt.where(Patient.id != exclude_id)
    found = session.scalars(stmt).all()
    return [p for p in found if dob is None or p.date_of_birth is None or p.date_of_birth == dob]


def create_patient(
    session: Session, data: PatientData, *, allow_duplicate: bool = False
) -> Patient:
    values = _validated(data)
    if not allow_duplicate and find_duplicates(session, data):
        raise ValidationError(
            "full_name",
            f"A patient named {values['full_name']} with this date of birth already exists. "
            "Open the existing record, or confirm that this is a different person.",
        )
    patient = Patient(**values)
    session.add(patient)
    session.flush()
    return patient


def update_patient(
    session: Session, patient_id: int, data: PatientData, *, expected_version: int | None = None
) -> Patient:
    """Save edits. ``expected_version`` guards against overwriting another workstation's edit."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise ValidationError(
            "id", "This patient no longer exists (deleted on another workstation?)."
        )
    if expected_version is not None and patient.version != expected_version:
        raise ValidationError(
            "version",
            "This patient was changed on another workstation since you opened it. "
            "Close the form, reopen the patient and make your change again.",
        )
    for key, value in _validated(data).items():
        setattr(patient, key, value)
    session.flush()
    return patient


def delete_patient(
    session: Session, patient_id: int, media_root: Path, data_root: Path | None = None
) -> list[Path]:
    """Delete the patient, every visit, recording and event; return their files to remove.

    The files are those of the patient's recordings (videos, capture sidecars, pose caches and,
    with ``data_root``, exported stills), the PDF copies of their home programs, and whatever
    else is in their uid-named folders, less anything a remaining row still references
    (:mod:`app.records.media`). They are removed by :func:`remove_media` *after* the
    transaction commits, so a failed delete never leaves a record pointing at missing files.
    """
    patient = session.get(Patient, patient_id)
    if patient is None:
        return []
    layout = DataFolder(Path(data_root)).media(media_root) if data_root is not None else None
    recordings = list(
        session.scalars(select(Recording).join(Visit).where(Visit.patient_id == patient_id))
    )
    programs = list(
        session.scalars(select(HomeProgram).join(Visit).where(Visit.patient_id == patient_id))
    )
    # Only uid-named folders are this patient's alone; an old id-named folder
    # (patient_000007) may hold another patient's files after a restore, so from those only
    # the files the patient's rows name are taken.
    owned = [patient_video_folder(Path(media_root), patient.uid)]
    if layout is not None:
        owned.append(layout.program_folder(patient.uid))
    paths = media.candidates(
        layout, Path(media_root), recordings=recordings, programs=programs, owned_folders=owned
    )
    session.delete(patient)
    session.flush()
    return media.unreferenced(session, layout, Path(media_root), paths)


def remove_media(paths: list[Path]) -> list[str]:
    """Remove the files, then the folders left empty; returns problems (not raised: the record
    is already gone). A folder that still holds anything is kept: nothing is removed as a tree.
    """
    return media.remove_files(paths)


def list_patients(session: Session) -> list[PatientRow]:
    """All patients for the list view, with last visit and visit count, in one query."""
    last = func.max(Visit.visit_date)
    count = func.count(Visit.id)
    stmt = (
        select(
            Patient.id,
            Patient.full_name,
            Patient.name_key,
            Patient.date_of_birth,
            Patient.complaint,
            last,
            count,
        )
        .outerjoin(Visit, Visit.patient_id == Patient.id)
        .group_by(Patient.id)
        .order_by(Patient.name_key)
    )
    return [
        PatientRow(r[0], r[1], r[2], r[3], r[4] or "", r[5], int(r[6]))
        for r in session.execute(stmt)
    ]


def search_patients(rows: list[PatientRow], text: str) -> list[PatientRow]:
    """Filter already-loaded rows as the clinician types: every word must match a name part."""
    words = name_key(text).split()
    if not words:
        return rows
    return [r for r in rows if all(w in r.name_key for w in words)]
