"""Automatic initial-contact and toe-off detection from a side-view keypoint track.

Independent of the pose model. The pipeline, all in relative units (leg length ``L``, step
period ``P``) so that nothing depends on image size, frame rate or the sample recordings.
Figures below are from ``benchmarks/contacts.py`` (sample clip = the 30 fps treadmill video with
two raters' frame truth; markers = the two RBDS force-plate trials).

0. Glitches first (``keypoints.reject_outliers``): a Hampel filter on every keypoint replaces a
   point further than max(0.25 L, 4 robust SD) from the median of its ±40 ms window (a one- or
   two-frame glitch; real motion, being monotone over such a window, equals its running median)
   by interpolation. Only then are person changes looked for (``keypoints.jump_frames``: the
   hips must jump by half a leg *and stay* 0.1 s), and when one is found the result says which
   frames were analysed and why (``analysed_frames``, ``analysed_reason``, a warning).
   Measured: markers with 20 injected one-frame glitches kept 35 of 78 contacts before (the
   "second person" cut), all 78 now, every event the same as on the clean trial; the sample
   clip is unchanged.
1. Pelvis frame and scale: hip centre, leg length (hip-ankle, near full extension), direction of
   travel from where the toes point.
2. Step period from signals that do not care which leg is which (inter-foot distance, front-foot
   reach, pelvis bounce), by autocorrelation: pose models swap legs, so peaks of a per-label
   signal double-count steps. Regular stepping far slower than any human (a slow-motion file
   tagged with its playback rate) raises ``SlowedClipError`` with the likely capture rate
   (``rhythm.raise_if_slowed``).
3. One candidate per step at the peak of the *front* foot's forward reach (Zeni 2008 on
   ``max(left, right)``), at least 0.55 P apart.
4. Each candidate's foot is followed by continuity of position (not by its label) and the
   contact is placed, after the reach peak, at the first marked peak of upward acceleration
   (sudden stop of the descent) of heel or toe, whichever comes first, while the foot is within
   8 % of a leg length of its stance level (cf. Leitch 2011: heel vertical acceleration plus
   hallux height). Zeni's peak itself fires ~25 ms early. Toe-off: a hinge (flat, then rising)
   fitted to the lowest point's clearance where it leaves its stance level. Sample clip: IC
   within ±1 frame 28 of 33, mean −0.24 frame; TO within ±1 frame 29 of 34, mean +0.44 frame.
   Tried and not kept (measured, sample clip and markers resampled to 150/60/30 Hz): contact
   where the followed foot's backward image speed first reaches a fraction α of the belt speed
   (belt speed = median backward speed of the stance foot; O'Connor's foot-velocity idea on the
   pose track). On markers it is the most frame-rate-stable estimate (α = 0.5: −2 to −3 ms at
   every rate for the forefoot striker, against +2 ms at 150 Hz but +24 ms at 30 Hz for the
   acceleration peak), but on the pose track it fires 1–1.5 frames early (within ±1 frame 7 of
   33 at α = 0.5, 24 of 33 at α = 1, which then misses 67–87 % of the 30 Hz marker contacts),
   and averaging it with the acceleration peak did no better (18–26 of 33). The acceleration
   peak of the lowest point (one signal instead of the earlier of heel and toe): the same 28 of
   33 on the sample clip but 12 ms later on the forefoot markers, so not kept. Dense optical
   flow (Farneback) in a fixed box around the landing foot gave no clean "descent, then carried
   by the belt" signature at 30 fps (motion blur, the other foot and the box share the window):
   stage 9 follows the foot and tracks features on the shoe itself.
   Toe-off on the marker trials fires early on the forefoot striker (S001 −11.5 ± 5.9 ms: right
   foot −16.9, left −6.2; S0041 −3.0 ± 4.6). The marker "toe" is the mean of the metatarsal-head
   markers, which rise with the push-off roll before the tip leaves: at the force-plate toe-off
   it is already 0.017-0.020 L above its stance level (both trials, both feet), and its rise is
   smooth (convex), so the flat-then-rising hinge has no single knee and its place moves with
   the window. Tried, none kept (TO mean on S001 / S0041 at 150 Hz; video TO within ±1 frame):
   a point on the foot axis ahead of the toe (the push-off pivot), chosen per track by the best
   pooled hinge fit: picks 0.05 / 0.35 foot lengths, −3.5 / +43 ms, and reach > 0 at fixed
   values costs the video 3-15 points; hinge windows of 0.1-0.4 P before and after the 0.04 L
   crossing: S001 −19 to +8, S0041 −16 to +9 ms, never both within ±5 (30 fps unchanged, the
   windows are at their frame floors there); the window re-centred on its own hinge: walks down
   the convex rise, −27 / −27 ms; two free lines (segmented fit): +6 / +27 ms; the flat part
   fixed at the stance level: −19 / −14 ms. The video, whose pose "toe" is near the tip, is
   unbiased in continuous time (+0.4 frame against "last frame on the belt", whose lift-off is
   half a frame later on average).
5. Sides by alternation: consecutive contacts alternate feet (gaps of about 2 P keep parity), and
   the labels only vote which of the two alternating classes is left.
6. Every event proposed (``rhythm.fill_missing``): a gap of k steps gets k − 1 contacts, a contact
   without a toe-off gets one at its foot's median contact duration, and the rhythm is carried
   to both ends of the clip, all at ``rhythm.FILLED_CONFIDENCE``; where both feet are not seen,
   nothing is guessed and the frames are named in a warning. A toe-off that makes a contact
   time far from its foot's median (over 25 % and 4 robust SD) is replaced the same way.
   Sample clip: IC recall 97 → 100 %, TO recall 91 → 100 % (TO within ±1 frame 79 → 88 %);
   markers unchanged.
7. Confidence: keypoint visibility of the followed foot (squared), sharpness of the landing and
   continuity of the following. High confidence (>= :data:`HIGH_CONFIDENCE`) is within ±1 frame
   of the truth for 27 of 28 such proposals on the sample clip (with visibility linear: 32 of
   35, 91 %); marker tracks (visibility 1) are unaffected.
8. Dense pose around each proposal (in the pose pass, ``app.analysis.dense``): above 40 fps the
   model runs on every 2nd frame; the events are then proposed, the model is run on the skipped
   frames within 2 frames of each IC and TO, and the events are detected again (two rounds;
   one round: sample IC within ±1 frame 64 instead of 79 %). Strided runs skip MediaPipe's
   landmark filter, which cannot take single frames filled in later (at stride 1 the filter is
   kept: unfiltered, the sample gives IC 88 % but TO 71 % within ±1 frame, against 85 / 88 %).
   Measured on the sample clip run at stride 2 (the path of a 60 fps clip; real model runs):
   IC within ±1 frame 58 -> 79 %, ±2 70 -> 94 %, recall 94 -> 100 %, mean −0.90 -> −0.39;
   TO ±1 59 -> 65 %, recall 94 -> 100 % (160 of the 180 skipped frames run). Markers at 60 Hz,
   every 2nd frame interpolated: IC SD 23.2 -> 12.6 ms (forefoot; every frame 12.5) and
   14.5 -> 2.9 ms (rearfoot; every frame 2.9), means back to the every-frame values, 21-24 % of
   the frames run again. Cost (generated 1080p 60 fps clip, 12 s, 190 frames run again, on 2
   shared cores at load 7-9): CPU 0.76-1.18 -> 1.19-1.38 s per clip second; wall time, paired
   with the earlier code, 37.6 -> 30.3 s and 23.5 -> 23.4 s, as decoding now runs in a thread
   ahead of the model. Neither version is real time at that load.
   Clips up to 40 fps (the sample) run every frame and are unchanged.
   Tried and not kept: pose on an upscaled crop of the runner (from 0.6-1.5 leg above the hip
   to below the feet, up to 3x the base pass's scale) so the model sees the feet larger. Run
   over the whole clip, contiguously, it scattered with the crop (IC within ±1 frame 67-97 %,
   TO 74-88 % over seven crop/scale choices, base 85 / 88 %); run only on ±1-3 frames around
   each proposal, as a real-time budget allows, IC 79-88 % and TO 65-88 %: no reliable gain for
   a second model run per window frame.
9. Pixels around the foot (after detection, in ``analyze`` and the detection job:
   ``app.analysis.footflow``, where the method and every figure are): Lucas-Kanade on the heel
   and toe halves of the shoe, in a box following the foot, in the frames around each proposal
   only; contact where the foot's image velocity locks onto the stance's own belt velocity,
   toe-off where the toe's leaves it. The pose proposal is the prior (moved by at most 2 frames
   at 30 fps, confidence lowered where the two disagree). Pooled over the sample clip and its
   mirrored, half-size and padded variants: IC within ±1 frame 86.4 -> 90.2 %, TO 89.0 ->
   89.7 %, every mean nearer 0, high-confidence within ±1 97.4 -> 98.0 %; the 60 fps path
   (pose every 2nd frame) simulated on the sample, with the dense pass: IC 78.8 -> 87.9 %.
   Original clip alone: IC within ±1 frame 84.8 -> 87.9 %, TO 88.2 -> 85.3 %. The crops it
   reads are kept by the pose pass as it decodes (``app.analysis.footcrops``): no second
   decoding of the clip.
"""

