"""The per-contact landing measures as they were computed before they were vectorised across
contacts (app/analysis/landing.py up to December 2026), kept verbatim as the reference the
vectorised code must reproduce bit for bit (tests/app/test_landing_vectorised.py)."""

# ruff: noqa
from __future__ import annotations

import math

import numpy as np

from app.analysis.events import EventType, Foot, FootEvent
from app.analysis.keypoints import KeypointTrack

from app.analysis.metrics import (
    LandingMetrics,
    strike_pattern,
    ANKLE,
    HEEL,
    HIP,
    KNEE,
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


def reference_landing_metrics(
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
    fps = track.fps if np.isfinite(track.fps) else None
    half = 0.5 / fps if fps else 0.0
    u_fps = fps if uncertainty else None  # the rate the uncertainties are computed for

    def measures(t: float, s: int | None = None) -> tuple[int, np.ndarray] | None:
        """(leading label, [overstride, shank, knee flexion, raw foot angle]) at time ``t``."""
        pts = _at(track, t)
        if s is None:
            fwd = d * (pts[:, HEEL, 0] - np.nanmean(pts[:, HIP, 0]))
            if not np.isfinite(fwd).any():
                return None
            s = int(np.nanargmax(fwd))
        hip = np.nanmean(pts[:, HIP], axis=0)
        knee, ankle = pts[s, KNEE], pts[s, ANKLE]
        dx = d * (pts[s, HEEL, 0] - hip[0])
        over = 100.0 * dx / leg  # always % of leg length; cm is derived below when calibrated
        shank = math.degrees(math.atan2(d * (ankle[0] - knee[0]), ankle[1] - knee[1]))
        v1, v2 = pts[s, HIP] - knee, ankle - knee
        cosang = float(np.dot(v1, v2) / (np.linalg.norm(v1) * np.linalg.norm(v2)))
        knee_flex = 180.0 - math.degrees(math.acos(float(np.clip(cosang, -1.0, 1.0))))
        return s, np.array([over, shank, knee_flex, _foot_angle(pts, s, d)])

    keys = ("overstride", "shank_angle_deg", "knee_flexion_deg", "foot_strike_angle_deg")
    ids: list[int] = []
    slopes: list[np.ndarray] = []
    for ic in ics:
        got = measures(ic.time_s)
        if got is None:
            continue
        s, vals = got
        over, shank, knee_flex = (float(v) for v in vals[:3])
        slope = np.full(4, np.nan)  # change of each measure over one frame at the contact
        if u_fps:
            lo_, hi_ = measures(ic.time_s - half, s), measures(ic.time_s + half, s)
            if lo_ is not None and hi_ is not None:
                slope = hi_[1] - lo_[1]
        ids.append(id(ic))
        pts = _at(track, ic.time_s)
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
