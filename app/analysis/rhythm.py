"""What the step rhythm implies: events it says must exist, and clips that look slowed down.

Used by :mod:`app.analysis.contacts` after the contacts have been found (or, for a slowed clip,
when no human stepping was found).
"""

from __future__ import annotations

import numpy as np

from app.analysis.errors import SlowedClipError
from app.analysis.keypoints import JOINTS
from app.analysis.periodicity import MAX_STEP_S, estimate_step_period

HEEL, TOE = JOINTS.index("heel"), JOINTS.index("toe")

#: Confidence of an event proposed from the step rhythm because it was not seen clearly.
FILLED_CONFIDENCE = 0.15


def _feet_seen(xy: np.ndarray, lo: float, hi: float) -> bool:
    """Both feet (two labels with a heel or toe) seen in most frames of [lo, hi]."""
    a, b = max(0, int(np.floor(lo))), min(len(xy), int(np.ceil(hi)) + 1)
    if b <= a:
        return False
    seen = np.isfinite(xy[a:b, :, [HEEL, TOE], 0]).any(axis=2).sum(axis=1)
    return bool(np.mean(seen >= 2) >= 0.5)


#: Contact times of a steady runner vary by a few per cent from step to step; a toe-off making
#: one differ from the foot's median by more than this share (and 4 robust SDs) is not its own.
ODD_CONTACT_SHARE = 0.25


def _odd_contact(duration: float, durations: list[float]) -> bool:
    """Whether ``duration`` (frames) is far outside the foot's other contact durations."""
    if len(durations) < 4:
        return False
    med = float(np.median(durations))
    mad = 1.4826 * float(np.median(np.abs(np.asarray(durations) - med)))
    return abs(duration - med) > max(4.0 * mad, ODD_CONTACT_SHARE * med)


def fill_missing(
    xy: np.ndarray, merged: list[dict[str, float]], steps: list[int], pf: float, n: int
) -> tuple[list[dict[str, float]], list[int], tuple[int, int], list[tuple[int, int]]]:
    """Propose, with :data:`FILLED_CONFIDENCE`, the events the rhythm says must exist.

    ``xy`` is the (N, 2, 5, 2) keypoint array (low-confidence points NaN); ``merged`` the
    contacts found (dicts with sub-frame ``t``, ``to``, ``label``, ``conf``, ``to_conf``) and
    ``steps`` their step indices, ``pf`` the step period in frames and ``n`` the frame count.

    A gap of k steps between two contacts gets k - 1 evenly spaced contacts; a contact without a
    toe-off, or with one that makes an implausible contact time (:func:`_odd_contact`), gets one
    at the median contact duration of its foot; before the first and after the
    last contact the rhythm is extended to the clip's ends (only events inside the clip). Where
    the feet are not seen (both feet in fewer than half the frames around the predicted time)
    nothing is proposed and the frames are returned as hidden. Returns the new lists, the number
    of (contacts, toe-offs) added and the hidden frame spans.
    """
    durs: dict[int, list[float]] = {0: [], 1: []}
    for e, k in zip(merged, steps, strict=True):
        if np.isfinite(e["to"]):
            durs[k % 2].append(e["to"] - e["t"])
    every = durs[0] + durs[1]
    if not every:
        return merged, steps, (0, 0), []
    dur = {k: float(np.median(v or every)) for k, v in durs.items()}
    w = 0.15 * pf
    hidden: list[tuple[int, int]] = []
    out: list[tuple[dict[str, float], int]] = []

    def propose(t: float, k: int) -> None:
        times = {"t": t, "to": t + dur[k % 2]}
        entry = {"label": -1.0, "conf": FILLED_CONFIDENCE, "to_conf": FILLED_CONFIDENCE,
                 "filled": 1.0}  # fmt: skip
        for key, x in times.items():
            inside = 0 <= x <= n - 1
            if inside and not _feet_seen(xy, x - w, x + w):
                hidden.append((max(0, int(x - w)), min(n - 1, int(np.ceil(x + w)))))
                inside = False
            entry[key] = x if inside else float("nan")
        if np.isfinite(entry["t"]) or np.isfinite(entry["to"]):
            out.append((entry, k))

    k0, t0 = steps[0], merged[0]["t"]
    for j in range(int(np.ceil((t0 + pf) / pf)) + 1, 0, -1):
        if t0 - j * pf + dur[(k0 - j) % 2] >= 0:  # its toe-off (at least) is inside the clip
            propose(t0 - j * pf, k0 - j)
    for i, (e, k) in enumerate(zip(merged, steps, strict=True)):
        if i:
            prev, kp = merged[i - 1], steps[i - 1]
            for j in range(1, k - kp):
                propose(prev["t"] + j * (e["t"] - prev["t"]) / (k - kp), kp + j)
        e = dict(e)
        if np.isfinite(e["to"]) and _odd_contact(e["to"] - e["t"], durs[k % 2] or every):
            e["to"] = float("nan")  # not this foot's toe-off: replaced from the rhythm below
        if not np.isfinite(e["to"]):
            to = e["t"] + dur[k % 2]
            if to <= n - 1 and _feet_seen(xy, to - w, to + w):
                e["to"], e["to_conf"], e["to_filled"] = to, FILLED_CONFIDENCE, 1.0
        out.append((e, k))
    kl, tl = steps[-1], merged[-1]["t"]
    for j in range(1, int((n - 1 - tl) / pf) + 1):
        propose(tl + j * pf, kl + j)
    out.sort(key=lambda ek: ek[1])
    added_ic = sum(1 for e, _ in out if e.get("filled") and np.isfinite(e["t"]))
    added_to = sum(
        1 for e, _ in out if (e.get("filled") or e.get("to_filled")) and np.isfinite(e["to"])
    )
    return [e for e, _ in out], [k for _, k in out], (added_ic, added_to), hidden