from __future__ import annotations

import warnings as _warnings
from dataclasses import dataclass, field, replace

import numpy as np

from app.analysis.errors import AnalysisError
from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.analysis.keypoints import JOINTS, KeypointTrack, jump_frames, reject_outliers
from app.analysis.periodicity import estimate_step_period, fill_gaps, moving_average
from app.analysis.rhythm import fill_missing, raise_if_slowed

HIP, KNEE, ANKLE, HEEL, TOE = (JOINTS.index(j) for j in ("hip", "knee", "ankle", "heel", "toe"))

#: Points below this pose confidence count as missing.
MIN_CONFIDENCE = 0.3
#: Contacts per side for a stable mean (Dingenen 2018).
MIN_CONTACTS_PER_SIDE = 7
#: Horizontal foot excursion (fraction of leg length) below which the view is not a side view.
MIN_SIDE_EXCURSION = 0.25
#: Proposals at or above this confidence are "high confidence" (the timeline highlights the
#: others for review); calibrated in benchmarks/contacts.py.
HIGH_CONFIDENCE = 0.5


@dataclass
class ContactResult:
    """Detected events (sorted by time) and what the detector noticed on the way."""

    events: list[FootEvent]
    direction: str  # "left" or "right": direction of travel in the image
    step_period_s: float
    periodicity: float
    fps: float
    leg_length: float
    warnings: list[str] = field(default_factory=list)
    #: First and last frame analysed (the whole clip unless a second person took over).
    analysed_frames: tuple[int, int] = (0, 0)
    #: Why only ``analysed_frames`` were analysed ("" when it is the whole clip).
    analysed_reason: str = ""
    #: Keypoint positions rejected as one- or two-frame outliers (see ``reject_outliers``).
    outliers_rejected: int = 0

    def initial_contacts(self, foot: Foot | None = None) -> list[FootEvent]:
        return [
            e
            for e in self.events
            if e.type is EventType.INITIAL_CONTACT and (foot is None or e.foot is foot)
        ]

    def to_json(self) -> dict[str, object]:
        return {
            "direction": self.direction,
            "step_period_s": round(self.step_period_s, 5),
            "periodicity": round(self.periodicity, 3),
            "analysed_frames": list(self.analysed_frames),
            "analysed_reason": self.analysed_reason,
            "outliers_rejected": self.outliers_rejected,
            "events": [e.to_json() for e in self.events],
            "warnings": list(self.warnings),
        }


