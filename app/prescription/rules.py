"""Cadence prescription rules: baseline, target, guard-rail warnings and follow-up.

Pure logic (no Qt). Every number the clinic may want to change lives in
:class:`PrescriptionSettings`; every figure that comes from the literature carries its source.

Rounding of the target
----------------------
``target = round(baseline × (1 + p/100))`` to whole steps per minute, **half away from zero**
(for cadences, which are positive, that is "half up": 178.5 → 179). This is what a clinician
does by hand and what a printed program shows; Python's built-in ``round`` uses banker's
rounding (172.5 → 172 but 173.5 → 174), which would give a physiotherapist checking the sum
with a calculator an unexplained one-step difference. The product is computed in decimal from
the values as typed (``Decimal(repr(x))``) so that 170 × 1.05 is exactly 178.5 and rounds up,
rather than depending on binary floating-point noise (``170 * 1.05 == 178.50000000000003``).

Measurement noise at follow-up
------------------------------
See :func:`cadence_noise_spm`: the 95 % half-width of the measured mean cadence combined with
the worst-case ±1 frame timing error at both ends of the counted stretch, never less than half a
step per minute (the resolution of a whole-number target).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum

from app.errors import ClinicError

# --- sources (shown in tooltips and on the printed program) -----------------------------------
SOURCE_TARGET = "Heiderscheit 2011; Barton 2016 expert consensus; Huber & Verhoff 2024 (+5–10 %)"
SOURCE_PROGRESSION = "Barton 2016: start at +5 %, progress to +7.5–10 % when +5 % feels automatic"
SOURCE_CONTACTS = "Dingenen 2018: a stable mean needs about 7 contacts per side"
SOURCE_SANITY = (
    "Typical cadence 154–171 spm (van Oeveren 2017; Eur J Sport Sci 2019); the ~140–200 spm "
    "sanity range is a program setting, not a clinical cut-off"
)
SOURCE_MAX_JUMP = "Heiderscheit 2011; Barton 2016: increases of 5–10 % were studied"
SOURCE_DEFAULT_TOLERANCE = "Clinical heuristic (no published source): used only when the follow-up measurement has no SD, n or frame rate"

PRESET_PERCENTS: tuple[float, ...] = (5.0, 7.5, 10.0)
"""The three standard increases offered as buttons (custom is any other value)."""

# Hard validation limits: outside these a value is a typing error, not a runner.
ABSURD_MIN_SPM = 60.0
ABSURD_MAX_SPM = 300.0
ABSURD_MIN_PERCENT = -50.0
ABSURD_MAX_PERCENT = 50.0


class PrescriptionError(ClinicError, ValueError):
    """Invalid input for a prescription; ``str(err)`` is a plain sentence for the clinician."""


class WarningCode(str, Enum):
    JUMP_TOO_LARGE = "jump_too_large"
    TARGET_OUTSIDE_RANGE = "target_outside_range"
    FEW_CONTACTS = "few_contacts"
    BASELINE_OUTSIDE_RANGE = "baseline_outside_range"
    NOT_AN_INCREASE = "not_an_increase"


@dataclass(frozen=True)
class PrescriptionWarning:
    """A guard rail that was crossed. Warnings never block a prescription."""

    code: WarningCode
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code.value, "message": self.message}


@dataclass(frozen=True)
class PrescriptionSettings:
    """Clinic-editable thresholds for the guard rails."""

    sane_min_spm: float = 140.0
    sane_max_spm: float = 200.0
    max_jump_percent: float = 10.0
    min_contacts_per_side: int = 7
    default_tolerance_spm: float = 2.0
    """Follow-up tolerance when nothing is known about the measurement (clinical heuristic)."""

    def __post_init__(self) -> None:
        if not (self.sane_min_spm < self.sane_max_spm):
            raise PrescriptionError(
                "The cadence sanity range must have its minimum below its maximum."
            )
        if self.min_contacts_per_side < 1:
            raise PrescriptionError("The minimum number of contacts per side must be at least 1.")


# --- parsing and validation --------------------------------------------------------------------


def _to_float(value: object, what: str, example: str) -> float:
    if isinstance(value, bool):
        raise PrescriptionError(f"{what} must be a number, e.g. {example}.")
    if isinstance(value, str):
        text = value.strip().replace(",", ".")  # accept a decimal comma as typed on many keyboards
        if not text:
            raise PrescriptionError(f"Please enter {what.lower()}, e.g. {example}.")
        value = text
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise PrescriptionError(
            f"{what} must be a number, e.g. {example} (got {value!r})."
        ) from None
    if not math.isfinite(number):
        raise PrescriptionError(f"{what} must be an ordinary number, e.g. {example}.")
    return number


def validate_spm(value: object, what: str = "Cadence") -> float:
    """Return a cadence in steps per minute, or raise :class:`PrescriptionError`.

    Accepts numbers or text (a decimal comma is allowed). Zero, negative, NaN/infinite and
    absurd values (below 60 or above 300 spm) are errors.
    """
    spm = _to_float(value, what, "165")
    if spm <= 0:
        raise PrescriptionError(f"{what} must be more than zero steps per minute (got {spm:g}).")
    if spm < ABSURD_MIN_SPM or spm > ABSURD_MAX_SPM:
        raise PrescriptionError(
            f"{what} of {spm:g} steps per minute is not possible for running; "
            f"enter a value between {ABSURD_MIN_SPM:g} and {ABSURD_MAX_SPM:g} (typically 150–185)."
        )
    return spm


def validate_percent(value: object) -> float:
    """Return an increase in percent (−50…50), or raise :class:`PrescriptionError`."""
    pct = _to_float(value, "The cadence increase", "5")
    if pct < ABSURD_MIN_PERCENT or pct > ABSURD_MAX_PERCENT:
        raise PrescriptionError(
            f"A cadence change of {pct:g} % is not plausible; enter a percentage between "
            f"{ABSURD_MIN_PERCENT:g} and {ABSURD_MAX_PERCENT:g} (usually 5 to 10)."
        )
    return pct


def validate_stored_prescription(
    target: object, baseline: object | None = None, percent: object | None = None
) -> tuple[int, float | None, float | None]:
    """Check the figures of a prescription before it is stored: ``(target, baseline, percent)``.

    The same hard limits as when prescribing (:func:`validate_spm`: 60–300 spm, finite;
    :func:`validate_percent`: −50…50 %), applied at the one place every prescription is saved,
    so a plan built by other code or read from a file cannot store 0, −5, 5000 or infinite
    steps per minute. The guard-rail *warnings* (unusual but possible values) stay non-blocking.
    """
    tgt = round_half_up(validate_spm(target, "The target cadence"))
    base = None if baseline is None else validate_spm(baseline, "The baseline cadence")
    pct = None if percent is None else validate_percent(percent)
    return tgt, base, pct


def _validate_contacts(contacts: object) -> tuple[int, int]:
    try:
        left, right = contacts  # type: ignore[misc]
    except (TypeError, ValueError):
        raise PrescriptionError(
            "The number of contacts must be given for the left and the right foot."
        ) from None
    out = []
    for n in (left, right):
        if isinstance(n, bool) or not isinstance(n, (int, float)) or not math.isfinite(n):
            raise PrescriptionError("The number of contacts per side must be a whole number.")
        if n < 0 or int(n) != n:
            raise PrescriptionError(
                "The number of contacts per side must be a whole number, 0 or more."
            )
        out.append(int(n))
    return out[0], out[1]


# --- baseline ------------------------------------------------------------------------------------


BASELINE_REVIEWED = "reviewed"
"""Stored source of a baseline measured from reviewed marks (the review rule of every figure)."""
BASELINE_TYPED = "typed"
BASELINE_LEGACY = "measured"
"""Stored before the review rule: measured from marks whose review state was not recorded."""


@dataclass(frozen=True)
class Baseline:
    """The runner's current cadence: measured from reviewed marks, or typed in (e.g. a watch).

    Under the review rule (``app.annotation.session.REVIEW_RULE``) a measured baseline never
    counts automatic proposals; ``unreviewed`` says how many were left out, so the wording can
    say so."""

    spm: float
    contacts_per_side: tuple[int, int] | None = None
    """(left, right) initial contacts used for a measured baseline; None when typed in."""
    unreviewed: int = 0
    """Unreviewed automatic proposals of the visit that the measurement did not count."""
    legacy: bool = False
    """Measured and saved before the review rule (stored source "measured")."""

    @property
    def measured(self) -> bool:
        return self.contacts_per_side is not None

    @property
    def source(self) -> str:
        """What is stored: "reviewed", "typed" or (older records) "measured"."""
        if not self.measured:
            return BASELINE_TYPED
        return BASELINE_LEGACY if self.legacy else BASELINE_REVIEWED

    @property
    def source_text(self) -> str:
        if self.contacts_per_side is None:
            return "typed in"
        left, right = self.contacts_per_side
        if self.legacy:
            return (
                f"measured from video marks ({left} left / {right} right contacts), "
                "saved before marks needed review"
            )
        text = f"measured from reviewed marks ({left} left / {right} right contacts)"
        return text + unreviewed_note(self.unreviewed)


def unreviewed_note(n: int) -> str:
    """ "; 30 unreviewed proposals not counted" (empty when there are none)."""
    if n <= 0:
        return ""
    return f"; {n} unreviewed proposal{'s' if n != 1 else ''} not counted"


def baseline_from_measurement(
    spm: object, contacts_per_side: object, *, unreviewed: int = 0, source: str = BASELINE_REVIEWED
) -> Baseline:
    """A baseline measured from reviewed marks, with the number of (left, right) contacts."""
    if source not in (BASELINE_REVIEWED, BASELINE_LEGACY):
        raise PrescriptionError(f"Unknown baseline source {source!r}.")
    return Baseline(
        validate_spm(spm, "Baseline cadence"),
        _validate_contacts(contacts_per_side),
        unreviewed=max(0, int(unreviewed)),
        legacy=source == BASELINE_LEGACY,
    )


def baseline_typed(spm: object) -> Baseline:
    """A baseline typed in by the clinician (e.g. read from the runner's watch)."""
    return Baseline(validate_spm(spm, "Baseline cadence"))


# --- target ---------------------------------------------------------------------------------------


def _decimal(x: float) -> Decimal:
    # repr gives the shortest decimal that round-trips: 7.5 -> "7.5", 170.0 -> "170.0".
    return Decimal(repr(float(x)))


def round_half_up(x: float) -> int:
    """Round half away from zero using the decimal value as typed (178.5 → 179, −2.5 → −3)."""
    try:
        d = _decimal(x)
        return int(d.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation:
        raise PrescriptionError("The value cannot be rounded (not an ordinary number).") from None


def target_spm(baseline_spm: float, percent: float) -> int:
    """``round(baseline × (1 + percent/100))`` to whole spm, half away from zero (see module doc)."""
    exact = _decimal(baseline_spm) * (Decimal(1) + _decimal(percent) / Decimal(100))
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Prescription:
    """A computed target with its guard-rail warnings."""

    baseline: Baseline
    percent: float
    target_spm: int
    warnings: tuple[PrescriptionWarning, ...] = field(default_factory=tuple)
    custom: bool = False

    @property
    def metronome_bpm(self) -> int:
        """One beat per foot contact: beats per minute = steps per minute."""
        return self.target_spm

    def to_dict(self) -> dict[str, object]:
        return {
            "baseline_spm": self.baseline.spm,
            "baseline_source": self.baseline.source,
            "baseline_unreviewed": self.baseline.unreviewed,
            "contacts_per_side": list(self.baseline.contacts_per_side)
            if self.baseline.contacts_per_side
            else None,
            "percent": self.percent,
            "custom": self.custom,
            "target_spm": self.target_spm,
            "metronome_bpm": self.metronome_bpm,
            "warnings": [w.to_dict() for w in self.warnings],
        }


def check_warnings(
    baseline: Baseline,
    percent: float,
    target: int,
    settings: PrescriptionSettings | None = None,
) -> tuple[PrescriptionWarning, ...]:
    """All guard rails crossed by this prescription (each condition independent)."""
    s = settings or PrescriptionSettings()
    out: list[PrescriptionWarning] = []
    if percent > s.max_jump_percent:
        out.append(
            PrescriptionWarning(
                WarningCode.JUMP_TOO_LARGE,
                f"An increase of {percent:g} % is more than the {s.max_jump_percent:g} % studied; "
                "consider starting at +5 % and progressing.",
            )
        )
    if percent <= 0:
        out.append(
            PrescriptionWarning(
                WarningCode.NOT_AN_INCREASE,
                f"The target ({target} spm) is not above the baseline: retraining usually raises cadence.",
            )
        )
    if target < s.sane_min_spm or target > s.sane_max_spm:
        out.append(
            PrescriptionWarning(
                WarningCode.TARGET_OUTSIDE_RANGE,
                f"The target of {target} spm is outside the usual {s.sane_min_spm:g}–"
                f"{s.sane_max_spm:g} spm range; please double-check it.",
            )
        )
    if baseline.spm < s.sane_min_spm or baseline.spm > s.sane_max_spm:
        out.append(
            PrescriptionWarning(
                WarningCode.BASELINE_OUTSIDE_RANGE,
                f"The baseline of {baseline.spm:g} spm is outside the usual {s.sane_min_spm:g}–"
                f"{s.sane_max_spm:g} spm range; check the measurement (frame rate, missed contacts).",
            )
        )
    if (
        baseline.contacts_per_side is not None
        and min(baseline.contacts_per_side) < s.min_contacts_per_side
    ):
        left, right = baseline.contacts_per_side
        out.append(
            PrescriptionWarning(
                WarningCode.FEW_CONTACTS,
                f"The baseline uses only {left} left / {right} right contacts; at least "
                f"{s.min_contacts_per_side} per side give a stable mean.",
            )
        )
    return tuple(out)


def prescribe(
    baseline: Baseline,
    percent: object | None = None,
    *,
    target: object | None = None,
    settings: PrescriptionSettings | None = None,
) -> Prescription:
    """Compute the target cadence from a percentage, or accept a custom target in spm.

    Give exactly one of ``percent`` (e.g. 5, 7.5, 10 or any custom value in −50…50) or
    ``target`` (whole or decimal spm, rounded half up). With a direct target the effective
    percentage is derived from it and the same warnings apply.
    """
    if (percent is None) == (target is None):
        raise PrescriptionError(
            "Choose either a percentage increase or a target cadence, not both."
        )
    if percent is not None:
        pct = validate_percent(percent)
        tgt = target_spm(baseline.spm, pct)
        custom = not any(math.isclose(pct, p) for p in PRESET_PERCENTS)
    else:
        tgt = round_half_up(validate_spm(target, "Target cadence"))
        # decimal, to 4 places: 176 over 160 is exactly +10 %, not 10.000000000000009 (which
        # would wrongly trip the "over 10 %" warning)
        exact = (Decimal(tgt) / _decimal(baseline.spm) - 1) * 100
        pct = validate_percent(float(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)))
        custom = True
    return Prescription(baseline, pct, tgt, check_warnings(baseline, pct, tgt, settings), custom)


# --- follow-up -------------------------------------------------------------------------------------


def cadence_noise_spm(
    measured_spm: float,
    sd_spm: float | None = None,
    n_contacts: int | None = None,
    frame_rate_hz: float | None = None,
    settings: PrescriptionSettings | None = None,
) -> float:
    """Measurement noise of a measured mean cadence, in spm (a 95 % half-width).

    * Sampling noise: ``1.96 × SD / √n`` when the step-to-step SD of cadence and the number of
      contacts are known (standard error of the mean).
    * Timing noise: for cadence = 60 (N − 1) / T over N contacts a ±1 frame error at each end
      changes T by at most 2/fps, so the cadence by ``cadence × (2 / fps) / T`` with
      ``T = 60 (N − 1) / cadence``; the least-squares cadence the program measures
      (``app.analysis.metrics``) weighs every contact and stays within that bound. Needs n and
      the capture frame rate.
    * The two are combined as root-sum-of-squares and never reported below 0.5 spm (a target is a
      whole number). With nothing known, the clinic's default tolerance is used (a setting
      labelled as a clinical heuristic).
    """
    s = settings or PrescriptionSettings()
    parts: list[float] = []
    if sd_spm is not None and n_contacts is not None and n_contacts >= 2 and sd_spm >= 0:
        parts.append(1.96 * float(sd_spm) / math.sqrt(n_contacts))
    if (
        frame_rate_hz is not None
        and frame_rate_hz > 0
        and n_contacts is not None
        and n_contacts >= 2
    ):
        duration = 60.0 * (n_contacts - 1) / measured_spm
        parts.append(measured_spm * (2.0 / frame_rate_hz) / duration)
    if not parts:
        return float(s.default_tolerance_spm)
    return max(0.5, math.sqrt(sum(p * p for p in parts)))


class FollowUpStatus(str, Enum):
    REACHED = "reached"
    ABOVE = "above"
    BELOW = "below"


@dataclass(frozen=True)
class FollowUp:
    """How a newly measured cadence compares with the prescribed target."""

    target_spm: int
    measured_spm: float
    noise_spm: float
    status: FollowUpStatus
    next_step: str
    next_percent: float | None = None
    next_target_spm: int | None = None

    @property
    def difference_spm(self) -> float:
        return self.measured_spm - self.target_spm

    @property
    def reached(self) -> bool:
        """Reached within measurement noise, or exceeded."""
        return self.status is not FollowUpStatus.BELOW

    @property
    def message(self) -> str:
        d = self.difference_spm
        head = {
            FollowUpStatus.REACHED: "Target reached",
            FollowUpStatus.ABOVE: "Above target",
            FollowUpStatus.BELOW: "Target not yet reached",
        }[self.status]
        return (
            f"{head}: measured {self.measured_spm:.1f} spm vs target {self.target_spm} spm "
            f"({d:+.1f} spm; measurement noise ±{self.noise_spm:.1f} spm). {self.next_step}"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "target_spm": self.target_spm,
            "measured_spm": self.measured_spm,
            "noise_spm": self.noise_spm,
            "status": self.status.value,
            "next_step": self.next_step,
            "next_percent": self.next_percent,
            "next_target_spm": self.next_target_spm,
            "message": self.message,
        }


def assess_follow_up(
    target: object,
    measured_spm: object,
    *,
    sd_spm: float | None = None,
    n_contacts: int | None = None,
    frame_rate_hz: float | None = None,
    original_baseline_spm: float | None = None,
    step_percents: tuple[float, ...] = PRESET_PERCENTS,
    settings: PrescriptionSettings | None = None,
) -> FollowUp:
    """Compare a new measurement with the prescribed target and offer the next plan step.

    ``|measured − target| ≤ noise`` is "reached"; more than noise above is "above" (also reached);
    more than noise below is "below". When the original baseline is known, the next step is the
    next percentage of ``step_percents`` above the one the target represents, computed from that
    baseline (Barton 2016 progression).
    """
    tgt = round_half_up(validate_spm(target, "Previous target"))
    meas = validate_spm(measured_spm, "Measured cadence")
    noise = cadence_noise_spm(meas, sd_spm, n_contacts, frame_rate_hz, settings)
    diff = meas - tgt
    if abs(diff) <= noise:
        status = FollowUpStatus.REACHED
    elif diff > 0:
        status = FollowUpStatus.ABOVE
    else:
        status = FollowUpStatus.BELOW

    next_pct: float | None = None
    next_tgt: int | None = None
    if status is FollowUpStatus.BELOW:
        text = (
            "Keep the same target and continue practising with the metronome; check the runs per "
            "week and minutes with the metronome."
        )
    else:
        if original_baseline_spm is not None:
            base = validate_spm(original_baseline_spm, "Original baseline")
            current_pct = (tgt / base - 1.0) * 100.0
            # half a step of tolerance: a +5 % target rounded to whole spm is ~5 %, not exactly
            later = [p for p in sorted(step_percents) if p > current_pct + 50.0 / base]
            if later:
                next_pct = later[0]
                next_tgt = target_spm(base, next_pct)
        if next_tgt is not None:
            text = (
                f"When this cadence feels automatic, progress to +{next_pct:g} % "
                f"({next_tgt} spm) — Barton 2016."
            )
        elif original_baseline_spm is not None:
            text = (
                "The last step of the plan is reached: keep this cadence and fade the metronome "
                "(Willy, Scholz & Davis 2012)."
            )
        else:
            text = (
                "When this cadence feels automatic, progress to the next step (+7.5–10 % of the "
                "original baseline; Barton 2016) and fade the metronome."
            )
    return FollowUp(tgt, meas, noise, status, text, next_pct, next_tgt)
