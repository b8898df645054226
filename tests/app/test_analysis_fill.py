"""Every event proposed: contacts and toe-offs the rhythm says must exist are filled in."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.analysis.contacts import detect_contacts
from app.analysis.events import EventType
from app.analysis.keypoints import KeypointTrack
from app.analysis.rhythm import FILLED_CONFIDENCE, fill_missing

from ._analysis_helpers import load_trial


def _prepared(n: int, hidden: slice | None = None) -> np.ndarray:
    """Keypoints with both feet seen everywhere except in ``hidden``."""
    xy = np.ones((n, 2, 5, 2))
    if hidden is not None:
        xy[hidden, :, 3:] = np.nan
    return xy


def _entry(t: float, to: float) -> dict[str, float]:
    return {"t": t, "to": to, "label": 0.0, "conf": 0.9, "to_conf": 0.9}


def test_gap_missing_toe_off_and_clip_ends_are_filled() -> None:
    pf = 10.0
    # Contacts every 10 frames from 15 to 85, the one at 55 missed, the toe-off at 75 missed.
    merged = [_entry(t, t + 7) for t in (15, 25, 35, 45, 65, 75, 85, 95)]
    merged[5]["to"] = float("nan")
    steps = [0, 1, 2, 3, 5, 6, 7, 8]
    out, ks, added, hidden = fill_missing(_prepared(100), merged, steps, pf, 100)
    assert hidden == []
    filled = {round(e["t"]) if np.isfinite(e["t"]) else None: e for e in out if e.get("filled")}
    assert 55 in filled and filled[55]["conf"] == FILLED_CONFIDENCE  # the gap
    assert 5 in filled  # before the first contact, inside the clip
    assert filled[None]["to"] == 2  # a stance begun before frame 0 (at -5): only its toe-off
    ic75 = next(e for e in out if e["t"] == 75)
    assert ic75["to"] == 82 and ic75["to_conf"] == FILLED_CONFIDENCE
    assert ks == sorted(ks) and len(set(ks)) == len(ks)
    assert added == (2, 4)  # ICs at 5 and 55; toe-offs at 2, 12, 62 and 82


def test_hidden_feet_get_no_guess_but_their_frames_are_named() -> None:
    merged = [_entry(t, t + 7) for t in (12, 22, 32, 42, 62, 72, 82, 92)]
    steps = [0, 1, 2, 3, 5, 6, 7, 8]
    out, _, added, hidden = fill_missing(_prepared(100, slice(45, 60)), merged, steps, 10.0, 100)
    assert not any(e.get("filled") and e["t"] == 52 for e in out)
    assert any(a <= 52 <= b for a, b in hidden)


def test_every_marker_contact_proposed_when_one_is_unseen(shared_data: Path) -> None:
    # Both feet lost for a moment: that contact is not invented, and the warning says where.
    track, truth = load_trial(shared_data, "rearfoot", seconds=12.0)
    xy = track.xy.copy()
    ts = truth["strike_time_s"][6]
    xy[(track.times > ts - 0.1) & (track.times < ts + 0.1), :, 1:] = np.nan
    res = detect_contacts(KeypointTrack(track.times, xy))
    ics = [e for e in res.events if e.type is EventType.INITIAL_CONTACT]
    assert not any(abs(e.time_s - ts) < 0.05 for e in ics)
    assert any("hidden or not tracked in frames" in w for w in res.warnings)


def test_toe_off_making_an_implausible_contact_is_replaced_from_the_rhythm() -> None:
    # Contacts every 10 frames, each on the belt 7 frames; one toe-off found 2 frames after
    # its contact (the pose model lost the foot): it is replaced at the foot's median, low.
    merged = [_entry(t, t + 7) for t in (15, 25, 35, 45, 55, 65, 75, 85, 95)]
    merged[4]["to"] = 57.0
    steps = list(range(9))
    out, _, added, _ = fill_missing(_prepared(100), merged, steps, 10.0, 100)
    e = next(x for x in out if x["t"] == 55)
    assert e["to"] == 62 and e["to_conf"] == FILLED_CONFIDENCE
    assert all(x["to"] == x["t"] + 7 for x in out if np.isfinite(x["t"]) and x["t"] != 55)
    assert added[1] >= 1
