"""Pixel refinement of the proposed contacts: the foot's own image velocity against the belt's.

On a treadmill the stance foot is carried backwards at belt speed, so in the image a landing
foot's velocity *locks* onto the belt's at initial contact (horizontal velocity equal to the
belt's, vertical velocity zero) and leaves it at toe-off (O'Connor 2007's foot-velocity idea,
measured here on the pixels instead of the pose track). For every pose-based proposal
(:mod:`app.analysis.contacts`) this module reads only the frames within ``WINDOW_S`` of it
(plus the stance frames next to it), follows the proposal's foot by its heel and toe keypoints
(by continuity, not by label), and for each step from frame ``i`` to ``i + 1``, in a box around
the foot brought to a working scale where the leg is ``LEG_PX`` long, tracks corner features on
the heel half and the toe half of the shoe (a band along heel-toe) with pyramidal Lucas-Kanade,
forward-backward checked. It measures

- the belt velocity ``B`` of that very stance: the robust median velocity of the shoe in the
  stance frames next to the proposal (after a contact, before a toe-off), so near and far foot
  (perspective: the far foot's belt moves ~20 % slower in the sample clip), direction of travel
  and camera distance need no setting; samples of the other leg passing in front are rejected,
  and a stance whose samples do not agree gives no estimate;
- per step the mismatch ``e = |v - B| / |B|`` of each half's median velocity ``v``.

Initial contact: the first step locked (``e < LOCK``) on either half and staying locked, right
after a clearly free step (``e > FREE`` within ``FREE_WITHIN_S``); its first frame is the first
on the belt, unless the locked step's mismatch is still above the stance's own tracking noise
(the foot touched down during that step: the next frame). Toe-off: the last frame before the
toe half's velocity leaves the belt for good (the same noise test moves it one frame earlier).
Everything is relative (leg length, belt speed, the clip's frame rate). Above 90 fps (slow-
motion phone clips) a foot moves too little from one frame to the next to tell its velocity
from tracking noise, so velocities are taken over overlapping steps of about 1/60 s, one step
starting at every frame (a synthetic 240 fps clip: contact and toe-off to the frame; with
single-frame steps nothing was measurable there).

The pose proposal is the prior: pixels move a proposal only when their evidence is clear and by
at most ``MAX_SHIFT_S``. Where pixels and pose differ by one frame the pixel frame is kept and
the confidence multiplied by ``ONE_FRAME_FACTOR``; by more, the confidence by
``DISAGREE_FACTOR`` (beyond ``MAX_SHIFT_S`` the pose frame is kept). Without clear evidence
(a hidden foot, no belt texture or motion, a duplicated-frame clip) nothing changes. Nothing here
decodes video itself: :func:`refine` reads grey crops at the working scale from a
:class:`~app.analysis.footcrops.CropSource`, which the pose pass fills as it decodes (the clip
is decoded again only for the frames it did not keep; see :mod:`app.analysis.footcrops`).

Measured (``benchmarks/contacts.py``, sample clip and three variants of it with the same truth:
mirrored = runner going the other way, half_size = 50 % downscale, padded = black border left
and below; pose-only -> with pixels; IC / TO share within ±1 frame, mean error in frames):

- original:  IC 84.8 -> 87.9 %, mean -0.24 -> +0.00, largest 2.5 -> 1.5;
  TO 88.2 -> 85.3 %, mean +0.41 -> +0.15
- mirrored:  IC 84.8 -> 90.9 %, mean -0.30 -> -0.09; TO 79.4 -> 82.4 %, +0.38 -> +0.23
  (TO recall 97 -> 97 %)
- half_size: IC 90.9 -> 90.9 %, mean -0.21 -> -0.15; TO 94.1 -> 94.1 %, +0.53 -> +0.29
- padded:    IC 84.8 -> 90.9 %, largest 2.5 -> 1.5; TO 94.1 -> 97.1 %, +0.27 -> +0.03
- pooled over the four: IC 86.4 -> 90.2 %, TO 89.0 -> 89.7 %; every mean nearer 0; high-
  confidence proposals within ±1 frame 111/114 (97.4 %) -> 99/101 (98.0 %), 167 proposals to
  review over the four instead of 154.
- the 60 fps path simulated on the sample (pose on every 2nd frame): IC 57.6 -> 78.8 %,
  TO 58.8 -> 73.5 %; with the dense pose pass (``app.analysis.dense``): IC 78.8 -> 87.9 %,
  TO 64.7 -> 76.5 %, means -0.39 -> -0.15 and -0.68 -> -0.50 (the pixels see every frame).
- These figures are from the crops of :mod:`app.analysis.footcrops` (one resampling of each
  frame on a grid at a scale fixed from the first 1.5 s). With the earlier per-step resampling
  at the whole clip's leg length the pooled figures were IC 87.9 %, TO 91.2 %, high confidence
  97/98, 60 fps path IC 81.8 %, TO 73.5 % (TO recall 97 %): single events moved by one frame
  either way, as below.
- About 55-60 % of the proposals get a clear pixel estimate on the sample (a hidden far foot in
  mid-stance, the box over the near heel). Small changes of the implementation (box placement,
  feature count) move single events by one frame either way, so a change of one event
  (3 %) on one variant is within the method's own noise; the pooled figures are the measure.
  The RBDS marker trials have no pixels: unchanged by construction (every figure as before).
- Cost: 12 s of generated 1080p 60 fps video, 68 proposals, at load 5-8: 3.4-4.2 CPU-seconds
  with the crops the pose pass kept (86 frames, the first 1.5 s, decoded again), against
  5.4-6.7 when the step decoded the clip again (0.7 CPU-s of keeping them in the pose pass).
  Velocities are measured once per foot and frame (windows of one stance overlap by ~20 %).

Tried and not kept (same benchmark, pooled over the four variants, IC / TO within ±1 frame):
the lock rule without the noise test (first locked step = first frame on the belt): 85.6 % IC,
means -0.12 to -0.36 (early whenever the foot touched down early in a step; with it 87.1 %,
means -0.06 to -0.18). Lock thresholds 0.15 / 0.35 instead of 0.25 (the midpoint between
locked, 0, and clearly free, ``FREE``): IC 82.6 / 82.6 % against 87.1 %, the mean moving by
0.2-0.3 frame between them (0.3-0.45 before the noise test). Measuring at the clip's own
resolution with the tracking window scaled instead of resampling to ``LEG_PX``: IC 90.2 % but
TO 86.8 % and original high confidence 88 % within ±1 (it scatters with the resolution).
20 features per half instead of 40: a sixth fewer proposals measured, IC 85.6 %, TO 88.2 %, no
time saved. A 10-iteration Lucas-Kanade budget: IC 87.1 %, TO 89.7 % (against 87.9 / 91.2 %).
One box per window resampled once (instead of one per step): IC 87.1 %, TO 91.9 %, larger
images to track in. Lending a stance whose own belt velocity is not measurable (the other leg
in front of the foot) the median belt of the same foot's other stances (at least three that
agree): 54-57 instead of 37-42 of the 68 proposals measured, IC 89.4 %, TO 91.2 %, means nearer
0, but on the 60 fps path with the dense pass IC within ±1 fell to 72.7 % (pose alone 78.8 %,
own belt only 81.8 %): the belt then comes from elsewhere for exactly the stances whose
features are least reliable. Kept: one box per step; windows trimmed to the frames the rule reads
(identical figures, a third less tracking at 60 fps); windows measured on two threads.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from app.analysis.events import EventType, FootEvent
from app.analysis.footcrops import Crop, CropSource, FootCrops
from app.analysis.keypoints import JOINTS, KeypointTrack

HIP, ANKLE, HEEL, TOE = (JOINTS.index(j) for j in ("hip", "ankle", "heel", "toe"))

#: Velocity mismatch (fraction of belt speed) under which a half of the shoe is "on the belt".
LOCK = 0.25
#: ... and over which it is clearly not (the transition must show one such frame).
FREE = 0.5
#: A step whose mismatch is above this many times the stance's own median (and above
#: ``MIXED_FLOOR``) is part in the air: the contact (toe-off) happened during it.
MIXED_NOISE = 3.0
MIXED_FLOOR = 0.05
#: The free (in the air) step must be this close to the lock (before a contact, after a
#: toe-off).
FREE_WITHIN_S = 0.1
#: Half-width of the window read around each proposal.
WINDOW_S = 0.13
#: Largest move of a proposal by the pixels (the pose prior is rarely further off).
MAX_SHIFT_S = 0.07
#: Working scale: crops are resized so that the leg is this many pixels long (feature and
#: window sizes are then the same for every camera distance and resolution).
LEG_PX = 250.0
#: Above 90 fps velocities are measured over steps of about 1/STEP_FPS s (see ``_step``).
STEP_FPS = 60.0
#: Threads measuring windows (the machine this must run in real time on has two cores).
THREADS = 2
#: Corner features tracked per half of the shoe.
FEATURES = 40
#: Margin (leg lengths, at the working scale) of the box each step is measured in.
PAIR_MARGIN = 0.35
#: Confidence factor when pixels and pose disagree by one frame (the pixel estimate is kept).
ONE_FRAME_FACTOR = 0.8
#: Confidence factor when pixels and pose disagree by more than a frame.
DISAGREE_FACTOR = 0.6


@dataclass
class PixelStats:
    """What the pixel step did (for the benchmark and the log)."""

    considered: int = 0
    measured: int = 0  # a clear pixel estimate was found
    moved: int = 0  # ... and it moved the proposal
    agreed: int = 0  # ... within one frame of the pose proposal
    frames_read: int = 0
    frames_decoded: int = 0  # ... of them decoded again (not kept by the pose pass)

    def to_json(self) -> dict[str, int]:
        return dict(self.__dict__)


def _foot_label(track: KeypointTrack, frame: int, kind: EventType, d: float) -> int:
    """The label of the landing (front) or pushing-off (rear) foot at ``frame``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a label with no heel or toe here
        x = np.nanmean(track.xy[frame, :, [HEEL, TOE], 0], axis=0)  # (2,)
    if not np.isfinite(x).any():
        return -1
    x = np.where(np.isfinite(x), d * x, -np.inf if kind is EventType.INITIAL_CONTACT else np.inf)
    return int(np.argmax(x) if kind is EventType.INITIAL_CONTACT else np.argmin(x))


