"""Comparing detected contacts with reference contacts (force plate, or a second rater).

Used by ``benchmarks/contacts.py`` and the tests; also the basis for comparing a clinician's
marks with the automatic proposals.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from app.analysis.keypoints import KeypointTrack

#: Contacts further apart than this are not the same contact.
DEFAULT_TOLERANCE_S = 0.060


def read_reference_csv(path: str | Path) -> dict[str, np.ndarray]:
    """A reference-contacts CSV (``#`` comment lines allowed) as columns of arrays.

    The shared RBDS truth files have ``strike_time_s, marker_frame_0based, side,
    toe_off_time_s, contact_time_s``; the time columns are returned as floats.
    """
    with open(path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    if not rows:
        return {}
    out = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    for k in ("strike_time_s", "toe_off_time_s", "contact_time_s"):
        if k in out:
            out[k] = out[k].astype(float)
    return out


def match_events(
    detected: list[float], reference: list[float], tol: float = DEFAULT_TOLERANCE_S
) -> tuple[float, float, np.ndarray]:
    """One-to-one matching within ``tol`` seconds: (recall, precision, signed errors in s).

    Each reference time takes the nearest free detected time (the nearest two are tried, so a
    close pair is not lost to the first one taken); errors are detected − reference.
    """
    det = np.asarray(sorted(detected), dtype=float)
    used: set[int] = set()
    errors: list[float] = []
    for g in reference:
        if len(det) == 0:
            break
        for j in np.argsort(np.abs(det - g))[:2]:
            if abs(det[j] - g) <= tol and int(j) not in used:
                used.add(int(j))
                errors.append(float(det[j] - g))
                break
    recall = len(errors) / max(len(reference), 1)
    precision = len(used) / max(len(det), 1)
    return recall, precision, np.asarray(errors)


def resample_track(
    track: KeypointTrack, fps: float, source_fps: float | None = None
) -> KeypointTrack:
    """Linear resampling onto a uniform grid at ``fps`` (e.g. 150 Hz markers to camera rates).

    ``source_fps`` rebuilds exact source times (the RBDS ``Time`` column is rounded to 1 ms).
    """
    n = track.n_frames
    t_src = np.arange(n) / source_fps if source_fps else track.times - track.times[0]
    new_t = np.arange(0.0, t_src[-1], 1.0 / fps)
    flat = track.xy.reshape(n, -1)
    out = np.stack([np.interp(new_t, t_src, flat[:, k]) for k in range(flat.shape[1])], axis=1)
    return KeypointTrack(new_t, out.reshape(len(new_t), 2, 5, 2))


def read_frame_truth(path: str | Path) -> list[dict[str, object]]:
    """Frame-by-frame hand-marked truth (``frame, event, foot, rater1, rater2``) as rows.

    ``frame`` is the raters' mean (x.5 where they differ by one frame), ``event`` is ``IC`` or
    ``TO`` and ``foot`` is ``near``/``far`` as seen from the camera.
    """
    with open(path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    return [
        {"frame": float(r["frame"]), "event": r["event"].strip().upper(),
         "foot": r["foot"].strip().lower()}
        for r in rows
    ]  # fmt: skip


def match_frames(
    detected: list[float], reference: list[float], tol_frames: float
) -> list[tuple[int, int]]:
    """One-to-one (detected index, reference index) pairs within ``tol_frames``, nearest first.

    Greedy on the smallest distance over all pairs, so a close pair is never lost to an earlier,
    looser match.
    """
    pairs = sorted(
        (abs(d - r), i, j)
        for i, d in enumerate(detected)
        for j, r in enumerate(reference)
        if abs(d - r) <= tol_frames
    )
    used_d: set[int] = set()
    used_r: set[int] = set()
    out: list[tuple[int, int]] = []
    for _, i, j in pairs:
        if i in used_d or j in used_r:
            continue
        used_d.add(i)
        used_r.add(j)
        out.append((i, j))
    return sorted(out, key=lambda p: p[1])


def inject_glitches(
    track: KeypointTrack, count: int, seed: int = 0, distance_legs: float = 2.0
) -> tuple[KeypointTrack, list[tuple[int, int, int]]]:
    """A copy of ``track`` with ``count`` single-frame glitches: at random frames one random
    keypoint is thrown ``distance_legs`` leg lengths (hip-ankle) away in a random direction, the
    way a mislabelled marker or a flickering pose model does. Returns the track and the
    (frame, side, joint) of every glitch. Frames are at least 3 apart; ``seed`` fixes them.
    """
    rng = np.random.default_rng(seed)
    xy = track.xy.copy()
    with np.errstate(all="ignore"):
        leg = float(np.nanmedian(np.linalg.norm(xy[:, :, 0] - xy[:, :, 2], axis=-1)))
    n = track.n_frames
    frames: list[int] = []
    while len(frames) < min(count, n // 4):
        f = int(rng.integers(1, n - 1))
        if all(abs(f - g) >= 3 for g in frames):
            frames.append(f)
    where: list[tuple[int, int, int]] = []
    for f in sorted(frames):
        s, j = int(rng.integers(0, 2)), int(rng.integers(0, xy.shape[2]))
        ang = rng.uniform(0, 2 * np.pi)
        xy[f, s, j] += distance_legs * leg * np.array([np.cos(ang), np.sin(ang)])
        where.append((f, s, j))
    return KeypointTrack(track.times.copy(), xy, track.conf.copy(), dict(track.meta)), where


def strided(track: KeypointTrack, stride: int, dense: bool) -> tuple[KeypointTrack, int]:
    """What the pose pass would give at ``stride`` if the model returned ``track``'s points:
    every ``stride``-th frame kept and the rest interpolated, and with ``dense`` the frames
    around the proposed events filled in again from ``track`` (:func:`app.analysis.dense.refine`).
    Returns the track and the number of frames the dense pass asked for. For measuring on marker
    trials and on a pose track made at every frame what the skipped frames cost."""
    from app.analysis.dense import interpolate_unrun, refine

    n = track.n_frames
    ran = np.arange(n) % stride == 0
    raw_xy = np.where(ran[:, None, None, None], track.xy, np.nan)
    raw_conf = np.where(ran[:, None, None], track.conf, 0.0)
    xy, conf = interpolate_unrun(raw_xy, raw_conf, ran, stride)
    base = KeypointTrack(track.times.copy(), xy, conf, dict(track.meta))
    if not dense:
        return base, 0

    def run_frames(frames: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        return {i: (track.xy[i], track.conf[i]) for i in frames if np.isfinite(track.xy[i]).any()}

    return refine(base, raw_xy, raw_conf, ran, run_frames, stride=stride)
