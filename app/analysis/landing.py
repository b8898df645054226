"""Landing measures at initial contact from a side-view keypoint track (clinical.md).

Overstride, shank angle, knee flexion and foot-strike angle, each read at every contact and
summarised per side as mean ± SD with n, with the smallest detectable difference of
:data:`app.analysis.metrics.SDD_DEG` and the frame-rate uncertainty of the reading (its change
over one frame at the contact, combined as in :mod:`app.analysis.metrics`, whose module notes
give the model). Temporal measures, which need no keypoints, are in :mod:`app.analysis.metrics`.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from warnings import catch_warnings, simplefilter

import numpy as np

from app.analysis.events import EventType, Foot, FootEvent
from app.analysis.keypoints import KeypointTrack
from app.analysis.metrics import (
    ANKLE,
    FOREFOOT_BELOW_DEG,
    HEEL,
    HIP,
    KNEE,
    REARFOOT_ABOVE_DEG,
    SDD_DEG,
    TOE,
    Stat,
    _ics,
    _minus,
    combination_u,
    series_positions,
    unresolved,
)
from app.annotation.geometry import check_cm_per_px


@dataclass
class LandingMetrics:
    """Per-step and per-side landing measures at initial contact (clinical.md).

    ``overstride`` is heel-to-hip horizontal distance, positive when the heel is ahead of the
    pelvis in the direction of travel, always in % of leg length (hip-ankle in the image), so
    every visit is comparable with every other; ``overstride_cm`` holds the same in cm when the
    recording is calibrated (None otherwise). Per step: ``overstride`` (% leg) and, when
    calibrated, ``overstride_cm``. Foot-strike angle is the heel→toe line against the
    horizontal (positive = toes up) minus a reference: the standing foot angle if given, else
    the same foot's angle at mid-stance (foot flat on the belt), which cancels keypoints sitting
    at different heights above the sole; ``reference`` says which was used.
    """

    per_step: list[dict[str, object]]
    overstride: dict[str, Stat]
    shank_angle_deg: dict[str, Stat]
    knee_flexion_deg: dict[str, Stat]
    foot_strike_angle_deg: dict[str, Stat]
    foot_strike_pattern: dict[str, str | None]
    reference: str
    warnings: list[str] = field(default_factory=list)
    #: Capture frame rate of the track the uncertainties were computed for.
    fps: float | None = None
    #: Measures whose left/right difference the frame rate cannot resolve.
    unresolved: list[str] = field(default_factory=list)
    #: The overstride in cm per side when the recording has a calibration, else None.
    overstride_cm: dict[str, Stat] | None = None

    @property
    def calibrated(self) -> bool:
        """True when a cm figure exists alongside the % of leg length."""
        return self.overstride_cm is not None

    def to_json(self) -> dict[str, object]:
        def sides(d: dict[str, Stat]) -> dict[str, object]:
            return {k: v.to_json() for k, v in d.items()}

        extra = {"overstride_cm": sides(self.overstride_cm)} if self.overstride_cm else {}
        return {
            "overstride_leg_pct": sides(self.overstride),
            **extra,
            "shank_angle_deg": sides(self.shank_angle_deg),
            "knee_flexion_deg": sides(self.knee_flexion_deg),
            "foot_strike_angle_deg": sides(self.foot_strike_angle_deg),
            "foot_strike_pattern": dict(self.foot_strike_pattern),
            "foot_angle_reference": self.reference,
            "unresolved_left_right": list(self.unresolved),
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
    return _at_many(track, np.array([t], float))[0]


def _at_many(track: KeypointTrack, ts: np.ndarray) -> np.ndarray:
    """Keypoints (len(ts), 2, 5, 2) interpolated at the times ``ts`` (seconds from the first
    frame): the same arithmetic for every time as one look-up at a time, in one pass."""
    times = track.times - track.times[0]
    i = np.clip(np.searchsorted(times, ts), 1, track.n_frames - 1)
    with np.errstate(all="ignore"):
        w = (ts - times[i - 1]) / (times[i] - times[i - 1])
    w = np.clip(w, 0.0, 1.0)[:, None, None, None]
    return (1 - w) * track.xy[i - 1] + w * track.xy[i]


def _foot_angle(pts: np.ndarray, s: int, d: float) -> float:
    heel, toe = pts[s, HEEL], pts[s, TOE]
    # Image y points down: toe above heel (toes up, rearfoot landing) gives a positive angle.
    return math.degrees(math.atan2(heel[1] - toe[1], d * (toe[0] - heel[0])))


def _clip_unit(x: float) -> float:
    """``float(np.clip(x, -1, 1))`` for a float (NaN stays NaN), without numpy's call cost."""
    return x if math.isnan(x) else -1.0 if x < -1.0 else 1.0 if x > 1.0 else x


def _hips(pts: np.ndarray) -> np.ndarray:
    """Mid-hip (n, 2) of keypoints (n, 2, 5, 2): the mean of the labels' hips that exist."""
    with catch_warnings():
        simplefilter("ignore", RuntimeWarning)  # both hips missing: NaN
        return np.nanmean(pts[:, :, HIP], axis=1)