def _follow(track: KeypointTrack, frame: int, lab: int, frames: range) -> dict[int, np.ndarray]:
    """Heel and toe (2, 2) of the physical foot seen as ``lab`` at ``frame``, by continuity."""
    out: dict[int, np.ndarray] = {}
    ref = track.xy[frame, lab, [HEEL, TOE]]
    out[frame] = ref
    for step in (1, -1):
        prev = ref
        i = frame + step
        while frames.start <= i < frames.stop:
            cand = track.xy[i, :, [HEEL, TOE]].transpose(1, 0, 2)  # (2 labels, 2 pts, 2)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                dist = np.nanmean(np.linalg.norm(cand - prev, axis=-1), axis=1)
            if not np.isfinite(dist).any():
                break
            best = int(np.nanargmin(dist))
            out[i] = cand[best]
            prev = cand[best]
            i += step
    return out


def _leg(track: KeypointTrack) -> float:
    with np.errstate(all="ignore"):
        legs = np.linalg.norm(track.xy[:, :, HIP] - track.xy[:, :, ANKLE], axis=-1)
    return float(np.nanpercentile(legs, 90)) if np.isfinite(legs).any() else float("nan")


def _half_points(gray: np.ndarray, heel: np.ndarray, toe: np.ndarray, width: float):  # type: ignore[no-untyped-def]
    """Corner features on the heel half and the toe half of the shoe (a band along heel-toe):
    (points (k, 2) float32, half index (k,)), or None."""
    import cv2

    pts_all, half_all = [], []
    mid = 0.5 * (heel + toe)
    r = max(3, int(width))
    for h, (a, b) in enumerate(
        ((heel - 0.15 * (toe - heel), mid), (mid, toe + 0.15 * (toe - heel)))
    ):
        x0 = max(0, int(min(a[0], b[0])) - r)
        y0 = max(0, int(min(a[1], b[1])) - r)
        x1 = min(gray.shape[1], int(max(a[0], b[0])) + r + 1)
        y1 = min(gray.shape[0], int(max(a[1], b[1])) + r + 1)
        if x1 - x0 < 8 or y1 - y0 < 8:
            continue
        roi = gray[y0:y1, x0:x1]
        mask = np.zeros(roi.shape, np.uint8)
        cv2.line(mask, (int(a[0]) - x0, int(a[1]) - y0), (int(b[0]) - x0, int(b[1]) - y0), 255, r)
        pts = cv2.goodFeaturesToTrack(roi, FEATURES, 0.01, 3, mask=mask)
        if pts is not None:
            pts_all.append(pts.reshape(-1, 2) + (x0, y0))
            half_all.append(np.full(len(pts), h))
    if not pts_all:
        return None
    return np.concatenate(pts_all).astype(np.float32), np.concatenate(half_all)


