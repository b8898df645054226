"""The printed home program: its content model, defaults, and the record of what was printed.

:func:`build_content` assembles a :class:`HomeProgramContent` from the patient's latest
prescription (``Prescription.plan`` holds a :class:`~app.prescription.plan.CadencePlan`), the
clinic's settings and the exercise library. Every text in it is plain data the clinician may
edit before printing; the defaults follow the clinical reference (``docs/clinical.md``):

* metronome beats per minute = target steps per minute, used as the faded-feedback plan says
  (whole run in sessions 1–4, then withdrawn; Willy 2012, Davis 2020);
* practice dose 2–3 runs a week for 2 weeks, up to 30 min (Huber & Verhoff 2024);
* pain monitoring after Silbernagel 2007: 0–3 safe, 4–5 acceptable, more than 5 too much, and
  pain must settle by the next morning; if worse next morning, reduce the load.

No prescription: :func:`build_content` raises :class:`NoPrescriptionError` (what is missing and
how to fix it). The clinician may still print the exercises and pain guidance on their own with
``allow_without_prescription=True``; the document then has no cadence section and says nothing
about a metronome (we never print a target that was not prescribed).

Rendering to paper/PDF needs Qt and lives in :mod:`ui.home_program`. This module is Qt-free.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import HomeProgram, Patient, Prescription, Recording, Visit
from app.errors import ClinicError
from app.outputs import OutputError, OutputRules, check_pdf, writing
from app.paths import DataFolder
from app.prescription.plan import CadencePlan
from app.prescription.rules import PrescriptionError
from app.reports.exercises import ExerciseLibrary, SelectedExercise
from app.reports.templates import ProgramTemplate, TemplateStore
from app.settings import Settings

SCHEMA_VERSION = 1
PROGRAMS_SUBFOLDER = "programs"
LOGO_SETTING = "clinic_logo"
"""Key in ``Settings.extra`` holding the path of the clinic's logo (PNG, JPEG or SVG)."""

DEFAULT_EXERCISES = (
    "cadence_metronome_strides",
    "hip_flexor_kneeling",
    "gluteal_figure4",
    "quadriceps_standing",
    "hip_abduction_sidelying",
)
"""The low-back-pain template's exercises (the examples in the clinical reference, plus the
drill); a new program ticks its complaint template's list (:mod:`app.reports.templates`)."""


class HomeProgramError(ClinicError):
    """A home program cannot be made. ``str(err)`` is a sentence for the clinician."""


class RenderError(ClinicError):
    """The program could not be drawn (e.g. the PDF file cannot be written).

    Raised by the renderer the entry point injects (Qt's, in :mod:`ui.home_program`); it lives
    here so that the command line catches it by type without importing the renderer.
    """


class NoPrescriptionError(HomeProgramError):
    """The patient has no cadence prescription yet (the UI offers to create one)."""

    def __init__(self, patient_id: int, patient_name: str) -> None:
        self.patient_id = patient_id
        self.patient_name = patient_name
        super().__init__(
            f"{patient_name} has no cadence prescription yet, so the home program has no target "
            "cadence or metronome rate to print. Create a prescription for the latest visit first "
            "(Prescription tab), or print the exercises and pain guidance without the cadence "
            "section."
        )


@dataclass
class PainZone:
    """One band of the pain-monitoring scale."""

    scores: str
    label: str
    meaning: str
    colour: str  # a hint for the renderer: "green", "amber" or "red"


def default_pain_zones() -> list[PainZone]:
    """Silbernagel 2007 pain-monitoring model (from Achilles tendinopathy, used for LBP)."""
    return [
        PainZone("0–3", "Safe", "Carry on with your program.", "green"),
        PainZone("4–5", "Acceptable", "You may continue, but do not increase the load.", "amber"),
        PainZone("6–10", "Too much", "Stop or slow down; run less next time.", "red"),
    ]


def default_pain_rules() -> list[str]:
    return [
        "Pain during running may go up to 5 out of 10.",
        "Any pain should settle by the next morning.",
        "If your pain or stiffness is worse the next morning, reduce the load: run shorter or "
        "slower next time, and tell your physiotherapist if it keeps happening.",
    ]