@dataclass
class _Prepared:
    xy: np.ndarray  # (N, 2, 5, 2) smoothed, low-confidence points NaN
    conf: np.ndarray  # (N, 2, 5)
    hip: np.ndarray  # (N, 2) pelvis centre
    leg: float
    d: float  # +1 travelling to image right, -1 left
    fps: float


def _prepare(track: KeypointTrack, min_conf: float) -> _Prepared:
    track.validate()
    fps = track.fps
    xy = track.masked(min_conf)
    n = track.n_frames
    valid_frame = np.isfinite(xy[:, :, HIP, 0]).any(axis=1) & np.isfinite(
        xy[:, :, [HEEL, TOE, ANKLE], 0]
    ).any(axis=(1, 2))
    if valid_frame.sum() < max(10, 0.5 * n):
        raise AnalysisError(
            f"A person's legs were found in only {valid_frame.sum()} of {n} frames. Film the "
            "runner from the side with the whole body, hips to feet, in view and well lit."
        )
    # Light smoothing over ~20 ms: removes pose jitter at high frame rates, none at 30 fps.
    k = max(1, int(round(0.02 * fps)))
    if k > 1:
        xy = np.stack(
            [
                np.apply_along_axis(moving_average, 0, xy[:, s, j, c], k)
                for s in range(2)
                for j in range(len(JOINTS))
                for c in range(2)
            ],
            axis=1,
        ).reshape(n, 2, len(JOINTS), 2)
    with np.errstate(all="ignore"):
        hip = np.nanmean(xy[:, :, HIP, :], axis=1)
        legs = np.linalg.norm(xy[:, :, HIP, :] - xy[:, :, ANKLE, :], axis=-1)
    if not np.isfinite(legs).any():
        raise AnalysisError("Hips and ankles are never seen together; the legs are not in view.")
    leg = float(np.nanpercentile(legs, 90))
    if not leg > 0:  # every hip on its ankle: collapsed or placeholder keypoints, no legs
        raise AnalysisError("Hips and ankles are never apart; the legs are not in view.")
    toe_ahead = xy[:, :, TOE, 0] - xy[:, :, HEEL, 0]
    if not np.isfinite(toe_ahead).any():
        raise AnalysisError("Heels and toes are never seen; the feet must be in view.")
    med = float(np.nanmedian(toe_ahead))
    foot_x = np.nanmean(xy[:, :, [HEEL, TOE], 0], axis=2) - hip[:, [0]]
    excursion = float(np.nanpercentile(foot_x, 97) - np.nanpercentile(foot_x, 3)) / leg
    if excursion < MIN_SIDE_EXCURSION or abs(med) < 0.05 * leg:
        raise AnalysisError(
            "The feet hardly move forwards and backwards in the picture "
            f"({100 * excursion:.0f} % of leg length): this looks like a front or rear view. "
            "Film from the side, camera at right angles to the treadmill."
        )
    return _Prepared(xy, track.conf, hip, leg, 1.0 if med > 0 else -1.0, fps)