def _velocity(g0: np.ndarray, g1: np.ndarray, feats) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Median frame-to-frame displacement (2 halves, 2) of the features ``feats`` (NaN for a
    half with fewer than 4 surviving the forward-backward check)."""
    import cv2

    out = np.full((2, 2), np.nan)
    if feats is None:
        return out
    pts, half = feats
    p0 = pts.reshape(-1, 1, 2)
    lk = {"winSize": (15, 15), "maxLevel": 3}
    p1, st, _ = cv2.calcOpticalFlowPyrLK(g0, g1, p0, None, **lk)  # type: ignore[call-overload]
    pb, st2, _ = cv2.calcOpticalFlowPyrLK(g1, g0, p1, None, **lk)  # type: ignore[call-overload]
    ok = (st.ravel() == 1) & (st2.ravel() == 1) & (np.linalg.norm(pb - p0, axis=2).ravel() < 1.0)
    flow = (p1 - p0).reshape(-1, 2)
    for h in range(2):
        sel = ok & (half == h)
        if sel.sum() >= 4:
            out[h] = np.median(flow[sel], axis=0)
    return out


@dataclass
class _Window:
    event: FootEvent
    frames: range
    feet: dict[int, np.ndarray]  # frame -> heel/toe (2, 2) in image pixels


def _step(fps: float) -> int:
    """Frames per measured step: 1 up to 90 fps; above, steps of about 1/60 s overlapping by all
    but one frame (at 240 fps a foot moves too little from one frame to the next to tell its
    velocity from tracking noise; the event is still placed to the frame)."""
    return max(1, int(round(fps / STEP_FPS))) if fps > 90 else 1


def _windows(track: KeypointTrack, events: list[FootEvent], d: float) -> list[_Window]:
    fps = track.fps
    w = max(3, int(round(WINDOW_S * fps)))
    step = _step(fps)
    n = track.n_frames
    out = []
    for e in events:
        lab = _foot_label(track, e.frame, e.type, d)
        if lab < 0:
            continue
        # IC: the stance after it gives the belt velocity; TO: the stance before it.
        if e.type is EventType.INITIAL_CONTACT:
            frames = range(max(0, e.frame - w), min(n, e.frame + w + 1 + step))
        else:
            frames = range(max(0, e.frame - w - 2), min(n, e.frame + w + step))
        feet = _follow(track, e.frame, lab, frames)
        pts = np.concatenate([p for p in feet.values()])
        if np.isfinite(pts).all(axis=1).sum() < 4:
            continue
        out.append(_Window(e, frames, feet))
    return out


def _belt(sv: np.ndarray) -> np.ndarray | None:
    """Robust belt velocity from stance samples: the median, re-taken over the samples within
    ``LOCK`` of it (the other leg passing in front of the stance foot, a lost feature), or None
    when fewer than three samples, or less than half of them, agree."""
    if len(sv) < 3:
        return None
    belt = np.median(sv, axis=0)
    for _ in range(2):
        speed = float(np.linalg.norm(belt))
        if speed < 0.02 * LEG_PX:  # too slow to tell from tracking noise
            return None
        keep = _mismatch(sv, belt) < LOCK
        if keep.sum() < max(3, 0.5 * len(sv)):
            return None
        belt = np.median(sv[keep], axis=0)
    return belt


def _mismatch(v: np.ndarray, belt: np.ndarray) -> np.ndarray:
    return np.linalg.norm(v - belt, axis=-1) / max(float(np.linalg.norm(belt)), 1e-9)


def _measure(
    win: _Window,
    crops: dict[int, Crop],
    scale: float,
    fps: float,
    memo: dict[tuple[int, bytes], np.ndarray] | None = None,
) -> float | None:
    """Pixel estimate of the event frame of ``win``, or None when the evidence is not clear.
    ``memo`` holds the velocities measured by other windows (the same foot at the same frame
    gives the same velocity: windows of one stance overlap by about a fifth of their steps)."""
    step = _step(fps)
    frames = [i for i in win.frames if i in crops and i in win.feet]
    vel: dict[int, np.ndarray] = {}  # frame -> (2 halves, 2) velocity, working pixels
    # Each step is measured in a box around the foot at its first frame (a third of a leg
    # around heel and toe: room for the band, the tracking window and the step's motion), cut
    # from both frames' crops (pieces of one grid at the working scale) at the same place.
    margin = PAIR_MARGIN * LEG_PX
    for i in frames:
        if i + step not in crops:
            continue
        feet = win.feet[i]
        if not np.isfinite(feet).all():
            continue
        key = (i, feet.tobytes())
        if memo is not None and key in memo:
            vel[i] = memo[key]
            continue
        fw = (feet + 0.5) * scale - 0.5  # working pixels (pixel centres, as area resizing)
        c0, c1 = crops[i], crops[i + step]
        bx0 = max(c0.x0, c1.x0, int(np.floor(fw[:, 0].min() - margin)))
        by0 = max(c0.y0, c1.y0, int(np.floor(fw[:, 1].min() - margin)))
        bx1 = min(c0.x1, c1.x1, int(np.ceil(fw[:, 0].max() + margin)))
        by1 = min(c0.y1, c1.y1, int(np.ceil(fw[:, 1].max() + margin)))
        if bx1 - bx0 < 16 or by1 - by0 < 16:
            continue
        g0, g1 = (c.image[by0 - c.y0 : by1 - c.y0, bx0 - c.x0 : bx1 - c.x0] for c in (c0, c1))
        heel, toe = fw - (bx0, by0)
        vel[i] = _velocity(g0, g1, _half_points(g0, heel, toe, 0.16 * LEG_PX))
        if memo is not None:
            memo[key] = vel[i]
    if len(vel) < 5:
        return None
    e = win.event
    ks = sorted(vel)
    v = np.stack([vel[k] for k in ks])  # (k, 2, 2)
    ks_a = np.array(ks)
    # The stance's own belt velocity: both halves, frames 2+ after the contact (or before the
    # toe-off) proposal, where the foot is surely on the belt.
    w = max(3, int(round(WINDOW_S * fps)))
    if e.type is EventType.INITIAL_CONTACT:
        stance = (ks_a >= e.frame + 1) & (ks_a <= e.frame + w)
    else:
        stance = (ks_a <= e.frame - 2) & (ks_a >= e.frame - 1 - w)
    sv = v[stance].reshape(-1, 2)
    sv = sv[np.isfinite(sv).all(axis=1)]
    belt = _belt(sv)
    if belt is None:
        return None
    mis = np.stack([_mismatch(v[:, h], belt) for h in range(2)], axis=1)  # (k, 2)
    # Tracking noise of this stance: velocities on the belt scatter this much around it.
    sm = _mismatch(sv, belt)
    look = max(3, int(round(FREE_WITHIN_S * fps)))  # how far a "clearly free" step is looked for
    mixed = max(MIXED_NOISE * float(np.median(sm[sm < LOCK])), MIXED_FLOOR)
    if e.type is EventType.INITIAL_CONTACT:
        est = []
        for h in range(2):
            m = mis[:, h]
            for j in range(1, len(ks) - 1):
                if not (m[j] < LOCK and np.nan_to_num(m[j + 1], nan=0.0) < LOCK):
                    continue
                before = m[max(0, j - look) : j]
                if np.any(before > FREE) and np.isfinite(m[j - 1]) and m[j - 1] >= LOCK:
                    # Frame ks[j] is on the belt unless the step ks[j] -> next still carries
                    # some of the descent (its mismatch above the stance's noise): then the
                    # foot touched down during that step and the next frame is the first on it.
                    late = MIXED_NOISE > 0 and m[j] > mixed and ks[j + 1] == ks[j] + 1
                    est.append(ks[j + 1] if late else ks[j])
                break
        return float(min(est)) if est else None
    # Toe-off: toe half; last frame before its velocity leaves the belt for good.
    m = mis[:, 1]
    for j in range(len(ks) - 1, 0, -1):
        if m[j] >= LOCK and np.isfinite(m[j]) and m[j - 1] < LOCK:
            after = m[j : j + look]
            if not np.any(after > FREE):
                return None
            # The step before already part off the belt (mismatch above the noise): the toe
            # left during it, so its first frame is the last on the belt.
            # (A step of k frames from ks[j] leaves the belt by its last frame: with k > 1 the
            # toe was still down k - 1 frames after its first.)
            early = MIXED_NOISE > 0 and m[j - 1] > mixed and ks[j - 1] == ks[j] - 1
            return float((ks[j - 1] if early else ks[j]) + step - 1)
    return None


def refine(
    track: KeypointTrack,
    events: list[FootEvent],
    direction: str,
    crops: CropSource | None,
    *,
    only: Iterable[EventType] = (EventType.INITIAL_CONTACT, EventType.TOE_OFF),
) -> tuple[list[FootEvent], PixelStats]:
    """The ``events`` (automatic proposals on ``track``'s frames) refined by the pixels of
    ``crops`` (:func:`app.analysis.footcrops.source`; None: nothing to measure on)."""
    stats = PixelStats()
    only = set(only)
    leg = _leg(track)
    n = track.n_frames
    if not np.isfinite(leg) or leg <= 0 or n < 4 or crops is None:
        return list(events), stats
    d = 1.0 if direction == "right" else -1.0
    todo = [e for e in events if e.type in only and 0 <= e.frame < n]
    wins = _windows(track, todo, d)
    stats.considered = len(todo)
    wanted = sorted({i for w in wins for i in w.frames})
    got = crops.read(wanted) if wanted else {}
    stats.frames_read = len(got)
    stats.frames_decoded = len(crops.decoded)
    scale = crops.scale
    t0 = float(track.times[0])
    frames_axis = np.arange(n, dtype=float)
    max_shift = max(1, int(round(MAX_SHIFT_S * track.fps)))
    out = {id(e): e for e in events}

    memo: dict[tuple[int, bytes], np.ndarray] = {}

    def measure(w: _Window) -> float | None:
        return _measure(w, got, scale, track.fps, memo)

    # OpenCV releases the interpreter lock: the windows are measured on both cores.
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        estimates = list(pool.map(measure, wins))
    for w, est in zip(wins, estimates, strict=True):
        e = w.event
        if est is None:
            continue
        stats.measured += 1
        shift = est - e.frame
        if abs(shift) <= 1:
            stats.agreed += 1
        if abs(shift) > max_shift:
            out[id(e)] = replace(e, confidence=e.confidence * DISAGREE_FACTOR)
            continue
        f = int(round(est))
        if abs(shift) < 0.5:
            conf = e.confidence
        elif abs(shift) <= 1:
            conf = e.confidence * ONE_FRAME_FACTOR
        else:
            conf = e.confidence * DISAGREE_FACTOR
        if f != e.frame:
            stats.moved += 1
        out[id(e)] = replace(
            e, frame=f, time_s=float(np.interp(f, frames_axis, track.times) - t0), confidence=conf
        )
    refined = [out[id(e)] for e in events]
    refined.sort(key=lambda ev: ev.time_s)
    return refined, stats


def refine_from_video(
    result,  # type: ignore[no-untyped-def]  # app.analysis.contacts.ContactResult
    track: KeypointTrack,
    video: str | Path,
    cancelled: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
    crops: FootCrops | None = None,
) -> PixelStats | None:
    """Refine ``result.events`` (automatic, on ``track``'s frames = the file's frames) in place
    from the pixels of ``video``: the crops the pose pass kept (``crops``, see
    :mod:`app.analysis.footcrops`), the frames it did not keep decoded again. A video that
    cannot be decoded again leaves the pose-based proposals as they are (returns None): the
    pixel step only ever refines. ``progress`` gets the share of that decoding done."""
    from app.analysis.errors import AnalysisError
    from app.analysis.footcrops import source

    try:
        src = source(track, video, kept=crops, cancelled=cancelled, progress=progress)
        events, stats = refine(track, result.events, result.direction, src)
    except Exception as exc:  # noqa: BLE001 - a refinement never costs the clinician the analysis
        if cancelled is not None and cancelled():
            raise AnalysisError("Analysis cancelled.") from exc
        result.warnings.append(
            f"The video could not be read again to check the proposals frame by frame ({exc}); "
            "they come from the pose track alone."
        )
        return None
    result.events = events
    return stats
