"""Shared helpers for the analysis tests (not collected: no test_ prefix)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.analysis.evaluation import match_events, read_reference_csv, resample_track
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
    return read_reference_csv(path)


def match(
    detected: list[float], truth: list[float], tol: float = 0.06
) -> tuple[float, float, np.ndarray]:
    """(recall, precision, signed errors in s) with one-to-one matching within ``tol``."""
    return match_events(detected, truth, tol)


def resample(track: KeypointTrack, fps: float) -> KeypointTrack:
    """150 Hz RBDS markers resampled to a camera rate."""
    return resample_track(track, fps, source_fps=150.0)