def _foot_centre(p: _Prepared) -> np.ndarray:
    """(N, 2, 2) foot centre per label: mean of heel and toe, else the ankle."""
    with np.errstate(all="ignore"):
        c = np.nanmean(p.xy[:, :, [HEEL, TOE], :], axis=2)
    return np.where(np.isfinite(c), c, p.xy[:, :, ANKLE, :])


def _follow(
    p: _Prepared, centre: np.ndarray, start: int, side: int, lo: int, hi: int
) -> np.ndarray:
    """Label index per frame in [lo, hi) that carries the physical foot seen as ``side`` at ``start``.

    Chooses at each frame the label nearest to the position predicted from the last two frames;
    -1 where neither label is within a quarter leg of the prediction (foot lost).
    """
    n = len(centre)
    lo, hi = max(0, lo), min(n, hi)
    out = np.full(hi - lo, -1, dtype=int)
    for direction in (1, -1):
        pos = centre[start, side].copy()
        vel = np.zeros(2)
        rng = range(start, hi) if direction == 1 else range(start, lo - 1, -1)
        for i in rng:
            pred = pos + vel
            d = np.linalg.norm(centre[i] - pred, axis=1)
            d = np.where(np.isfinite(d), d, np.inf)
            best = int(np.argmin(d))
            if d[best] <= 0.25 * p.leg:
                out[i - lo] = best
                new = centre[i, best]
                vel = 0.5 * vel + 0.5 * (new - pos)
                pos = new
            else:
                pos = pred
    return out


def _hinge(t: np.ndarray, c: np.ndarray, rising: bool) -> tuple[float, float]:
    """Fit flat-then-rising (or falling-then-flat) to (t, c); return (hinge time, rms residual).

    The hinge is searched on a grid of a tenth of a sample; each candidate's least-squares line
    is closed-form, all candidates at once (the same result as one ``lstsq`` per candidate).
    """
    ok = np.isfinite(c)
    t, c = t[ok], c[ok]
    if len(t) < 4:
        return float("nan"), float("inf")
    dt = np.median(np.diff(t))
    taus = np.arange(t[1], t[-2] + 1e-9, dt / 10)
    if rising:
        ramp = np.maximum(t[None, :] - taus[:, None], 0.0)
    else:
        ramp = np.maximum(taus[:, None] - t[None, :], 0.0)
    rc = ramp - ramp.mean(axis=1, keepdims=True)
    cc = c - c.mean()
    with np.errstate(all="ignore"):
        slope = (rc @ cc) / np.sum(rc**2, axis=1)
        res2 = np.mean(cc**2) - slope * (rc @ cc) / len(c)
    good = np.isfinite(slope) & (slope > 0)
    if not good.any():
        return float("nan"), float("inf")
    i = int(np.argmin(np.where(good, res2, np.inf)))
    return float(taus[i]), float(np.sqrt(max(float(res2[i]), 0.0)))