@dataclass
class CadenceSection:
    """Target cadence, metronome use and practice dose (from the prescription's plan)."""

    target_spm: int
    metronome_bpm: int
    intro: str = ""
    schedule: list[list[str]] = field(default_factory=list)
    """Rows of [sessions, how to use the metronome], following the faded-feedback plan."""
    practice: str = ""
    cues: list[str] = field(default_factory=list)
    expect: list[str] = field(default_factory=list)
    next_steps: str = ""

    @classmethod
    def from_plan(cls, plan: CadencePlan) -> CadenceSection:
        nxt = ""
        if len(plan.steps) > 1:
            nxt = (
                "Later, your physiotherapist may raise the target: "
                + "; ".join(
                    f"{s.target_spm} steps per minute ({s.when.lower()})" for s in plan.steps[1:]
                )
                + "."
            )
        return cls(
            target_spm=plan.target_spm,
            metronome_bpm=plan.metronome_bpm,
            intro=(
                f"Set your metronome (or metronome app) to {plan.metronome_bpm} beats per minute "
                "and let one foot land on each beat. Keep your usual easy pace: only the rhythm "
                "changes."
            ),
            schedule=[[f.sessions_text, f.metronome_use] for f in plan.feedback],
            practice=f"Practice: {plan.dose.text}.",
            cues=list(plan.wording.cues),
            expect=list(plan.wording.costs),
            next_steps=nxt,
        )


@dataclass
class HomeProgramContent:
    """Everything the printed home program shows. All texts are editable before printing."""

    patient_name: str
    clinic_name: str = "Stride Clinic"
    clinic_contact: str = ""
    logo_path: str = ""
    clinician_name: str = ""
    date_text: str = ""
    title: str = "Your running home program"
    cadence: CadenceSection | None = None
    run_plan_title: str = "Your weekly running"
    run_plan: list[str] = field(default_factory=list)
    run_log_rows: int = 8
    """Rows of the tick-off table for the runs (0 = no table)."""
    exercises_title: str = "Your exercises"
    exercises_intro: str = "Do these gently and without holding your breath."
    exercises: list[SelectedExercise] = field(default_factory=list)
    pain_title: str = "Listening to your pain"
    pain_intro: str = "Rate your pain from 0 (none) to 10 (worst imaginable) during and after runs."
    pain_zones: list[PainZone] = field(default_factory=default_pain_zones)
    pain_rules: list[str] = field(default_factory=default_pain_rules)
    advice: list[str] = field(default_factory=list)
    """Advice for the patient's complaint (from the template, :mod:`app.reports.templates`),
    printed with the pain rules."""
    template_id: str = ""
    """The complaint template the advice and default exercises came from ("" for old programs)."""
    stills_title: str = "How your landing looks"
    before_still: str = ""
    after_still: str = ""
    before_crop: list[float] = field(default_factory=list)
    after_crop: list[float] = field(default_factory=list)
    """Part of each still to print, (x0, y0, x1, y1) as fractions of the frame (the runner's
    legs, :mod:`app.reports.stills`); empty = the whole picture (programs saved before)."""
    before_caption: str = "Before"
    after_caption: str = "Now"
    stills_note: str = "The line shows how far your foot lands ahead of your hip."
    next_appointment: str = ""
    clinician_note: str = ""
    patient_id: int | None = None
    visit_id: int | None = None
    prescription_id: int | None = None
    warnings: list[str] = field(default_factory=list)
    """Notes for the clinician (never printed), e.g. a damaged plan replaced by defaults."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (stored in ``HomeProgram.content``)."""
        d = asdict(self)
        d["schema_version"] = SCHEMA_VERSION
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HomeProgramContent:
        """Rebuild saved content; raises :class:`HomeProgramError` if damaged or too new."""
        if not isinstance(data, dict):
            raise HomeProgramError("The saved home program is not readable.")
        if int(data.get("schema_version", SCHEMA_VERSION)) > SCHEMA_VERSION:
            raise HomeProgramError("This home program was saved by a newer Stride Clinic.")
        try:
            known = set(cls.__dataclass_fields__)
            values = {k: v for k, v in data.items() if k in known}
            cad = values.get("cadence")
            if cad is not None:
                cad_known = set(CadenceSection.__dataclass_fields__)
                values["cadence"] = CadenceSection(
                    **{k: v for k, v in cad.items() if k in cad_known}
                )
            values["exercises"] = [
                SelectedExercise.from_dict(x) for x in values.get("exercises", [])
            ]
            if "pain_zones" in values:
                values["pain_zones"] = [PainZone(**z) for z in values["pain_zones"]]
            return cls(**values)
        except (TypeError, ValueError, AttributeError, KeyError):
            raise HomeProgramError("The saved home program is incomplete or damaged.") from None


