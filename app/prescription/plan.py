"""The cadence-retraining plan: progression steps, practice dose, faded feedback, patient wording.

Plain dataclasses with ``to_dict()`` / ``from_dict()`` (stored as JSON by the database layer).
Every default is editable and carries the source it came from, for tooltips and the printed
home program. Where the program fills in a detail that the source does not give (e.g. how the
withdrawal of feedback is split over sessions 5–8), the source string says so.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from app.prescription.rules import (
    BASELINE_LEGACY,
    BASELINE_TYPED,
    PRESET_PERCENTS,
    Baseline,
    FollowUp,
    Prescription,
    PrescriptionError,
    PrescriptionSettings,
    prescribe,
    target_spm,
)

SCHEMA_VERSION = 1

SOURCE_PROGRESSION = (
    "Barton 2016 expert consensus: start at +5 %, progress to +7.5–10 % when +5 % feels automatic"
)
SOURCE_DOSE = (
    "Huber & Verhoff 2024 (RCT): 2–3 runs a week for 2 weeks, up to 30 min with the metronome"
)
SOURCE_FADING = (
    "Willy, Scholz & Davis 2012; Davis 2020 review: full feedback in sessions 1–4, withdrawn "
    "progressively over sessions 5–8"
)
SOURCE_FADING_SPLIT = (
    SOURCE_FADING + ". The split within sessions 5–8 is this program's example, not from the source"
)
SOURCE_CUES = 'Barton 2016: "shorter, quicker, lighter steps", "land closer underneath you"'
SOURCE_COSTS = "Anderson 2022: higher perceived effort and awkwardness at first"
SOURCE_METRONOME = "One beat per foot contact: metronome beats per minute = target steps per minute"


@dataclass
class PlanStep:
    """One step of the progression, relative to the baseline of this prescription."""

    percent: float
    target_spm: int
    when: str
    source: str = SOURCE_PROGRESSION

    @property
    def label(self) -> str:
        return f"+{self.percent:g} % → {self.target_spm} spm"


@dataclass
class PracticeDose:
    """How often and how long to run with the metronome."""

    runs_per_week_min: int = 2
    runs_per_week_max: int = 3
    weeks: int = 2
    minutes_max: int = 30
    source: str = SOURCE_DOSE

    def validate(self) -> None:
        for name in ("runs_per_week_min", "runs_per_week_max", "weeks", "minutes_max"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise PrescriptionError(
                    f"The practice dose needs whole numbers of 1 or more ({name})."
                )
        if self.runs_per_week_min > self.runs_per_week_max:
            raise PrescriptionError("The minimum runs per week cannot exceed the maximum.")
        if self.runs_per_week_max > 14 or self.minutes_max > 240 or self.weeks > 52:
            raise PrescriptionError(
                "The practice dose looks mistyped (too many runs, minutes or weeks)."
            )

    @property
    def text(self) -> str:
        runs = (
            f"{self.runs_per_week_min}"
            if self.runs_per_week_min == self.runs_per_week_max
            else f"{self.runs_per_week_min}–{self.runs_per_week_max}"
        )
        return (
            f"{runs} runs a week for {self.weeks} weeks, up to {self.minutes_max} minutes "
            "with the metronome"
        )


@dataclass
class FeedbackPhase:
    """Metronome use in a range of sessions (faded feedback)."""

    first_session: int
    last_session: int | None
    """None means "and every session after"."""
    metronome_use: str
    source: str = SOURCE_FADING_SPLIT

    @property
    def sessions_text(self) -> str:
        if self.last_session is None:
            return f"Session {self.first_session} onwards"
        if self.last_session == self.first_session:
            return f"Session {self.first_session}"
        return f"Sessions {self.first_session}–{self.last_session}"


def default_feedback_schedule() -> list[FeedbackPhase]:
    """Full feedback in sessions 1–4, withdrawn over 5–8, then none (Willy 2012)."""
    return [
        FeedbackPhase(1, 4, "Metronome for the whole run", SOURCE_FADING),
        FeedbackPhase(5, 6, "Metronome for the first and last 5 minutes"),
        FeedbackPhase(7, 8, "Spot checks: metronome for 1 minute every 10 minutes"),
        FeedbackPhase(9, None, "No metronome: keep the rhythm on your own", SOURCE_FADING),
    ]


@dataclass
class PatientWording:
    """Patient-facing text for the home program (editable by the clinic)."""

    cues: list[str] = field(
        default_factory=lambda: ["Shorter, quicker, lighter steps", "Land closer underneath you"]
    )
    cues_source: str = SOURCE_CUES
    costs: list[str] = field(
        default_factory=lambda: [
            "Running this way will feel harder than usual at first (higher perceived effort).",
            "It will feel awkward for the first few runs; this settles with practice.",
        ]
    )
    costs_source: str = SOURCE_COSTS


def default_steps(baseline_spm: float, start_percent: float) -> list[PlanStep]:
    """The chosen increase first, then the standard steps above it up to +10 %."""
    pcts = [start_percent] + [p for p in PRESET_PERCENTS if p > start_percent + 1e-9]
    steps: list[PlanStep] = []
    for i, p in enumerate(pcts):
        when = (
            "Now (weeks 1–2, then review)" if i == 0 else f"When +{pcts[i - 1]:g} % feels automatic"
        )
        steps.append(PlanStep(p, target_spm(baseline_spm, p), when))
    return steps


@dataclass
class CadencePlan:
    """A complete cadence prescription for one visit: target, steps, dose, fading, wording."""

    baseline_spm: float
    percent: float
    target_spm: int
    contacts_per_side: tuple[int, int] | None = None
    custom: bool = False
    baseline_legacy: bool = False
    """Measured and saved before the review rule (stored source "measured")."""
    baseline_unreviewed: int = 0
    """Unreviewed proposals the measured baseline left out (shown with the source)."""
    steps: list[PlanStep] = field(default_factory=list)
    dose: PracticeDose = field(default_factory=PracticeDose)
    feedback: list[FeedbackPhase] = field(default_factory=default_feedback_schedule)
    wording: PatientWording = field(default_factory=PatientWording)
    warnings: list[dict[str, str]] = field(default_factory=list)
    follow_up: dict[str, Any] | None = None
    treadmill_speed_kmh: float | None = None
    target_source: str = "Heiderscheit 2011; Barton 2016; Huber & Verhoff 2024 (+5–10 %)"

    @property
    def metronome_bpm(self) -> int:
        return self.target_spm

    @property
    def baseline(self) -> Baseline:
        """The baseline as saved, with its source (reviewed marks / typed in / older record)."""
        if self.contacts_per_side is None:
            return Baseline(self.baseline_spm)
        return Baseline(
            self.baseline_spm,
            self.contacts_per_side,
            unreviewed=self.baseline_unreviewed,
            legacy=self.baseline_legacy,
        )

    @property
    def baseline_source(self) -> str:
        """Stored with the plan and in ``prescriptions.baseline_source``: it survives a restart."""
        return self.baseline.source

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (lists, numbers, strings, None only)."""
        d = asdict(self)
        d["contacts_per_side"] = list(self.contacts_per_side) if self.contacts_per_side else None
        d["metronome_bpm"] = self.metronome_bpm
        d["baseline_source"] = self.baseline_source
        del d["baseline_legacy"]
        d["schema_version"] = SCHEMA_VERSION
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CadencePlan:
        """Rebuild a plan; missing optional parts take today's defaults. Raises PrescriptionError."""
        if not isinstance(data, dict):
            raise PrescriptionError("The saved prescription is not readable (not a record).")
        try:
            version = int(data.get("schema_version", SCHEMA_VERSION))
            if version > SCHEMA_VERSION:
                raise PrescriptionError(
                    "This prescription was saved by a newer version of Stride Clinic."
                )
            baseline = float(data["baseline_spm"])
            percent = float(data["percent"])
            target = int(data["target_spm"])
            if not (math.isfinite(baseline) and math.isfinite(percent)):
                raise ValueError
            cps = data.get("contacts_per_side")
            contacts = (int(cps[0]), int(cps[1])) if cps else None
            source = data.get("baseline_source")
            if contacts is not None and source == BASELINE_TYPED:
                contacts = None  # typed in: the contact counts do not describe it
            steps = [
                PlanStep(
                    float(s["percent"]),
                    int(s["target_spm"]),
                    str(s.get("when", "")),
                    str(s.get("source", SOURCE_PROGRESSION)),
                )
                for s in data.get("steps") or []
            ] or default_steps(baseline, percent)
            dose = PracticeDose(**_known(PracticeDose, data.get("dose") or {}))
            feedback = [
                FeedbackPhase(
                    int(f["first_session"]),
                    None if f.get("last_session") is None else int(f["last_session"]),
                    str(f["metronome_use"]),
                    str(f.get("source", SOURCE_FADING_SPLIT)),
                )
                for f in data.get("feedback") or []
            ] or default_feedback_schedule()
            w = data.get("wording") or {}
            wording = PatientWording(**_known(PatientWording, w))
            wording.cues = [str(c) for c in wording.cues]
            wording.costs = [str(c) for c in wording.costs]
            speed = data.get("treadmill_speed_kmh")
            plan = cls(
                baseline_spm=baseline,
                percent=percent,
                target_spm=target,
                contacts_per_side=contacts,
                custom=bool(data.get("custom", False)),
                baseline_legacy=contacts is not None and source in (None, BASELINE_LEGACY),
                baseline_unreviewed=max(0, int(data.get("baseline_unreviewed") or 0)),
                steps=steps,
                dose=dose,
                feedback=feedback,
                wording=wording,
                warnings=[dict(x) for x in data.get("warnings") or []],
                follow_up=data.get("follow_up"),
                treadmill_speed_kmh=None if speed is None else float(speed),
                target_source=str(data.get("target_source", cls.target_source)),
            )
        except PrescriptionError:
            raise
        except (KeyError, TypeError, ValueError, IndexError):
            raise PrescriptionError(
                "The saved prescription is incomplete or damaged and cannot be opened."
            ) from None
        plan.dose.validate()
        return plan

    def home_program_lines(self) -> list[str]:
        """Plain sentences for the printed home program (the report writer may format them)."""
        lines = [
            f"Target cadence: {self.target_spm} steps per minute (metronome at {self.metronome_bpm} beats per minute).",
            f"Practice: {self.dose.text}.",
        ]
        lines += [f"{f.sessions_text}: {f.metronome_use}." for f in self.feedback]
        if len(self.steps) > 1:
            lines.append(
                "Next steps: "
                + "; ".join(f"{s.label} ({s.when.lower()})" for s in self.steps[1:])
                + "."
            )
        lines += [f"Cue: {c}" for c in self.wording.cues]
        lines += [f"What to expect: {c}" for c in self.wording.costs]
        return lines