def _clearance(p: _Prepared, labels: np.ndarray, lo: int, stance: slice) -> np.ndarray:
    """Lowest-point height above its own stance level (in leg lengths) of a followed foot."""
    n = len(labels)
    hz = np.full((n, 2), np.nan)
    for k, lab in enumerate(labels):
        if lab >= 0:
            hz[k] = p.xy[lo + k, lab, [HEEL, TOE], 1]
    # Image y points down; each point's ground level is its lowest position in stance, so heel
    # and toe keypoints at different heights above the sole (markers, shoes) are both zeroed.
    seg = hz[stance]
    if not np.isfinite(seg).any(axis=0).all():
        ground = np.nanmax(hz, axis=0) if np.isfinite(hz).any() else np.array([np.nan, np.nan])
    else:
        ground = np.nanpercentile(seg, 95, axis=0)
    with np.errstate(all="ignore"):
        return np.nanmin((ground - hz) / p.leg, axis=1)


def _first_peak(a: np.ndarray, lo: int, hi: int, low: np.ndarray) -> float:
    """Sub-frame index of the first local maximum in a[lo:hi] reaching 30 % of the window's
    highest where ``low`` (foot near the ground) holds; NaN if none."""
    lo, hi = max(1, lo), min(len(a) - 1, hi)
    if hi - lo < 2 or not np.isfinite(a[lo:hi]).any():
        return float("nan")
    top = float(np.nanmax(a[lo:hi]))
    if top <= 0:
        return float("nan")
    for i in range(lo, hi):
        if a[i] >= 0.3 * top and a[i] >= a[i - 1] and a[i] >= a[i + 1] and low[i]:
            d = a[i - 1] - 2 * a[i] + a[i + 1]
            return i + (
                float(np.clip(0.5 * (a[i - 1] - a[i + 1]) / d, -0.5, 0.5)) if d < 0 else 0.0
            )
    return float("nan")


def _landing(
    p: _Prepared, labels: np.ndarray, lo: int, rel: int, pf: float, c: np.ndarray
) -> tuple[float, bool]:
    """Initial contact (absolute sub-frame index) of the followed foot near its reach peak ``rel``.

    The first part of the foot to hit the belt stops descending abruptly: the first marked peak
    of upward acceleration of heel or toe (Leitch 2011 uses the heel's for rearfoot strikers)
    after the forward-reach peak, whichever comes first, provided the foot is low by then.
    """
    n = len(labels)
    ys = np.full((n, 2), np.nan)
    for k, lab in enumerate(labels):
        if lab >= 0:
            ys[k] = p.xy[lo + k, lab, [HEEL, TOE], 1]
    times = []
    a0, a1 = rel - int(round(0.01 * p.fps)), rel + max(int(0.45 * pf), 4)
    for j in range(2):
        if np.isfinite(ys[:, j]).sum() < 4:
            continue
        # Image y points down, so upward acceleration is minus the second difference.
        # Three-point second difference: the narrowest, so coarse frame rates are not delayed.
        yy = fill_gaps(ys[:, j])
        acc = np.zeros_like(yy)
        acc[1:-1] = -(yy[2:] - 2 * yy[1:-1] + yy[:-2])
        acc[~np.isfinite(ys[:, j])] = np.nan
        # (A noise floor of 3 SD of the jitter was tried: no gain on jittered markers, and it
        # lost 3 of 33 contacts on the real treadmill clip, so it was removed.)
        t = _first_peak(acc, a0, a1, np.nan_to_num(c, nan=1.0) <= 0.08)
        if np.isfinite(t):
            times.append(t)
    if times:
        return float(min(times)) + lo, True
    # No clear deceleration (noisy or coarse track): fall back to the first frame where the foot
    # is down, flagged so its confidence is lowered.
    # (A hinge fit here was tried: later and less reliable on noisy tracks.)
    down = np.nonzero(np.nan_to_num(c[max(0, a0) : a1], nan=1.0) <= 0.04)[0]
    return (float(max(0, a0) + down[0] + lo), False) if len(down) else (float("nan"), False)