#: Common capture rates of cameras and phones (frames per second), for a slowed-down clip.
CAPTURE_RATES = (60.0, 100.0, 120.0, 200.0, 240.0, 300.0, 480.0, 960.0)
#: Plausible cadences (steps/min): running (clinical.md sanity range) and walking.
RUNNING_SPM = (140.0, 200.0)
WALKING_SPM = (80.0, 135.0)
#: Longest step period searched for in a slowed clip: 16 x the slowest human step.
SLOWED_MAX_FACTOR = 16.0


def raise_if_slowed(signals: list[np.ndarray], fps: float, n: int) -> None:
    """Raise :class:`SlowedClipError` when the legs step regularly but far slower than any human
    runs or walks (a slow-motion file that carries its playback rate, not its capture rate)."""
    period, strength = estimate_step_period(
        signals, fps, [1.0, 1.0, 0.5], min_s=MAX_STEP_S, max_s=SLOWED_MAX_FACTOR * MAX_STEP_S
    )
    if not np.isfinite(period) or strength < 0.3 or n / (period * fps) < 3:
        return
    spm = 60.0 / period
    suggested = None
    for lo, hi in (RUNNING_SPM, WALKING_SPM):
        fits = [r for r in CAPTURE_RATES if r > fps and lo <= spm * r / fps <= hi]
        if fits:
            # Several rates may fit a range; the one nearest its middle is the likeliest.
            mid = 0.5 * (lo + hi)
            suggested = min(fits, key=lambda r: abs(spm * r / fps - mid))
            break
    if suggested is not None:
        hint = (
            f"If it was filmed at {suggested:g} frames per second, the cadence would be "
            f"{spm * suggested / fps:.0f} steps/min. "
        )
    else:
        hint = ""
    raise SlowedClipError(
        f"The runner steps only about {spm:.0f} times a minute at this file's {fps:g} frames "
        "per second, far slower than anyone runs or walks: the clip looks slowed down (slow "
        f"motion). {hint}Enter the camera's capture rate (frames per second) and run the "
        "analysis again.",
        spm,
        fps,
        suggested,
    )