def _leading(pts: np.ndarray, hips: np.ndarray, d: float) -> np.ndarray:
    """The label (0/1) whose heel is further forward of the mid-hip at each instant, -1 where
    neither heel can be told (the landing foot is always the leading one)."""
    fwd = d * (pts[:, :, HEEL, 0] - hips[:, None, 0])
    found = np.isfinite(fwd).any(axis=1)
    s = np.argmax(np.where(np.isnan(fwd), -np.inf, fwd), axis=1)  # as np.nanargmax
    return np.where(found, s, -1)


def _readings(pts: np.ndarray, s: np.ndarray, d: float, leg: float) -> np.ndarray:
    """[overstride % leg, shank, knee flexion, raw foot angle] (n, 4) of label ``s[k]`` in
    keypoints ``pts[k]``. Differences and ratios are taken for all instants at once (the same
    IEEE operations as one at a time); the angles use :mod:`math` and the dot products numpy's
    own, per instant, so every figure is bit for bit the per-contact one."""
    n = len(s)
    out = np.empty((n, 4))
    if n == 0:
        return out
    rows = np.arange(n)
    leg_pts = pts[rows, s]  # (n, 5, 2): the landing label's joints
    hips = _hips(pts)
    knee, ankle, heel, toe = (leg_pts[:, j] for j in (KNEE, ANKLE, HEEL, TOE))
    out[:, 0] = 100.0 * (d * (heel[:, 0] - hips[:, 0])) / leg  # always % of leg length
    v1, v2 = leg_pts[:, HIP] - knee, ankle - knee
    shank_x = (d * (ankle[:, 0] - knee[:, 0])).tolist()
    shank_y = (ankle[:, 1] - knee[:, 1]).tolist()
    foot_y = (heel[:, 1] - toe[:, 1]).tolist()
    foot_x = (d * (toe[:, 0] - heel[:, 0])).tolist()
    with np.errstate(all="ignore"):  # a zero-length thigh or shank: NaN
        for k in range(n):
            a, b = v1[k], v2[k]
            cosang = float(np.dot(a, b) / (math.sqrt(a.dot(a)) * math.sqrt(b.dot(b))))
            out[k, 1] = math.degrees(math.atan2(shank_x[k], shank_y[k]))
            out[k, 2] = 180.0 - math.degrees(math.acos(_clip_unit(cosang)))
            out[k, 3] = math.degrees(math.atan2(foot_y[k], foot_x[k]))
    return out