def _peaks(x: np.ndarray, distance: int, prominence: float) -> np.ndarray:
    from scipy.signal import find_peaks

    idx, _ = find_peaks(x, distance=max(1, distance), prominence=prominence)
    return idx


def detect_contacts(track: KeypointTrack, *, min_conf: float = MIN_CONFIDENCE) -> ContactResult:
    """Find initial contacts and toe-offs of both feet in a side-view track.

    Raises :class:`AnalysisError` when the input cannot give trustworthy contacts (no person,
    not a side view, no regular stepping, too short); lesser problems become ``warnings``.
    """
    if track.meta.get("detected_fraction") == 0.0:  # from the pose model: nobody in any frame
        raise AnalysisError(
            "No person was found in this video. Film the runner from the side with the whole "
            "body in view and good light, then try again (or mark the contacts by hand)."
        )
    with _warnings.catch_warnings():
        # All-NaN windows (a hidden foot) are expected and handled; numpy's warnings are noise.
        _warnings.simplefilter("ignore", RuntimeWarning)
        track.validate()
        clean, rejected = reject_outliers(track)
        jumps = jump_frames(clean)
        n = track.n_frames
        if len(jumps) == 0:
            res = _detect(clean, min_conf)
        else:
            # Someone else took over the detector: analyse the longest stretch between jumps.
            edges = [0, *[int(j) for j in jumps], n]
            a, b = max(zip(edges[:-1], edges[1:], strict=True), key=lambda e: e[1] - e[0])
            note = (
                f"The detected person jumped position {len(jumps)} time(s) (at frame(s) "
                f"{', '.join(str(int(j)) for j in jumps[:6])}{' ...' if len(jumps) > 6 else ''}): "
                "there may be a second person in view. Film the runner alone in the picture."
            )
            try:
                res = _detect(clean.slice(a, b), min_conf)
            except AnalysisError as exc:
                raise AnalysisError(f"{exc} {note}") from exc
            shift = float(track.times[a] - track.times[0])
            res.events = [
                replace(e, frame=e.frame + a, time_s=e.time_s + shift) for e in res.events
            ]
            res.analysed_frames = (a, b - 1)
            share = (b - a) / n
            res.analysed_reason = (
                f"frames {a}-{b - 1} ({100 * share:.0f} % of the clip): the longest stretch with "
                "one person throughout"
            )
            res.warnings.append(
                f"{note} Only frames {a}-{b - 1} ({100 * share:.0f} % of the clip, one person "
                "throughout) were analysed."
            )
        res.outliers_rejected = rejected
        if rejected > 0.01 * n * 2 * len(JOINTS):
            res.warnings.append(
                f"{rejected} keypoint position(s) jumped away for a frame or two and were ignored "
                "(the pose model or the markers flickered); check the proposals near them."
            )
        return res


