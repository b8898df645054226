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
