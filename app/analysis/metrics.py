"""Gait metrics from foot events (and, for landing measures, a keypoint track).

Formulas follow docs/clinical.md. Temporal metrics need only events, so manually marked events
work without keypoints. Every summary is mean ± SD with n; landing measures carry the
smallest detectable difference (SDD) reported by Dingenen 2018 / Murray 2018 so a change between
sessions can be judged against measurement noise.

Uncertainty from the frame rate alone (``Stat.fps_u``, one standard uncertainty): an event
marked on frame k happened somewhere within that frame's interval, so its time error is
Δ·saw(φ), Δ = 1/fps, φ its unknown sub-frame phase and saw(x) = x − round(x), uniform on ±Δ/2:
a standard uncertainty of Δ/√12 (GUM, rectangular distribution). Every figure here is a linear
combination Σ c_e t_e of event times (a duration: +1/−1; a mean of n durations: ±1/n per
duration, an event shared by two durations counted once with its summed coefficient; a landing
measure m read at a contact: its change over one frame there, m', since a timing error of Δ·saw
shifts the reading by m'·saw). The phases are *not* independent in general: the events of one
foot and type recur once a stride, so their phases advance by the stride's fractional number of
frames; when the stride is close to a whole number of frames they stay locked and the errors do
not average out (a runner at 170 steps/min filmed at 30 fps: 21.2 frames a stride). So the
uncertainty is computed exactly for that model: for each series (left/right × contact/toe-off)
the phase of its k-th event is φ_s + k·(stride in frames), φ_s unknown and uniform, independent
between series; u² = Σ_series mean over φ_s of (Σ_e c_e·saw(φ_s + k_e·stride))² · Δ² (the sum's
mean is zero). With drifting phases this is the familiar Δ/√6/√n for a mean of n step times;
with locked phases it stays Δ/√6. A left/right difference is the same kind of combination
(mean_L − mean_R; for step time the two share every contact), so its uncertainty u_LR is
computed the same way, and a difference smaller than :data:`RESOLVE_K` · u_LR (about 95 %
coverage) is one the frame rate cannot resolve; those are listed in ``unresolved`` (and marked
in the program) so nobody reads an asymmetry the measurement cannot support.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

from app.analysis.events import EventType, Foot, FootEvent
from app.analysis.keypoints import JOINTS

HIP, KNEE, ANKLE, HEEL, TOE = (JOINTS.index(j) for j in ("hip", "knee", "ankle", "heel", "toe"))

MIN_CONTACTS_PER_SIDE = 7  # Dingenen 2018: a stable mean at about 6.3 steps
REARFOOT_ABOVE_DEG = 7.4  # Mo 2021/2023
FOREFOOT_BELOW_DEG = -0.8
#: Smallest detectable differences / typical errors (degrees), from clinical.md [V].
SDD_DEG = {
    "shank_angle_deg": (2.2, 4.8),  # tibia inclination, Dingenen 2018
    "knee_flexion_deg": (2.3, 3.8),  # Dingenen 2018
    "foot_strike_angle_deg": (
        1.3,
        2.5,
    ),  # foot inclination SDD 1.3-2.3 (Dingenen), error 2.5 (Murray 2018)
}

#: Shorter intervals between two contacts are one instant marked twice, never a step.
MIN_GAP_S = 1e-3


@dataclass
class Stat:
    """Mean ± SD (sample SD, ddof=1) over n values; ``sdd`` is the measurement-noise range."""

    mean: float | None
    sd: float | None
    n: int
    sdd: tuple[float, float] | None = None
    #: Standard uncertainty of the mean from the frame rate alone (same unit; see module doc).
    fps_u: float | None = None

    @classmethod
    def of(cls, values: list[float], sdd: tuple[float, float] | None = None) -> Stat:
        # Plain Python on these short lists (a few dozen steps): numpy's per-call overhead made
        # the 100-visit history spend most of its cold opening here.
        v = [float(x) for x in values if x is not None and math.isfinite(x)]
        n = len(v)
        if n == 0:
            return cls(None, None, 0, sdd)
        mean = math.fsum(v) / n
        sd = math.sqrt(math.fsum((x - mean) ** 2 for x in v) / (n - 1)) if n > 1 else None
        return cls(mean, sd, n, sdd)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "mean": None if self.mean is None else round(self.mean, 4),
            "sd": None if self.sd is None else round(self.sd, 4),
            "n": self.n,
        }
        if self.sdd is not None:
            out["sdd"] = list(self.sdd)
        if self.fps_u is not None:
            out["fps_u"] = round(self.fps_u, 5)
        return out


#: Coverage factor for "a left/right difference the frame rate cannot resolve" (~95 %).
RESOLVE_K = 2.0


def frame_rate_of(events: list[FootEvent]) -> float | None:
    """Capture frame rate implied by the events' frames and times (None if it cannot be told).

    Every event carries its frame index and its capture time, so the rate is known even for
    marks made by hand on a slow-motion file.
    """
    ev = sorted(events, key=lambda e: e.frame)
    if len(ev) < 2 or ev[-1].frame == ev[0].frame or not ev[-1].time_s > ev[0].time_s:
        return None
    fps = (ev[-1].frame - ev[0].frame) / (ev[-1].time_s - ev[0].time_s)
    return fps if math.isfinite(fps) and fps > 0 else None


#: Phase grid for the frame-rate uncertainty (exact enough: the error is a sawtooth).
_PHASES = (np.arange(256) + 0.5) / 256
#: Error of a series' total phase walk in frames, and its triangular weights.
_WALK = np.linspace(-1.0, 1.0, 21)
_WALK_W = 1.0 - np.abs(_WALK) + 1e-9


def series_positions(events: list[FootEvent]) -> dict[int, tuple[str, float, float]]:
    """id(event) -> (series, stride index k, mean stride in frames) for the frame-rate
    uncertainty.

    A series is one foot's contacts or toe-offs; its k-th stride (gaps of about two strides
    count two) nominally sits k mean strides after the first, which carries the sub-frame phase
    drift from stride to stride that whole-frame marks do not show.
    """
    out: dict[int, tuple[str, float, float]] = {}
    fps = frame_rate_of(events)
    for foot in Foot:
        for kind in EventType:
            ser = sorted(
                (e for e in events if e.foot is foot and e.type is kind), key=lambda e: e.time_s
            )
            key = f"{foot.value}-{kind.value}"
            if len(ser) < 2 or not fps:
                out.update({id(e): (key, 0.0, 0.0) for e in ser})
                continue
            gaps = np.diff([e.time_s for e in ser])
            med = float(np.median(gaps))
            if not (np.isfinite(med) and med >= MIN_GAP_S):  # repeated times: no rhythm
                out.update({id(e): (key, 0.0, 0.0) for e in ser})
                continue
            ks = np.concatenate([[0], np.cumsum([max(1, round(g / med)) for g in gaps])])
            stride = (ser[-1].time_s - ser[0].time_s) * fps / ks[-1]
            out.update({id(e): (key, float(k), stride) for e, k in zip(ser, ks, strict=True)})
    return out


def combination_u(coef: dict[int, float], pos: dict[int, tuple[str, float, float]]) -> float:
    """Standard uncertainty of Σ c_e · saw(φ_series(e) + k_e · stride): see the module docstring.

    ``coef`` maps id(event) to its coefficient (in the figure's unit per frame of timing error),
    ``pos`` is :func:`series_positions`. The series' total phase walk (k_last · stride) is itself
    known only to ±1 frame (its end points are whole frames), so the variance is averaged over
    that too (triangular weights: the difference of two rectangular errors). Result in the
    figure's unit.
    """
    by_series: dict[str, list[tuple[float, float, float]]] = {}
    for e, c in coef.items():
        if c == 0 or e not in pos:
            continue
        key, k, stride = pos[e]
        by_series.setdefault(key, []).append((c, k, stride))
    total = 0.0
    for items in by_series.values():
        k_last = max(k for _, k, _ in items) or 1.0
        f = np.zeros((len(_WALK), len(_PHASES)))
        for c, k, stride in items:
            ph = _PHASES[None, :] + k * (stride + _WALK[:, None] / k_last)
            f += c * (ph - np.round(ph))
        total += float(np.sum(_WALK_W[:, None] * f * f) / (np.sum(_WALK_W) * len(_PHASES)))
    return float(math.sqrt(total))


def _mean_coef(pairs: list[tuple[int, int]], per_frame: float) -> dict[int, float]:
    """Coefficients of the mean of the durations ``t[b] - t[a]`` over ``pairs`` (event ids)."""
    coef: dict[int, float] = {}
    for a, b in pairs:
        coef[a] = coef.get(a, 0.0) - per_frame / len(pairs)
        coef[b] = coef.get(b, 0.0) + per_frame / len(pairs)
    return coef


def _minus(a: dict[int, float], b: dict[int, float]) -> dict[int, float]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0.0) - v
    return out


def unresolved(stats: dict[str, Stat], u_lr: float | None) -> bool:
    """True when the left/right difference of the means is within :data:`RESOLVE_K` times its
    frame-rate uncertainty ``u_lr`` (the frame rate cannot tell the two sides apart)."""
    left, right = stats.get("left"), stats.get("right")
    if left is None or right is None or left.mean is None or right.mean is None or u_lr is None:
        return False
    return abs(left.mean - right.mean) <= RESOLVE_K * u_lr


def symmetry_index(left: float | None, right: float | None) -> float | None:
    """Robinson symmetry index in %: ``100 (L - R) / (0.5 (L + R))``; 0 is perfect symmetry,
    positive means the left value is larger."""
    if left is None or right is None or (left + right) == 0:
        return None
    return 100.0 * (left - right) / (0.5 * (left + right))


@dataclass
class TemporalMetrics:
    """Cadence and per-side timing. ``step_time_s[foot]`` is the time from the other foot's
    contact to this foot's contact; ``flight_time_s`` is from this foot's toe-off to the other
    foot's next contact (negative = double support, i.e. walking)."""

    cadence_spm: float | None
    steps: int
    contacts: dict[str, int]
    step_time_s: dict[str, Stat]
    stride_time_s: dict[str, Stat]
    contact_time_s: dict[str, Stat]
    flight_time_s: dict[str, Stat]
    duty_factor: dict[str, Stat]
    symmetry_pct: dict[str, float | None]
    warnings: list[str] = field(default_factory=list)
    #: Capture frame rate the uncertainties were computed for (None: unknown).
    fps: float | None = None
    #: Frame-rate uncertainty of the cadence (steps/min).
    cadence_fps_u: float | None = None
    #: Measures whose left/right difference the frame rate cannot resolve.
    unresolved: list[str] = field(default_factory=list)
    # Overstride and its cm form belong to the landing measures only (LandingMetrics).

    def to_json(self) -> dict[str, object]:
        def sides(d: dict[str, Stat]) -> dict[str, object]:
            return {k: v.to_json() for k, v in d.items()}

        return {
            "fps": None if self.fps is None else round(self.fps, 4),
            "cadence_fps_u": None if self.cadence_fps_u is None else round(self.cadence_fps_u, 3),
            "unresolved_left_right": list(self.unresolved),
            "cadence_spm": None if self.cadence_spm is None else round(self.cadence_spm, 2),
            "steps": self.steps,
            "contacts": dict(self.contacts),
            "step_time_s": sides(self.step_time_s),
            "stride_time_s": sides(self.stride_time_s),
            "contact_time_s": sides(self.contact_time_s),
            "flight_time_s": sides(self.flight_time_s),
            "duty_factor": sides(self.duty_factor),
            "symmetry_pct": {
                k: (None if v is None else round(v, 2)) for k, v in self.symmetry_pct.items()
            },
            "warnings": list(self.warnings),
        }


def fitted_step_time(ks: list[int], times: list[float]) -> tuple[float, float, float]:
    """(step time, mean step number, Sxx): the least-squares slope of the contacts' ``times``
    on their step numbers ``ks`` (the cadence is 60 / step time). Exact sums (``math.fsum``)
    in one order, so every caller gets the same figure to the last bit."""
    k_mean = math.fsum(ks) / len(ks)
    sxx = math.fsum((k - k_mean) ** 2 for k in ks)
    slope = math.fsum((k - k_mean) * t for k, t in zip(ks, times, strict=True)) / sxx
    return slope, k_mean, sxx


def _ics(events: list[FootEvent]) -> list[FootEvent]:
    return sorted(
        (e for e in events if e.type is EventType.INITIAL_CONTACT), key=lambda e: e.time_s
    )


def temporal_metrics(
    events: list[FootEvent], fps: float | None = None, *, uncertainty: bool = True
) -> TemporalMetrics:
    """Cadence, step/stride/contact/flight time, duty factor and symmetry from events alone.

    Cadence is ``60 / T``, ``T`` the step time fitted by least squares to the initial contacts'
    times against their step numbers (0, 1, 2, …; where a contact is missing, a gap of about two
    steps, e.g. a hidden foot, counts as ``round(gap / median step)`` steps, so a missed contact
    does not lower the cadence). For evenly spaced contacts this is clinical.md's
    ``60 × (N − 1) / (t_last − t_first)``; it differs in giving every contact its weight instead
    of resting on the first and the last alone, whose one- or two-frame errors (an automatic
    contact at a clip's end, a hurried mark) moved the cadence of an 8 s clip by over 1 spm.
    ``steps`` is the number of steps from the first contact to the last. Every mean carries its frame-rate uncertainty
    (``fps`` given, else implied by the events' frames and times; see the module docstring).

    ``uncertainty=False`` leaves out the per-mean frame-rate uncertainties (every ``fps_u``
    None, ``unresolved`` empty) and the left/right resolution check: they are most of the cost
    (a 21 × 256 phase grid per event and measure) and a caller that shows only means and SDs
    (the History of many visits) does not need them. Every other figure is the same.
    """
    fps = fps or frame_rate_of(events)
    ics = _ics(events)
    tos = sorted((e for e in events if e.type is EventType.TOE_OFF), key=lambda e: e.time_s)
    warnings: list[str] = []
    counts = {f.value: sum(1 for e in ics if e.foot is f) for f in Foot}
    cadence, steps = None, 0
    step_t: dict[str, list[float]] = {f.value: [] for f in Foot}
    # Event ids of each duration, for the frame-rate uncertainty of the means.
    pairs: dict[str, dict[str, list[tuple[int, int]]]] = {
        k: {f.value: [] for f in Foot} for k in ("step", "stride", "contact", "flight")
    }
    cadence_u = None
    cadence_coef: dict[int, float] = {}
    if len(ics) >= 2:
        gap_arr = np.diff([e.time_s for e in ics])
        alt = [a.foot is not b.foot for a, b in zip(ics[:-1], ics[1:], strict=True)]
        med = float(np.median(gap_arr[alt])) if any(alt) else float(np.median(gap_arr) / 2)
        # Plain floats from here (the same values): numpy scalars cost a call each in these loops.
        gaps = gap_arr.tolist()
        # Gaps under a millisecond are one instant marked twice, not a step: dividing by them
        # overflows (found by the property test with denormal times).
        steps = int(sum(max(1, round(g / med)) if med >= MIN_GAP_S else 1 for g in gaps))
        span = ics[-1].time_s - ics[0].time_s
        # Step numbers of the contacts and the least-squares step time (the slope of time on
        # step number; with two contacts, span / steps).
        ks = [0]
        for g in gaps:
            ks.append(ks[-1] + (max(1, round(g / med)) if med >= MIN_GAP_S else 1))
        slope, k_mean, sxx = fitted_step_time(ks, [e.time_s for e in ics])
        cadence = 60.0 / slope if span >= MIN_GAP_S and slope >= MIN_GAP_S else None
        if cadence is not None and fps:
            # slope = Σ c_e·t_e with c_e = (k_e − k̄)/Sxx, and d cadence / d slope = −cadence/slope.
            # Independent whole-frame errors: Δ/√12 at each contact. The exact phase model (module
            # docstring) replaces this below where the uncertainties are wanted.
            cadence_u = cadence / slope * (1.0 / fps) / math.sqrt(12.0 * sxx)
            cadence_coef = {
                id(e): (k - k_mean) / sxx * (1.0 / fps) * cadence / slope
                for k, e in zip(ks, ics, strict=True)
            }
        for a, b, g in zip(ics[:-1], ics[1:], gaps, strict=True):
            if a.foot is not b.foot and g < 1.5 * med:
                side = b.foot.value
                step_t[side].append(float(g))
                pairs["step"][side].append((id(a), id(b)))
    stride: dict[str, list[float]] = {f.value: [] for f in Foot}
    contact: dict[str, list[float]] = {f.value: [] for f in Foot}
    flight: dict[str, list[float]] = {f.value: [] for f in Foot}
    duty: dict[str, list[float]] = {f.value: [] for f in Foot}
    for f in Foot:
        fv = f.value  # once per foot: an enum's .value is a slow property in this hot loop
        own = [e for e in ics if e.foot is f]
        # Sorted times per foot, searched by bisection (the linear scans were quadratic).
        own_tos = [t for t in tos if t.foot is f]
        own_to_times = [t.time_s for t in own_tos]
        other_ics = [e for e in ics if e.foot is not f]
        other_times = [e.time_s for e in other_ics]
        for a, b in zip(own[:-1], own[1:], strict=True):
            stride[fv].append(b.time_s - a.time_s)
            pairs["stride"][fv].append((id(a), id(b)))
        for k, ic in enumerate(own):
            nxt = own[k + 1].time_s if k + 1 < len(own) else math.inf
            j = bisect.bisect_right(own_to_times, ic.time_s)  # first toe-off after the contact
            to = own_tos[j] if j < len(own_tos) and own_to_times[j] < nxt else None
            if to is None:
                continue
            ct = to.time_s - ic.time_s
            contact[fv].append(ct)
            pairs["contact"][fv].append((id(ic), id(to)))
            j = bisect.bisect_right(other_times, ic.time_s)
            other = other_ics[j] if j < len(other_ics) else None
            if other is not None and other.time_s < nxt:
                flight[fv].append(other.time_s - to.time_s)
                pairs["flight"][fv].append((id(to), id(other)))
            if nxt < math.inf:
                duty[fv].append(ct / (nxt - ic.time_s))
    for f in Foot:
        if counts[f.value] < MIN_CONTACTS_PER_SIDE:
            # The count is the problem, not necessarily the clip: a 12 s clip was told to be
            # longer when contacts were simply not marked yet.
            need_s = (
                f" (at this cadence about {math.ceil(2 * MIN_CONTACTS_PER_SIDE * 60 / cadence)} s)"
                if cadence
                else ""
            )
            warnings.append(
                f"Only {counts[f.value]} {f.value} foot contacts: fewer than "
                f"{MIN_CONTACTS_PER_SIDE} contacts per side (at least {MIN_CONTACTS_PER_SIDE} per "
                "side are needed for a stable mean, Dingenen 2018). Mark the remaining contacts; "
                "if the clip holds no more, film "
                f"a longer run{need_s}."
            )
    if cadence is not None and not 140 <= cadence <= 200:
        warnings.append(
            f"Cadence {cadence:.0f} steps/min is outside the usual running range (140-200). "
            "If this is running, check the capture frame rate (slow-motion files)."
        )
    u_fps = fps if uncertainty else None  # the rate the uncertainties are computed for
    pos = series_positions(events) if u_fps else {}
    per_frame = 1.0 / fps if fps else 0.0  # seconds of figure per frame of timing error
    coefs = {
        kind: {k: _mean_coef(v, per_frame) for k, v in by_side.items()}
        for kind, by_side in pairs.items()
    } if u_fps else {}  # fmt: skip

    def stats(kind: str, values: dict[str, list[float]]) -> dict[str, Stat]:
        out = {k: Stat.of(v) for k, v in values.items()}
        for k, st_ in out.items():
            st_.fps_u = combination_u(coefs[kind][k], pos) if (st_.n and u_fps) else None
        return out

    if u_fps and cadence_coef:
        # Locked phases do not average out (module docstring): the cadence's exact uncertainty.
        cadence_u = combination_u(cadence_coef, pos)
    st = stats("step", step_t)
    ct = stats("contact", contact)
    strides = stats("stride", stride)
    duty_st = {k: Stat.of(v) for k, v in duty.items()}
    for k, d_ in duty_st.items():
        # Duty factor = contact / stride: first order, the contact time's uncertainty / stride.
        if d_.n and ct[k].fps_u is not None and strides[k].mean:
            d_.fps_u = ct[k].fps_u / strides[k].mean

    def lr_u(kind: str) -> float | None:
        if not u_fps:
            return None
        return combination_u(_minus(coefs[kind]["left"], coefs[kind]["right"]), pos)

    named = {"step time": ("step", st), "contact time": ("contact", ct)}
    flagged = [name for name, (kind, d_) in named.items() if unresolved(d_, lr_u(kind))]
    return TemporalMetrics(
        cadence,
        steps,
        counts,
        st,
        strides,
        ct,
        stats("flight", flight),
        duty_st,
        {
            "step_time": symmetry_index(st["left"].mean, st["right"].mean),
            "contact_time": symmetry_index(ct["left"].mean, ct["right"].mean),
        },
        warnings,
        fps,
        cadence_u,
        flagged,
    )


def metrics_json(temporal: TemporalMetrics, landing: LandingMetrics | None) -> dict[str, object]:
    """The flat ``metrics`` object of the analyze JSON (temporal first, landing merged in)."""
    out = temporal.to_json()
    warnings = list(out.pop("warnings"))  # type: ignore[arg-type]
    if landing is not None:
        lj = landing.to_json()
        warnings += list(lj.pop("warnings"))  # type: ignore[arg-type]
        # Both list the measures whose left/right difference the frame rate cannot resolve:
        # timing ones and landing ones, so the lists are joined (an update kept landing's only).
        both = list(out.get("unresolved_left_right") or [])  # type: ignore[call-overload]
        both += [n for n in lj.pop("unresolved_left_right", None) or [] if n not in both]  # type: ignore[attr-defined]
        out.update(lj)
        out["unresolved_left_right"] = both
    out["warnings"] = warnings
    return out


# The landing measures live in app.analysis.landing (read at each contact from a keypoint track);
# imported last, because that module builds on the definitions above.
from app.analysis.landing import (  # noqa: E402
    LandingMetrics,
    landing_metrics,
    strike_pattern,
)

__all__ = [
    "ANKLE", "HEEL", "HIP", "KNEE", "TOE", "MIN_CONTACTS_PER_SIDE", "REARFOOT_ABOVE_DEG",
    "FOREFOOT_BELOW_DEG", "SDD_DEG", "MIN_GAP_S", "RESOLVE_K", "Stat", "TemporalMetrics",
    "LandingMetrics", "frame_rate_of", "series_positions", "combination_u", "unresolved",
    "symmetry_index", "temporal_metrics", "landing_metrics", "strike_pattern", "metrics_json",
]  # fmt: skip