def _detect(track: KeypointTrack, min_conf: float) -> ContactResult:
    p = _prepare(track, min_conf)
    n, fps, leg = track.n_frames, p.fps, p.leg
    centre = _foot_centre(p)
    with np.errstate(all="ignore"):
        u = p.d * (centre[:, :, 0] - p.hip[:, [0]]) / leg  # forward of the pelvis, leg lengths
        front = np.nanmax(u, axis=1)
        gap = np.abs(u[:, 0] - u[:, 1])
    bounce = p.hip[:, 1] / leg
    period, strength = estimate_step_period([gap, front, bounce], fps, [1.0, 1.0, 0.5])
    if not np.isfinite(period) or strength < 0.15:
        raise_if_slowed([gap, front, bounce], fps, n)
        raise AnalysisError(
            "No regular stepping was found in the leg movement. Check that the clip shows one "
            "person running or walking steadily, seen from the side."
        )
    pf = period * fps  # step period in frames
    if n < 3.5 * pf:
        raise AnalysisError(
            f"The clip is too short: {track.duration_s:.1f} s holds only about {n / pf:.0f} steps. "
            f"Record at least {MIN_CONTACTS_PER_SIDE * 2 * period + 1:.0f} s of steady running."
        )
    warnings: list[str] = []

    smooth = moving_average(fill_gaps(front), max(1, int(round(0.08 * pf))))
    spread = np.nanpercentile(front, 95) - np.nanpercentile(front, 5)
    cands = [
        int(i)
        for i in _peaks(smooth, int(0.55 * pf), 0.15 * spread)
        if np.isfinite(front[max(0, i - 1) : i + 2]).any()
    ]
    tol = 0.04  # clearance (leg lengths) that surely means "in the air"; the hinge refines TO
    found: list[dict[str, float]] = []
    for pk in cands:
        side = int(np.nanargmax(u[pk]))
        lo, hi = pk - int(0.4 * pf) - 4, pk + int(1.8 * pf) + 4
        labels = _follow(p, centre, pk, side, lo, hi)
        lo = max(0, lo)
        rel = pk - lo
        st = slice(rel + int(0.1 * pf), rel + max(int(0.6 * pf), int(0.1 * pf) + 3))
        c = _clearance(p, labels, lo, st)
        idx = np.arange(len(c)) + lo
        t_ic, sharp = _landing(p, labels, lo, rel, pf, c)
        if not np.isfinite(t_ic):
            continue
        w0, w1 = max(3, int(0.2 * pf)), max(4, int(0.25 * pf))
        clear_ic = float(np.nan_to_num(np.interp(t_ic - lo, np.arange(len(c)), c), nan=tol))
        ic_rel = int(round(t_ic)) - lo
        lab = labels[ic_rel] if 0 <= ic_rel < len(labels) and labels[ic_rel] >= 0 else side
        # Toe-off: the lowest point leaves its stance level (search 0.25-1.7 P after contact).
        t_to, res_to = float("nan"), float("inf")
        j_start = ic_rel + max(2, int(0.25 * pf))
        j_end = min(len(c), ic_rel + int(1.7 * pf))
        above = np.nonzero(np.nan_to_num(c[j_start:j_end], nan=-np.inf) > tol)[0]
        if len(above):
            j0 = j_start + int(above[0])
            a2, b2 = max(ic_rel + 1, j0 - w1), min(len(c), j0 + w0 + 1)
            t_to, res_to = _hinge(idx[a2:b2].astype(float), c[a2:b2], rising=True)
        # Confidence: keypoint confidence of the followed foot, fit quality, continuity. The
        # keypoint confidence counts squared: with it linear, only 91 % of the sample clip's
        # events scoring >= HIGH_CONFIDENCE were within one frame of the truth (a partly hidden
        # foot is placed late by the pose model even when it is "visible"); squared, see
        # benchmarks/contacts.py. Marker tracks (confidence 1) are unaffected.
        near = slice(max(0, ic_rel - 2), ic_rel + 3)
        labs = labels[near]
        kp_conf = (
            float(
                np.mean(
                    [
                        p.conf[lo + near.start + k, max(lb, 0), [HEEL, TOE]].mean()
                        for k, lb in enumerate(labs)
                    ]
                )
                if len(labs)
                else 0.0
            )
            ** 2
        )
        fit = float(np.exp(-clear_ic / tol)) * (1.0 if sharp else 0.5)
        followed = (
            float(np.mean(labels[: min(len(labels), ic_rel + 1)] >= 0)) if ic_rel >= 0 else 0.0
        )
        found.append(
            {"t": t_ic, "to": t_to, "label": float(lab), "conf": kp_conf * fit * (0.5 + 0.5 * followed),
             "to_conf": kp_conf * float(np.exp(-res_to / tol)) if np.isfinite(t_to) else 0.0}
        )  # fmt: skip

    # One contact per step: merge candidates closer than half a step (keep the more confident).
    found.sort(key=lambda e: e["t"])
    merged: list[dict[str, float]] = []
    for e in found:
        if merged and e["t"] - merged[-1]["t"] < 0.5 * pf:
            if e["conf"] > merged[-1]["conf"]:
                merged[-1] = e
            continue
        merged.append(e)
    if len(merged) < 4:
        raise AnalysisError(
            f"Only {len(merged)} foot contacts could be found. Make sure both feet and the belt "
            "are in view for the whole clip and the runner is filmed from the side."
        )

    # Alternation: step index from the gaps (a hidden contact leaves a gap of about 2 P).
    steps = [0]
    for prev, cur in zip(merged[:-1], merged[1:], strict=True):
        steps.append(steps[-1] + max(1, int(round((cur["t"] - prev["t"]) / pf))))
    votes = np.zeros((2, 2))
    for e, k in zip(merged, steps, strict=True):
        votes[k % 2, int(e["label"])] += max(e["conf"], 1e-3)
    straight = votes[0, 0] + votes[1, 1]
    crossed = votes[0, 1] + votes[1, 0]
    parity_to_side = (0, 1) if straight >= crossed else (1, 0)
    agreement = max(straight, crossed) / max(straight + crossed, 1e-9)
    if agreement < 0.75:
        warnings.append(
            "Left and right legs could not be told apart reliably (the pose model mixes them up "
            "in this clip); contacts alternate correctly, but check which side is which."
        )
    merged, steps, added, hidden = fill_missing(p.xy, merged, steps, pf, n)
    if added[0] or added[1]:
        what = " and ".join(
            f"{k} {name}" for k, name in zip(added, ("contact(s)", "toe-off(s)"), strict=True) if k
        )
        warnings.append(
            f"{what} not seen clearly, proposed from the step rhythm with low confidence: "
            "check them on the timeline."
        )
    if hidden:
        spans = ", ".join(f"{a}-{b}" for a, b in hidden[:6]) + (" ..." if len(hidden) > 6 else "")
        warnings.append(
            f"The feet were hidden or not tracked in frames {spans}: no contacts are proposed "
            "there. Add them by hand if you can see them."
        )

    events = _to_events(track, merged, steps, parity_to_side, agreement)
    # Too few contacts per side and an implausible cadence are reported by metrics.py, which
    # also serves manually marked events.
    warnings += _input_warnings(track, p)
    return ContactResult(
        events, "right" if p.d > 0 else "left", float(period), strength, fps, leg, warnings,
        (0, n - 1),
    )  # fmt: skip