def _format_date(day: dt.date) -> str:
    # English month names, unambiguous in every country (03/04 is not).
    return f"{day.day} {day.strftime('%B')} {day.year}"


def latest_prescription(session: Session, patient_id: int) -> Prescription | None:
    """The patient's current prescription: the newest of the latest visit that has one."""
    return session.scalars(
        select(Prescription)
        .join(Visit)
        .where(Visit.patient_id == patient_id)
        .order_by(Visit.visit_date.desc(), Prescription.created_at.desc(), Prescription.id.desc())
        .limit(1)
    ).first()


def _plan_of(rx: Prescription, warnings: list[str]) -> CadencePlan:
    if rx.plan:
        try:
            return CadencePlan.from_dict(rx.plan)
        except PrescriptionError as e:
            warnings.append(f"{e} The target cadence was kept; the rest uses today's defaults.")
    baseline = rx.baseline_spm or rx.target_spm
    return CadencePlan(
        baseline_spm=baseline, percent=rx.increase_pct or 0.0, target_spm=rx.target_spm
    )


def default_run_plan(plan: CadencePlan | None) -> list[str]:
    """Weekly running lines: the practice dose, how to progress, what to do on a bad day."""
    if plan is None:
        return [
            "Keep running at an easy pace as agreed with your physiotherapist.",
            "If a continuous run is too much, alternate running and walking as agreed.",
        ]
    d = plan.dose
    runs = (
        f"{d.runs_per_week_min}"
        if d.runs_per_week_min == d.runs_per_week_max
        else f"{d.runs_per_week_min} to {d.runs_per_week_max}"
    )
    return [
        f"Run {runs} times a week for the next {d.weeks} weeks, up to {d.minutes_max} minutes "
        "each time, at an easy pace.",
        "Use the metronome as shown above; tick each run in the table below.",
        "If a continuous run is too much, alternate running and walking as agreed with your "
        "physiotherapist.",
    ]


