"""Gait metrics from foot events (and, for landing measures, a keypoint track).

Formulas follow docs/clinical.md. Temporal metrics need only events, so manually marked events
work without keypoints. Every summary is mean ± SD with n; landing measures carry the
smallest detectable difference (SDD) reported by Dingenen 2018 / Murray 2018 so a change between
sessions can be judged against measurement noise.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

from app.analysis.events import EventType, Foot, FootEvent
from app.analysis.keypoints import JOINTS, KeypointTrack
from app.annotation.geometry import check_cm_per_px

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


@dataclass
class Stat:
    """Mean ± SD (sample SD, ddof=1) over n values; ``sdd`` is the measurement-noise range."""

    mean: float | None
    sd: float | None
    n: int
    sdd: tuple[float, float] | None = None

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
        return out


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

    def to_json(self) -> dict[str, object]:
        def sides(d: dict[str, Stat]) -> dict[str, object]:
            return {k: v.to_json() for k, v in d.items()}

        return {
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


def _ics(events: list[FootEvent]) -> list[FootEvent]:
    return sorted(
        (e for e in events if e.type is EventType.INITIAL_CONTACT), key=lambda e: e.time_s
    )


def temporal_metrics(events: list[FootEvent]) -> TemporalMetrics:
    """Cadence, step/stride/contact/flight time, duty factor and symmetry from events alone.

    Cadence is ``60 × steps / (t_last − t_first)`` over the initial contacts. Normally steps =
    N − 1 (clinical.md); where a contact is missing (a gap of about two steps, e.g. a hidden
    foot) the gap counts as ``round(gap / median step)`` steps instead of one, so a missed
    contact does not lower the cadence.
    """
    ics = _ics(events)
    tos = sorted((e for e in events if e.type is EventType.TOE_OFF), key=lambda e: e.time_s)
    warnings: list[str] = []
    counts = {f.value: sum(1 for e in ics if e.foot is f) for f in Foot}
    cadence, steps = None, 0
    step_t: dict[str, list[float]] = {f.value: [] for f in Foot}
    if len(ics) >= 2:
        gaps = np.diff([e.time_s for e in ics])
        alt = [a.foot is not b.foot for a, b in zip(ics[:-1], ics[1:], strict=True)]
        med = float(np.median(gaps[alt])) if any(alt) else float(np.median(gaps) / 2)
        steps = int(sum(max(1, round(g / med)) if med > 0 else 1 for g in gaps))
        span = ics[-1].time_s - ics[0].time_s
        cadence = 60.0 * steps / span if span > 0 else None
        for a, b, g in zip(ics[:-1], ics[1:], gaps, strict=True):
            if a.foot is not b.foot and g < 1.5 * med:
                step_t[b.foot.value].append(float(g))
    stride: dict[str, list[float]] = {f.value: [] for f in Foot}
    contact: dict[str, list[float]] = {f.value: [] for f in Foot}
    flight: dict[str, list[float]] = {f.value: [] for f in Foot}
    duty: dict[str, list[float]] = {f.value: [] for f in Foot}
    for f in Foot:
        own = [e for e in ics if e.foot is f]
        # Sorted times per foot, searched by bisection (the linear scans were quadratic).
        own_tos = [t for t in tos if t.foot is f]
        own_to_times = [t.time_s for t in own_tos]
        other_ics = [e for e in ics if e.foot is not f]
        other_times = [e.time_s for e in other_ics]
        for a, b in zip(own[:-1], own[1:], strict=True):
            stride[f.value].append(b.time_s - a.time_s)
        for k, ic in enumerate(own):
            nxt = own[k + 1].time_s if k + 1 < len(own) else math.inf
            j = bisect.bisect_right(own_to_times, ic.time_s)  # first toe-off after the contact
            to = own_tos[j] if j < len(own_tos) and own_to_times[j] < nxt else None
            if to is None:
                continue
            ct = to.time_s - ic.time_s
            contact[f.value].append(ct)
            j = bisect.bisect_right(other_times, ic.time_s)
            other = other_ics[j] if j < len(other_ics) else None
            if other is not None and other.time_s < nxt:
                flight[f.value].append(other.time_s - to.time_s)
            if nxt < math.inf:
                duty[f.value].append(ct / (nxt - ic.time_s))
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
    st = {k: Stat.of(v) for k, v in step_t.items()}
    ct = {k: Stat.of(v) for k, v in contact.items()}
    return TemporalMetrics(
        cadence,
        steps,
        counts,
        st,
        {k: Stat.of(v) for k, v in stride.items()},
        ct,
        {k: Stat.of(v) for k, v in flight.items()},
        {k: Stat.of(v) for k, v in duty.items()},
        {
            "step_time": symmetry_index(st["left"].mean, st["right"].mean),
            "contact_time": symmetry_index(ct["left"].mean, ct["right"].mean),
        },
        warnings,
    )


@dataclass
class LandingMetrics:
    """Per-step and per-side landing measures at initial contact (clinical.md).

    ``overstride`` is heel-to-hip horizontal distance, positive when the heel is ahead of the
    pelvis in the direction of travel, in cm (``overstride_unit == "cm"``, with a calibration)
    or in % of leg length (hip-ankle). Foot-strike angle is the heel→toe line against the
    horizontal (positive = toes up) minus a reference: the standing foot angle if given, else
    the same foot's angle at mid-stance (foot flat on the belt), which cancels keypoints sitting
    at different heights above the sole; ``reference`` says which was used.
    """

    overstride_unit: str
    per_step: list[dict[str, object]]
    overstride: dict[str, Stat]
    shank_angle_deg: dict[str, Stat]
    knee_flexion_deg: dict[str, Stat]
    foot_strike_angle_deg: dict[str, Stat]
    foot_strike_pattern: dict[str, str | None]
    reference: str
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        def sides(d: dict[str, Stat]) -> dict[str, object]:
            return {k: v.to_json() for k, v in d.items()}

        key = "overstride_cm" if self.overstride_unit == "cm" else "overstride_leg_pct"
        return {
            key: sides(self.overstride),
            "shank_angle_deg": sides(self.shank_angle_deg),
            "knee_flexion_deg": sides(self.knee_flexion_deg),
            "foot_strike_angle_deg": sides(self.foot_strike_angle_deg),
            "foot_strike_pattern": dict(self.foot_strike_pattern),
            "foot_angle_reference": self.reference,
            "per_step": self.per_step,
            "warnings": list(self.warnings),
        }


def strike_pattern(angle_deg: float) -> str:
    """Rearfoot above 7.4°, forefoot below −0.8°, midfoot between (Mo 2021/2023)."""
    if angle_deg > REARFOOT_ABOVE_DEG:
        return "rearfoot"
    if angle_deg < FOREFOOT_BELOW_DEG:
        return "forefoot"
    return "midfoot"


def _at(track: KeypointTrack, t: float) -> np.ndarray:
    """Keypoints (2, 5, 2) interpolated at time ``t`` (seconds from the first frame)."""
    times = track.times - track.times[0]
    i = int(np.clip(np.searchsorted(times, t), 1, track.n_frames - 1))
    w = (t - times[i - 1]) / (times[i] - times[i - 1])
    w = float(np.clip(w, 0.0, 1.0))
    return (1 - w) * track.xy[i - 1] + w * track.xy[i]


def _foot_angle(pts: np.ndarray, s: int, d: float) -> float:
    heel, toe = pts[s, HEEL], pts[s, TOE]
    # Image y points down: toe above heel (toes up, rearfoot landing) gives a positive angle.
    return math.degrees(math.atan2(heel[1] - toe[1], d * (toe[0] - heel[0])))


def landing_metrics(
    events: list[FootEvent],
    track: KeypointTrack,
    direction: str,
    *,
    cm_per_px: float | None = None,
    standing_foot_angle_deg: float | None = None,
) -> LandingMetrics:
    """Overstride, shank angle, knee flexion and foot-strike angle at each initial contact.

    The landing leg is taken as the keypoint label whose heel is further forward at contact (the
    landing foot is always the leading one), so pose-model left/right swaps do not matter; the
    event's ``foot`` gives the side.
    """
    d = 1.0 if direction == "right" else -1.0
    if cm_per_px is not None:  # a negative or infinite scale would give plausible-looking nonsense
        cm_per_px = check_cm_per_px(cm_per_px)
    with np.errstate(all="ignore"):
        legs = np.linalg.norm(track.xy[:, :, HIP] - track.xy[:, :, ANKLE], axis=-1)
    leg = float(np.nanpercentile(legs, 90)) if np.isfinite(legs).any() else float("nan")
    ics = _ics(events)
    tos = [e for e in events if e.type is EventType.TOE_OFF]
    rows: list[dict[str, object]] = []
    mid_angles: dict[str, list[float]] = {f.value: [] for f in Foot}
    for ic in ics:
        pts = _at(track, ic.time_s)
        fwd = d * (pts[:, HEEL, 0] - np.nanmean(pts[:, HIP, 0]))
        if not np.isfinite(fwd).any():
            continue
        s = int(np.nanargmax(fwd))
        hip = np.nanmean(pts[:, HIP], axis=0)
        knee, ankle = pts[s, KNEE], pts[s, ANKLE]
        dx = d * (pts[s, HEEL, 0] - hip[0])
        over = dx * cm_per_px if cm_per_px else 100.0 * dx / leg
        shank = math.degrees(math.atan2(d * (ankle[0] - knee[0]), ankle[1] - knee[1]))
        v1, v2 = pts[s, HIP] - knee, ankle - knee
        cosang = float(np.dot(v1, v2) / (np.linalg.norm(v1) * np.linalg.norm(v2)))
        knee_flex = 180.0 - math.degrees(math.acos(float(np.clip(cosang, -1.0, 1.0))))
        raw = _foot_angle(pts, s, d)
        to = next((t for t in sorted(tos, key=lambda e: e.time_s)
                   if t.foot is ic.foot and t.time_s > ic.time_s), None)  # fmt: skip
        if to is not None and to.time_s - ic.time_s < 1.5:
            mpts = _at(track, 0.5 * (ic.time_s + to.time_s))
            # At mid-stance the stance foot is the lower one.
            ms = int(np.nanargmax(mpts[:, [HEEL, TOE], 1].mean(axis=1)))
            mid = _foot_angle(mpts, ms, d)
            if np.isfinite(mid):
                mid_angles[ic.foot.value].append(mid)
        rows.append({"foot": ic.foot.value, "time_s": round(ic.time_s, 4), "frame": ic.frame,
                     "overstride": over, "shank_angle_deg": shank,
                     "knee_flexion_deg": knee_flex, "raw_foot_angle_deg": raw})  # fmt: skip
    warnings: list[str] = []
    if standing_foot_angle_deg is not None:
        ref = {f.value: standing_foot_angle_deg for f in Foot}
        reference = "standing foot angle"
    else:
        ref = {k: (float(np.median(v)) if v else 0.0) for k, v in mid_angles.items()}
        reference = "foot angle at mid-stance"
        if not all(mid_angles.values()):
            reference = "mid-stance where available, else none (raw heel-toe angle)"
            warnings.append(
                "No toe-offs for one side: its foot-strike angle is the raw heel-toe angle."
            )
    for r in rows:
        fsa = float(r["raw_foot_angle_deg"]) - ref[str(r["foot"])]  # type: ignore[arg-type]
        r["foot_strike_angle_deg"] = fsa
        r["foot_strike_pattern"] = strike_pattern(fsa) if np.isfinite(fsa) else None
        for k, v in list(r.items()):
            if isinstance(v, float):
                r[k] = round(v, 3) if np.isfinite(v) else None

    def per_side(key: str, sdd: tuple[float, float] | None = None) -> dict[str, Stat]:
        return {f.value: Stat.of([r[key] for r in rows if r["foot"] == f.value], sdd) for f in Foot}  # type: ignore[misc]

    patterns: dict[str, str | None] = {}
    for f in Foot:
        pats = [
            r["foot_strike_pattern"]
            for r in rows
            if r["foot"] == f.value and r["foot_strike_pattern"]
        ]
        patterns[f.value] = max(set(pats), key=pats.count) if pats else None  # type: ignore[arg-type]
    return LandingMetrics(
        "cm" if cm_per_px else "leg_pct",
        rows,
        per_side("overstride"),
        per_side("shank_angle_deg", SDD_DEG["shank_angle_deg"]),
        per_side("knee_flexion_deg", SDD_DEG["knee_flexion_deg"]),
        per_side("foot_strike_angle_deg", SDD_DEG["foot_strike_angle_deg"]),
        patterns,
        reference,
        warnings,
    )


def metrics_json(temporal: TemporalMetrics, landing: LandingMetrics | None) -> dict[str, object]:
    """The flat ``metrics`` object of the analyze JSON (temporal first, landing merged in)."""
    out = temporal.to_json()
    warnings = list(out.pop("warnings"))  # type: ignore[arg-type]
    if landing is not None:
        lj = landing.to_json()
        warnings += list(lj.pop("warnings"))  # type: ignore[arg-type]
        out.update(lj)
    out["warnings"] = warnings
    return out