def _to_events(
    track: KeypointTrack,
    merged: list[dict[str, float]],
    steps: list[int],
    parity_to_side: tuple[int, int],
    agreement: float,
) -> list[FootEvent]:
    """FootEvents at sub-frame times (``frame`` is the nearest frame)."""
    frames = np.arange(track.n_frames, dtype=float)
    t0 = float(track.times[0])
    out: list[FootEvent] = []
    side_conf = min(1.0, 0.5 + agreement) if agreement < 1 else 1.0
    for e, k in zip(merged, steps, strict=True):
        foot = Foot.LEFT if parity_to_side[k % 2] == 0 else Foot.RIGHT
        for kind, key, ckey in (
            (EventType.INITIAL_CONTACT, "t", "conf"),
            (EventType.TOE_OFF, "to", "to_conf"),
        ):
            f = e[key]
            if not np.isfinite(f) or f < 0 or f > track.n_frames - 1:
                continue
            out.append(
                FootEvent(
                    foot, kind, int(round(f)), float(np.interp(f, frames, track.times) - t0),
                    EventSource.AUTOMATIC, float(np.clip(e[ckey] * side_conf, 0.0, 1.0)),
                )
            )  # fmt: skip
    out.sort(key=lambda ev: ev.time_s)
    return out


def _input_warnings(track: KeypointTrack, p: _Prepared) -> list[str]:
    warnings = []
    feet = np.isfinite(p.xy[:, :, [HEEL, TOE], 0]).any(axis=(1, 2))
    lost = 1.0 - float(feet.mean())
    width = track.meta.get("width")
    if isinstance(width, (int, float)) and width > 0:
        x = track.xy[:, :, [HEEL, TOE], 0]
        with np.errstate(invalid="ignore"):
            outside = ((x < 0) | (x > width)).any(axis=(1, 2))
        lost = max(lost, float(outside.mean()))
    if lost > 0.05:
        warnings.append(
            f"The feet were out of view or not found in {100 * lost:.0f} % of the frames; "
            "keep the runner centred with the feet and belt in the picture."
        )
    return warnings