def build_content(
    session: Session,
    patient_id: int,
    settings: Settings,
    *,
    library: ExerciseLibrary | None = None,
    exercise_ids: list[str] | tuple[str, ...] | None = None,
    allow_without_prescription: bool = False,
    before_still: str | Path | None = None,
    after_still: str | Path | None = None,
    next_appointment: str = "",
    today: dt.date | None = None,
    templates: TemplateStore | None = None,
    template_id: str | None = None,
) -> HomeProgramContent:
    """Default home program for a patient from the latest prescription and clinic settings.

    The advice and default exercises follow the patient's complaint: ``template_id``, else the
    template :meth:`TemplateStore.match_complaint` picks from ``Patient.complaint``.

    Raises :class:`HomeProgramError` when the patient or any visit is missing (checked first:
    a patient without a visit is never offered a program without cadence it cannot have),
    then :class:`NoPrescriptionError` when there is no prescription (unless
    ``allow_without_prescription``). ``exercise_ids`` None ticks the template's exercises
    (those still in the library).
    """
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise HomeProgramError(f"There is no patient with number {patient_id}.")
    require_visit(session, patient)
    warnings: list[str] = []
    rx = latest_prescription(session, patient_id)
    if rx is None and not allow_without_prescription:
        raise NoPrescriptionError(patient_id, patient.full_name)
    visit: Visit | None = rx.visit if rx is not None else None
    if visit is None:
        visit = require_visit(session, patient)
    plan = _plan_of(rx, warnings) if rx is not None else None
    library = library or ExerciseLibrary(None)
    templates = templates or TemplateStore(None)
    template = (templates.get(template_id) if template_id else None) or templates.match_complaint(
        patient.complaint
    )
    if exercise_ids is None:
        ids = template_exercise_ids(template, with_cadence=plan is not None)
    else:
        ids = list(exercise_ids)
    chosen = []
    for ex_id in ids:
        ex = library.get(ex_id)
        if ex is None:
            if exercise_ids is not None:
                warnings.append(f"The exercise {ex_id!r} is no longer in the library.")
            continue
        chosen.append(SelectedExercise.from_exercise(library, ex))
    logo = str(settings.extra.get(LOGO_SETTING) or "") if isinstance(settings.extra, dict) else ""
    content = HomeProgramContent(
        patient_name=patient.full_name,
        clinic_name=settings.clinic_name or "",
        clinic_contact=settings.clinic_contact or "",
        logo_path=logo,
        clinician_name=visit.clinician.name if visit.clinician is not None else "",
        date_text=_format_date(today or dt.date.today()),
        cadence=CadenceSection.from_plan(plan) if plan is not None else None,
        run_plan=default_run_plan(plan) + _practice_lines(session, patient.id),
        run_log_rows=8 if plan is not None else 0,
        exercises=chosen,
        advice=list(template.advice),
        template_id=template.id,
        before_still=str(before_still or ""),
        after_still=str(after_still or ""),
        next_appointment=next_appointment,
        patient_id=patient.id,
        visit_id=visit.id,
        prescription_id=rx.id if rx is not None else None,
        warnings=warnings,
    )
    return content


def _practice_lines(session: Session, patient_id: int) -> list[str]:
    """What the runner held in the clinic's live practice (app.practice), if they practised."""
    from app.practice.report import home_program_lines

    return home_program_lines(session, patient_id)


def require_visit(session: Session, patient: Patient) -> Visit:
    """The patient's latest visit; :class:`HomeProgramError` (one plain sentence) if none."""
    visit = session.scalars(
        select(Visit)
        .where(Visit.patient_id == patient.id)
        .order_by(Visit.visit_date.desc(), Visit.id.desc())
        .limit(1)
    ).first()
    if visit is None:
        raise HomeProgramError(
            f"{patient.full_name} has no visit yet. Add a visit first: the printed program is "
            "kept with the visit it was given at."
        )
    return visit


def template_exercise_ids(template: ProgramTemplate, *, with_cadence: bool) -> list[str]:
    """The template's default exercises; the metronome drill only with a prescription (without
    a target it would confuse)."""
    return [i for i in template.exercises if with_cadence or not i.startswith("cadence_")]


# --- the record of what was printed --------------------------------------------------------------


@dataclass(frozen=True)
class ProgramRecord:
    """One printed or exported program, for the "reprint" list."""

    id: int
    visit_id: int
    visit_date: dt.date
    printed_at: dt.datetime | None
    pdf_path: Path | None
    """Absolute path of the stored PDF copy, None if it is missing on disk."""
    title: str


def programs_folder(data_root: Path) -> Path:
    """Where PDF copies of given programs are kept: ``<data folder>/programs``."""
    return Path(data_root) / PROGRAMS_SUBFOLDER