def _known(kind: type, values: dict[str, Any]) -> dict[str, Any]:
    """Keep only the fields ``kind`` knows (older/newer records may carry extra keys)."""
    names = set(kind.__dataclass_fields__)  # type: ignore[attr-defined]
    return {k: v for k, v in values.items() if k in names}


def build_plan(
    prescription: Prescription,
    *,
    dose: PracticeDose | None = None,
    feedback: list[FeedbackPhase] | None = None,
    wording: PatientWording | None = None,
    follow_up: FollowUp | None = None,
    treadmill_speed_kmh: float | None = None,
) -> CadencePlan:
    """Assemble the default plan around a computed prescription (all parts editable after)."""
    p = prescription
    return CadencePlan(
        baseline_spm=p.baseline.spm,
        percent=p.percent,
        target_spm=p.target_spm,
        contacts_per_side=p.baseline.contacts_per_side,
        custom=p.custom,
        baseline_legacy=p.baseline.legacy,
        baseline_unreviewed=p.baseline.unreviewed,
        steps=default_steps(p.baseline.spm, p.percent),
        dose=dose or PracticeDose(),
        feedback=feedback if feedback is not None else default_feedback_schedule(),
        wording=wording or PatientWording(),
        warnings=[w.to_dict() for w in p.warnings],
        follow_up=follow_up.to_dict() if follow_up else None,
        treadmill_speed_kmh=treadmill_speed_kmh,
    )


def plan_for(
    baseline: Baseline,
    percent: float = 5.0,
    settings: PrescriptionSettings | None = None,
) -> CadencePlan:
    """Shortcut: prescribe ``percent`` over ``baseline`` and build the default plan."""
    return build_plan(prescribe(baseline, percent, settings=settings))
