from __future__ import annotations

from pathlib import Path

import pytest

from app.clinic import open_clinic
from app.history.compare import compare_visits, stills_for_recordings, stills_for_visit
from app.history.outcomes import OutcomeData, save_outcomes
from app.history.trends import load_history

from .test_history_helpers import add_visit, make_patient


@pytest.fixture
def clinic():  # type: ignore[no-untyped-def]
    c = open_clinic()
    yield c
    c.close()


def _history(clinic, cadences, pains=None):  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = make_patient(s)
        vids = [
            add_visit(s, pid, f"2026-07-{1 + 7 * k:02d}", c, seed=k, jitter_s=0.004)
            for k, c in enumerate(cadences)
        ]
        for vid, (now, rmdq) in zip(vids, pains or [], strict=False):
            save_outcomes(s, vid, OutcomeData(pain_now=now, rmdq=rmdq))
    with clinic.db.session() as s:
        return load_history(s, pid), vids


def test_difference_and_noise_flag(clinic) -> None:  # type: ignore[no-untyped-def]
    h, (a, b, c) = _history(clinic, [160.0, 170.0, 160.3], pains=[(6, 14), (5, 12), (2, 6)])
    rows = {r.key: r for r in compare_visits(h, a, b)}
    cad = rows["cadence"]
    assert cad.difference == pytest.approx(
        h.series["cadence"].mean[1] - h.series["cadence"].mean[0]
    )
    assert cad.difference > 8 and cad.exceeds_noise is True and cad.better is True
    assert cad.verdict == "real change (better)"
    same = {r.key: r for r in compare_visits(h, a, c)}["cadence"]
    assert abs(same.difference) < same.noise and same.exceeds_noise is False
    assert same.verdict == "within measurement noise"
    # Outcomes: judged against the smallest important change (NPRS 2, RMDQ 5).
    assert rows["pain_now"].exceeds_noise is False  # 6 -> 5
    assert rows["disability"].verdict == "less than the smallest important change"
    far = {r.key: r for r in compare_visits(h, a, c)}
    assert far["pain_now"].difference == -4 and far["pain_now"].verdict == "important improvement"
    assert far["disability"].exceeds_noise is True and far["disability"].better is True
    # Never-measured metrics are left out, not shown as zero.
    assert "shank_angle" not in rows


def test_only_one_side_measured(clinic) -> None:  # type: ignore[no-untyped-def]
    h, (a, b) = _history(clinic, [160.0, None])
    row = {r.key: r for r in compare_visits(h, a, b)}["cadence"]
    assert row.b is None and row.difference is None and row.exceeds_noise is None
    assert row.verdict == "not measured at both visits"


def test_stills_found_by_recording_uid(clinic, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    u1, u2, u3 = "a" * 32, "b" * 32, "c" * 32
    for name in (f"recording-{u1}_frame000040.png", f"recording-{u1}_frame000007.png",
                 f"recording-{u3}_frame3.png", f"recording-{u1}_frame000009.jpg", "notes.txt",
                 "recording1_frame5.png"):  # fmt: skip
        (tmp_path / name).write_bytes(b"x")
    found = stills_for_recordings(tmp_path, [u1, u2, u3])
    assert [p.name for p in found[u1]] == [
        f"recording-{u1}_frame000007.png", f"recording-{u1}_frame000040.png"
    ]
    assert found[u2] == [] and [p.name for p in found[u3]] == [f"recording-{u3}_frame3.png"]
    assert stills_for_recordings(tmp_path / "missing", [u1]) == {u1: []}
    h, (a, b) = _history(clinic, [160.0, None])
    rid = h.visits[0].measured_recording_id
    rec = next(r for r in h.recordings if r.id == rid)
    stills = tmp_path / "stills"
    stills.mkdir()
    (stills / f"recording-{rec.uid}_frame000005.png").write_bytes(b"x")
    (stills / f"recording-{'d' * 32}_frame000005.png").write_bytes(b"x")
    # An old still named by integer id is never matched: after a restore the id may be reused.
    (stills / f"recording{rid}_frame6.png").write_bytes(b"x")
    assert [p.name for p in stills_for_visit(h, stills, a)] == [
        f"recording-{rec.uid}_frame000005.png"
    ]
    assert stills_for_visit(h, stills, b) == []
