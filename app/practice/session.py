"""One practice session on the treadmill: the metronome schedule, the clock, the 1 Hz record.

Faded feedback (``../shared/docs/clinical.md``; Willy, Scholz & Davis 2012; Davis 2020): the
cue is given, then withdrawn, so the clinician sees whether the new cadence stays without it.
:class:`Schedule` says when the metronome sounds (on/off stretches of session time);
:func:`schedule_from_plan` picks one from the patient's plan. :class:`PracticeSession` is the
clock-driven state (ready → running ⇄ paused → stopped) with the clinician's overrides, and
records at 1 Hz the live cadence and whether the cue was on, from which the time on target
with and without the cue follows. Pure logic: every method takes ``now`` (seconds, monotonic).
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass, field
from enum import Enum

from app.errors import ClinicError

from .live_cadence import CadenceEstimate

DEFAULT_TOLERANCE_SPM = 2.0
SAMPLE_PERIOD_S = 1.0

SOURCE_IN_SESSION = (
    "Faded feedback (Willy, Scholz & Davis 2012; Davis 2020): cue first, then withdrawn. "
    "The split within one clinic session is this program's example, not from the source"
)


class PracticeError(ClinicError):
    """Bad practice settings or a session that cannot be saved or read."""


def check_target(target: object) -> float:
    try:
        v = float(target)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise PracticeError("The target cadence must be a number of steps per minute.") from None
    if not math.isfinite(v) or not 100 <= v <= 240:
        raise PracticeError(f"A target of {target} steps per minute is not usable (100–240).")
    return v


def check_tolerance(tol: object) -> float:
    try:
        v = float(tol)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise PracticeError("The tolerance must be a number of steps per minute.") from None
    if not math.isfinite(v) or not 0.5 <= v <= 20:
        raise PracticeError(f"A tolerance of ±{tol} steps per minute is not usable (0.5–20).")
    return v


# --------------------------------------------------------------------------------------------
# Schedule


@dataclass(frozen=True)
class Stretch:
    seconds: float
    metronome: bool


@dataclass(frozen=True)
class Schedule:
    """Metronome on/off stretches from the start of the session; after the last, ``then``."""

    stretches: tuple[Stretch, ...]
    then: bool
    label: str
    source: str = SOURCE_IN_SESSION

    def metronome_at(self, t: float) -> bool:
        edge = 0.0
        for s in self.stretches:
            edge += s.seconds
            if t < edge:
                return s.metronome
        return self.then

    def next_change(self, t: float) -> float | None:
        """Session time of the next scheduled switch after ``t`` (None: no more)."""
        edge = 0.0
        current = self.metronome_at(t)
        for s in self.stretches:
            edge += s.seconds
            if edge > t and self.metronome_at(edge) != current:
                return edge
        return None

    def to_dict(self) -> dict[str, object]:
        return {
            "stretches": [[s.seconds, s.metronome] for s in self.stretches],
            "then": self.then,
            "label": self.label,
        }


def always_on() -> Schedule:
    return Schedule((), True, "Metronome throughout")


def always_off() -> Schedule:
    return Schedule((), False, "No metronome (check the cadence without the cue)")


def faded(first_on_s: float = 120.0, off_s: tuple[float, ...] = (60.0, 120.0, 180.0, 240.0),
          cue_s: float = 60.0) -> Schedule:  # fmt: skip
    """Metronome on for ``first_on_s``, then off for growing stretches, each followed by a
    ``cue_s`` reminder; off after the last stretch."""
    if first_on_s < 0 or cue_s < 0 or any(o <= 0 for o in off_s):
        raise PracticeError("Schedule stretches must be positive lengths of time.")
    parts = [Stretch(first_on_s, True)] if first_on_s > 0 else []
    for i, off in enumerate(off_s):
        parts.append(Stretch(off, False))
        if i < len(off_s) - 1 and cue_s > 0:
            parts.append(Stretch(cue_s, True))
    offs = ", ".join(f"{o / 60:g}" for o in off_s)
    label = f"Faded: metronome {first_on_s / 60:g} min, then off {offs} min"
    if cue_s:
        label += f" with {cue_s / 60:g} min cues between"
    return Schedule(tuple(parts), False, label)


def schedule_from_plan(plan: object | None, session_number: int = 1) -> Schedule:
    """The in-clinic schedule for the ``session_number``-th practice of this plan.

    The plan's phase for that session decides (``app.prescription.plan.FeedbackPhase``): no
    metronome in the phase → a check without the cue; otherwise faded within the session (the
    reason for practising in the clinic). Without a plan: faded.
    """
    phases = getattr(plan, "feedback", None) or []
    for phase in phases:
        last = phase.last_session
        if phase.first_session <= session_number and (last is None or session_number <= last):
            if "no metronome" in str(phase.metronome_use).lower():
                return always_off()
            break
    return faded()


# --------------------------------------------------------------------------------------------
# Session


class State(str, Enum):
    READY = "ready"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


def band(cadence: float | None, target: float, tolerance: float) -> str | None:
    """``"on"``, ``"slow"`` or ``"fast"`` for a cadence against the target (None: no cadence)."""
    if cadence is None:
        return None
    if cadence < target - tolerance:
        return "slow"
    if cadence > target + tolerance:
        return "fast"
    return "on"


@dataclass
class Sample:
    t: float
    """Session time (s, pauses excluded)."""
    spm: float | None
    cue: bool
    confidence: float


@dataclass
class Totals:
    """Seconds measured and on target, with and without the cue; mean cadences."""

    measured_cue_s: float = 0.0
    on_target_cue_s: float = 0.0
    measured_nocue_s: float = 0.0
    on_target_nocue_s: float = 0.0
    mean_cue_spm: float | None = None
    mean_nocue_spm: float | None = None

    @property
    def measured_s(self) -> float:
        return self.measured_cue_s + self.measured_nocue_s

    @property
    def on_target_s(self) -> float:
        return self.on_target_cue_s + self.on_target_nocue_s

    def percent(self, cue: bool | None = None) -> float | None:
        m = {None: self.measured_s, True: self.measured_cue_s, False: self.measured_nocue_s}[cue]
        o = {None: self.on_target_s, True: self.on_target_cue_s, False: self.on_target_nocue_s}[cue]
        return 100.0 * o / m if m > 0 else None


def totals(samples: list[Sample], target: float, tolerance: float) -> Totals:
    out = Totals()
    sums = {True: [], False: []}  # type: dict[bool, list[float]]
    for s in samples:
        if s.spm is None:
            continue
        sums[s.cue].append(s.spm)
        on = band(s.spm, target, tolerance) == "on"
        if s.cue:
            out.measured_cue_s += SAMPLE_PERIOD_S
            out.on_target_cue_s += SAMPLE_PERIOD_S * on
        else:
            out.measured_nocue_s += SAMPLE_PERIOD_S
            out.on_target_nocue_s += SAMPLE_PERIOD_S * on
    out.mean_cue_spm = sum(sums[True]) / len(sums[True]) if sums[True] else None
    out.mean_nocue_spm = sum(sums[False]) / len(sums[False]) if sums[False] else None
    return out


@dataclass
class PracticeSession:
    """The running session. Call :meth:`tick` at display rate with the newest estimate."""

    target_spm: float
    tolerance_spm: float = DEFAULT_TOLERANCE_SPM
    schedule: Schedule = field(default_factory=faded)
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: dt.datetime | None = None
    state: State = State.READY
    samples: list[Sample] = field(default_factory=list)
    spans: list[list[float | bool | None]] = field(default_factory=list)
    """Metronome spans ``[start_s, end_s or None, on]`` in session time, as actually played."""
    events: list[str] = field(default_factory=list)
    """Plain notes with their session time ("03:12 camera stopped"), saved with the session."""
    recording_path: str | None = None

    def __post_init__(self) -> None:
        self.target_spm = check_target(self.target_spm)
        self.tolerance_spm = check_tolerance(self.tolerance_spm)
        self._run_start: float | None = None  # monotonic time the current running stretch began
        self._banked = 0.0  # session seconds before the current running stretch
        self._override: bool | None = None
        self._override_until: float | None = None
        self._next_sample = 0.0
        self._cue = self.schedule.metronome_at(0.0)

    # -- clock -----------------------------------------------------------------------------
    def elapsed(self, now: float) -> float:
        if self.state is State.RUNNING and self._run_start is not None:
            return self._banked + (now - self._run_start)
        return self._banked

    def start(self, now: float, wall: dt.datetime | None = None) -> None:
        if self.state is State.READY:
            self.started_at = wall or dt.datetime.now()
            self.state = State.RUNNING
            self._run_start = now
            self._cue = self.metronome_on(now)
            self.spans.append([0.0, None, self._cue])
        elif self.state is State.PAUSED:
            self.resume(now)

    def pause(self, now: float) -> None:
        if self.state is State.RUNNING:
            self._banked = self.elapsed(now)
            self._run_start = None
            self.state = State.PAUSED

    def resume(self, now: float) -> None:
        if self.state is State.PAUSED:
            self._run_start = now
            self.state = State.RUNNING

    def toggle_pause(self, now: float) -> None:
        if self.state is State.RUNNING:
            self.pause(now)
        elif self.state in (State.PAUSED, State.READY):
            self.start(now)

    def stop(self, now: float) -> None:
        if self.state in (State.RUNNING, State.PAUSED):
            self._banked = self.elapsed(now)
            self._run_start = None
            self.state = State.STOPPED
            # a sample stands for the second after it: none for the instant of the stop
            self.samples = [x for x in self.samples if x.t < self._banked - 1e-9]
            if self.spans and self.spans[-1][1] is None:
                self.spans[-1][1] = round(self._banked, 3)

    @property
    def duration_s(self) -> float:
        """Session seconds up to the last pause or the stop (use :meth:`elapsed` while running)."""
        return self._banked

    # -- metronome -------------------------------------------------------------------------
    def metronome_on(self, now: float) -> bool:
        """Whether the metronome should sound now: the override, else the schedule."""
        t = self.elapsed(now)
        if self._override is not None:
            if self._override_until is None or t < self._override_until:
                return self._override
            self._override = None
        return self.schedule.metronome_at(t)

    def override(self, on: bool | None, now: float) -> None:
        """The clinician switches the metronome; holds until the schedule's next switch
        (``None``: back to the schedule now)."""
        t = self.elapsed(now)
        self._override = on
        self._override_until = None if on is None else self.schedule.next_change(t)
        if on is not None:
            self.note(now, "metronome switched " + ("on" if on else "off") + " by the clinician")

    def upcoming_switches(self, now: float, horizon_s: float) -> list[tuple[float, bool]]:
        """The cue's switches in the next ``horizon_s`` seconds if the session keeps running,
        as ``(now-based time, on)``: the schedule's, after the override (which ends at the
        schedule's next switch). Empty unless running. Lets the sound render them ahead."""
        if self.state is not State.RUNNING:
            return []
        t0 = self.elapsed(now)
        state = self.metronome_on(now)
        out: list[tuple[float, bool]] = []
        t = t0
        while True:
            nxt = self.schedule.next_change(t)
            if nxt is None or nxt > t0 + horizon_s:
                return out
            on = self.schedule.metronome_at(nxt)
            if on != state:
                out.append((now + (nxt - t0), on))
                state = on
            t = nxt

    @property
    def overridden(self) -> bool:
        return self._override is not None

    def note(self, now: float, text: str) -> None:
        m, s = divmod(int(self.elapsed(now)), 60)
        self.events.append(f"{m:02d}:{s:02d} {text}")

    # -- recording the session -------------------------------------------------------------
    def tick(self, now: float, estimate: CadenceEstimate | None) -> bool:
        """Advance: metronome spans and 1 Hz samples. Returns whether the cue should sound
        (never while paused or stopped)."""
        if self.state is not State.RUNNING:
            return False
        cue = self.metronome_on(now)
        t = self.elapsed(now)
        if cue != self._cue:
            if self.spans and self.spans[-1][1] is None:
                self.spans[-1][1] = round(t, 3)
            self.spans.append([round(t, 3), None, cue])
            self._cue = cue
        while t >= self._next_sample:
            ok = estimate is not None and estimate.ok
            spm = round(float(estimate.cadence_spm), 2) if ok else None  # type: ignore[union-attr, arg-type]
            conf = round(float(estimate.confidence), 3) if estimate is not None else 0.0
            self.samples.append(Sample(round(self._next_sample, 3), spm, cue, conf))
            self._next_sample += SAMPLE_PERIOD_S
        return cue

    def totals(self) -> Totals:
        return totals(self.samples, self.target_spm, self.tolerance_spm)

    def band(self, cadence: float | None) -> str | None:
        return band(cadence, self.target_spm, self.tolerance_spm)
