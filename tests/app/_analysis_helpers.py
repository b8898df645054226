"""Shared helpers for the analysis tests (not collected: no test_ prefix)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.analysis.keypoints import KeypointTrack, read_csv

TRIALS = {
    "forefoot": "rbds_S001_treadmill_run_2p5ms",
    "rearfoot": "rbds_S0041_treadmill_run_2p5ms",
}


def load_trial(
    data: Path, kind: str, seconds: float | None = None
) -> tuple[KeypointTrack, dict[str, np.ndarray]]:
    """Marker track and truth rows (strike time, side 'L'/'R', toe-off time), optionally cut."""
    stem = TRIALS[kind]
    track = read_csv(data / f"{stem}_keypoints.csv")
    truth = read_truth(data / f"{stem}_GT_footstrikes.csv")
    if seconds is not None:
        n = int(np.searchsorted(track.times, seconds))
        track = track.slice(0, n)
        keep = truth["strike_time_s"] < track.times[-1]
        truth = {k: v[keep] for k, v in truth.items()}
    return track, truth


def read_truth(path: Path) -> dict[str, np.ndarray]:
    """The RBDS truth CSV (``#`` comment lines) as columns of arrays."""
    import csv

    with open(path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    out = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    for k in ("strike_time_s", "toe_off_time_s", "contact_time_s"):
        out[k] = out[k].astype(float)
    return out


def match(
    detected: list[float], truth: list[float], tol: float = 0.06
) -> tuple[float, float, np.ndarray]:
    """(recall, precision, signed errors in s) with one-to-one matching within ``tol``."""
    det = np.asarray(sorted(detected))
    used: set[int] = set()
    errors = []
    for g in truth:
        if len(det) == 0:
            break
        j = int(np.argmin(np.abs(det - g)))
        if abs(det[j] - g) <= tol and j not in used:
            used.add(j)
            errors.append(det[j] - g)
    return len(errors) / max(len(truth), 1), len(used) / max(len(det), 1), np.asarray(errors)


def resample(track: KeypointTrack, fps: float) -> KeypointTrack:
    """Linear resampling onto a uniform grid at ``fps`` (150 Hz markers to 30-240 Hz)."""
    t_true = np.arange(track.n_frames) / 150.0  # RBDS times are rounded to 1 ms; 150 Hz exactly
    new_t = np.arange(0.0, t_true[-1], 1.0 / fps)
    flat = track.xy.reshape(track.n_frames, -1)
    out = np.stack([np.interp(new_t, t_true, flat[:, k]) for k in range(flat.shape[1])], axis=1)
    return KeypointTrack(new_t, out.reshape(len(new_t), 2, 5, 2))