def record_program(
    session: Session,
    data_root: Path,
    content: HomeProgramContent,
    pdf_file: Path | str | None,
    *,
    printed_at: dt.datetime | None = None,
) -> HomeProgram:
    """Keep what the runner was given: content JSON + a PDF copy, attached to the visit.

    The PDF is copied to ``<data folder>/programs/patient-<patient uid>/``
    (:class:`app.paths.MediaLayout`); the row stores the path relative to the data folder so
    the folder can move. Raises :class:`HomeProgramError`, also
    when ``pdf_file`` is not a complete PDF (nothing is recorded then). The copy is written
    before the caller commits: a caller whose commit fails should remove ``row.pdf_path``.
    """
    if content.visit_id is None or session.get(Visit, content.visit_id) is None:
        raise HomeProgramError("The program is not linked to a visit and cannot be kept.")
    src = Path(pdf_file) if pdf_file is not None else None
    if src is not None:
        # Never record a program that was not really written (a 0-byte or cut-off PDF from a
        # full disk): check the file before the row exists.
        try:
            check_pdf(src)
        except OutputError as exc:
            raise HomeProgramError(f"The program was not kept: {exc.message}") from None
        except OSError as exc:
            raise HomeProgramError(
                f"The program was not kept: its PDF cannot be read ({exc.strerror or exc})."
            ) from None
    stamp = printed_at or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    row = HomeProgram(visit_id=content.visit_id, content=content.to_dict(), printed_at=stamp)
    session.add(row)
    session.flush()
    if src is not None:
        root = Path(data_root)
        visit = session.get(Visit, content.visit_id)
        folder = DataFolder(root).media().program_folder(visit.patient.uid)
        dest = folder / f"program_{row.id:06d}_{stamp:%Y%m%d_%H%M%S}.pdf"
        rules = OutputRules.for_data_folder(root, managed=[programs_folder(root)], parents=True)
        try:
            with writing(dest, rules, private=True, check=check_pdf) as out:
                shutil.copyfile(src, out.temp)
        except OutputError as exc:
            raise HomeProgramError(
                f"The copy of the program could not be kept in {folder}: {exc.message}"
            ) from exc
        row.pdf_path = dest.relative_to(root).as_posix()
    return row


def list_programs(session: Session, data_root: Path, patient_id: int) -> list[ProgramRecord]:
    """A patient's printed programs, newest first."""
    rows = session.execute(
        select(HomeProgram, Visit.visit_date)
        .join(Visit)
        .where(Visit.patient_id == patient_id)
        .order_by(HomeProgram.printed_at.desc(), HomeProgram.id.desc())
    ).all()
    out = []
    for hp, visit_date in rows:
        pdf = Path(data_root) / hp.pdf_path if hp.pdf_path else None
        title = str((hp.content or {}).get("title") or "Home program")
        out.append(
            ProgramRecord(
                id=hp.id,
                visit_id=hp.visit_id,
                visit_date=visit_date,
                printed_at=hp.printed_at,
                pdf_path=pdf if pdf is not None and pdf.is_file() else None,
                title=title,
            )
        )
    return out


def load_program(session: Session, program_id: int) -> HomeProgramContent:
    """The content of a past program, to render it again exactly as it was given."""
    row = session.get(HomeProgram, program_id)
    if row is None or row.content is None:
        raise HomeProgramError(f"There is no saved home program number {program_id}.")
    return HomeProgramContent.from_dict(row.content)


def default_stills(
    session: Session, stills_dir: Path, patient_id: int
) -> tuple[Path | None, Path | None]:
    """Before/after stills for the program: the first visit's and the latest visit's exported
    frames (``stills/recording-<recording uid>_frame<N>.png`` from the marking panel); None
    where missing. Only one picture (as "after") when just one visit has stills. Stills are
    matched by the recording's never-reused uid, so a still of another patient whose record
    had the same id (before a restore) is never offered."""
    from app.history.compare import stills_for_recordings

    rows = session.execute(
        select(Recording.uid, Visit.id)
        .join(Visit, Recording.visit_id == Visit.id)
        .where(Visit.patient_id == patient_id)
        .order_by(Visit.visit_date, Visit.id, Recording.id)
    ).all()
    per_rec = stills_for_recordings(stills_dir, [r for r, _v in rows])
    per_visit: dict[int, list[Path]] = {}
    for rid, vid in rows:
        per_visit.setdefault(vid, []).extend(per_rec.get(rid, []))
    firsts = [paths[0] for paths in per_visit.values() if paths]
    if not firsts:
        return None, None
    if len(firsts) == 1:
        return None, firsts[0]
    return firsts[0], firsts[-1]