def landing_metrics(
    events: list[FootEvent],
    track: KeypointTrack,
    direction: str,
    *,
    cm_per_px: float | None = None,
    standing_foot_angle_deg: float | None = None,
    uncertainty: bool = True,
) -> LandingMetrics:
    """Overstride, shank angle, knee flexion and foot-strike angle at each initial contact.

    The landing leg is taken as the keypoint label whose heel is further forward at contact (the
    landing foot is always the leading one), so pose-model left/right swaps do not matter; the
    event's ``foot`` gives the side.

    ``uncertainty=False`` (the History of many visits, which shows means and SDs only) leaves
    out the frame-rate uncertainties (every ``fps_u`` None, ``unresolved`` empty): they need two
    more keypoint look-ups per contact and the phase grids. Every other figure is the same.

    The keypoints are interpolated at all contacts (and mid-stances) at once: a few numpy calls
    per measure instead of some forty per contact (a History of 100 pose-cached visits spent
    most of its opening in them).
    """
    d = 1.0 if direction == "right" else -1.0
    if cm_per_px is not None:  # a negative or infinite scale would give plausible-looking nonsense
        cm_per_px = check_cm_per_px(cm_per_px)
    with np.errstate(all="ignore"):
        legs = np.linalg.norm(track.xy[:, :, HIP] - track.xy[:, :, ANKLE], axis=-1)
    leg = float(np.nanpercentile(legs, 90)) if np.isfinite(legs).any() else float("nan")
    ics = _ics(events)
    tos = [e for e in events if e.type is EventType.TOE_OFF]
    # Each foot's toe-offs in time order, for "the first toe-off of this foot after the contact".
    tos_by_foot: dict[Foot, list[FootEvent]] = {f: [] for f in Foot}
    for t in sorted(tos, key=lambda e: e.time_s):
        tos_by_foot[t.foot].append(t)
    to_times = {f: [t.time_s for t in v] for f, v in tos_by_foot.items()}
    rows: list[dict[str, object]] = []
    mid_angles: dict[str, list[float]] = {f.value: [] for f in Foot}
    fps = track.fps if np.isfinite(track.fps) else None
    half = 0.5 / fps if fps else 0.0
    u_fps = fps if uncertainty else None  # the rate the uncertainties are computed for

    keys = ("overstride", "shank_angle_deg", "knee_flexion_deg", "foot_strike_angle_deg")
    ids: list[int] = []
    slopes: list[np.ndarray] = []
    t_ic = np.array([ic.time_s for ic in ics], float)
    pts = _at_many(track, t_ic)
    lead = _leading(pts, _hips(pts), d)
    kept = np.flatnonzero(lead >= 0)  # contacts where neither heel is known are left out
    s_kept = lead[kept]
    vals = _readings(pts[kept], s_kept, d, leg)
    slope_all = np.full((len(kept), 4), np.nan)  # change of each measure over one frame
    if u_fps and len(kept):
        lo_ = _readings(_at_many(track, t_ic[kept] - half), s_kept, d, leg)
        hi_ = _readings(_at_many(track, t_ic[kept] + half), s_kept, d, leg)
        slope_all = hi_ - lo_
    # Mid-stance of each kept contact that has its toe-off within 1.5 s: its foot angle there.
    stance: list[int] = []
    t_mid: list[float] = []
    for j, k in enumerate(kept.tolist()):
        ic = ics[k]
        own = to_times[ic.foot]
        m = bisect.bisect_right(own, ic.time_s)
        to = tos_by_foot[ic.foot][m] if m < len(own) else None
        if to is not None and to.time_s - ic.time_s < 1.5:
            stance.append(j)
            t_mid.append(0.5 * (ic.time_s + to.time_s))
    if stance:
        mpts = _at_many(track, np.array(t_mid, float))
        # At mid-stance the stance foot is the lower one.
        ms = np.nanargmax(mpts[:, :, [HEEL, TOE], 1].mean(axis=2), axis=1)
        mids = _readings(mpts, ms, d, leg)[:, 3]
        for j, mid in zip(stance, mids.tolist(), strict=True):
            if np.isfinite(mid):
                mid_angles[ics[kept[j]].foot.value].append(mid)
    for j, k in enumerate(kept.tolist()):
        ic = ics[k]
        over, shank, knee_flex, raw = (float(v) for v in vals[j])
        slope = slope_all[j]
        ids.append(id(ic))
        rows.append({"foot": ic.foot.value, "time_s": round(ic.time_s, 4), "frame": ic.frame,
                     "overstride": over, "shank_angle_deg": shank,
                     "knee_flexion_deg": knee_flex, "raw_foot_angle_deg": raw,
                     **{f"{k}_fps_u": abs(float(x)) / math.sqrt(12.0)
                        for k, x in zip(keys, slope, strict=True)}})  # fmt: skip
        slopes.append(slope)
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

    pos = series_positions(events) if u_fps else {}
    coefs: dict[str, dict[str, dict[int, float]]] = {}

    def per_side(key: str, sdd: tuple[float, float] | None = None) -> dict[str, Stat]:
        out, coefs[key] = {}, {}
        j = keys.index(key)
        for f in Foot:
            mine = [i for i, r in enumerate(rows) if r["foot"] == f.value and r[key] is not None]
            st_ = Stat.of([rows[i][key] for i in mine], sdd)  # type: ignore[misc]
            coef = {ids[i]: float(slopes[i][j]) / len(mine) for i in mine}
            coefs[key][f.value] = coef
            if st_.n and u_fps and all(np.isfinite(list(coef.values()))):
                st_.fps_u = combination_u(coef, pos)
            out[f.value] = st_
        return out

    patterns: dict[str, str | None] = {}
    for f in Foot:
        pats = [
            r["foot_strike_pattern"]
            for r in rows
            if r["foot"] == f.value and r["foot_strike_pattern"]
        ]
        patterns[f.value] = max(set(pats), key=pats.count) if pats else None  # type: ignore[arg-type]
    sides = {
        "overstride": per_side("overstride"),
        "shank angle": per_side("shank_angle_deg", SDD_DEG["shank_angle_deg"]),
        "knee flexion": per_side("knee_flexion_deg", SDD_DEG["knee_flexion_deg"]),
        "foot-strike angle": per_side("foot_strike_angle_deg", SDD_DEG["foot_strike_angle_deg"]),
    }
    flagged = []
    for (name, st_), key in zip(sides.items(), keys, strict=True):
        diff = _minus(coefs[key]["left"], coefs[key]["right"])
        ok = u_fps and all(np.isfinite(list(diff.values())))
        if unresolved(st_, combination_u(diff, pos) if ok else None):
            flagged.append(name)
    over_cm = None
    if cm_per_px and math.isfinite(leg) and leg > 0:
        # % leg → cm is one linear factor, so mean, SD and frame-rate uncertainty scale with it.
        k = leg * cm_per_px / 100.0
        for r in rows:
            v = r["overstride"]
            r["overstride_cm"] = None if v is None else round(float(v) * k, 3)  # type: ignore[arg-type]
        over_cm = {
            side: Stat(
                None if st_.mean is None else st_.mean * k,
                None if st_.sd is None else st_.sd * k,
                st_.n,
                st_.sdd,
                None if st_.fps_u is None else st_.fps_u * k,
            )
            for side, st_ in sides["overstride"].items()
        }
    return LandingMetrics(
        rows,
        *sides.values(),
        patterns,
        reference,
        warnings,
        fps,
        flagged,
        over_cm,
    )
