"""Automatic detection as a plain job: proposals are automatic, inside the clip, capture-timed."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from app.analysis import contacts, pose
from app.analysis.detect_job import detection_job
from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.analysis.keypoints import KeypointTrack


def test_the_job_runs_pose_then_contacts_and_retimes(monkeypatch, tmp_path: Path) -> None:
    track = KeypointTrack(np.arange(10) / 30.0, np.zeros((10, 2, 5, 2)), np.ones((10, 2, 5)))
    seen: dict[str, object] = {}

    def fake_pose(path, progress, cancelled, cache_dir, crops=None):  # type: ignore[no-untyped-def]
        seen["path"], seen["cache"] = path, cache_dir
        progress(0.5)
        return track

    events = [
        FootEvent(Foot.LEFT, EventType.INITIAL_CONTACT, 3, 0.1, EventSource.MANUAL, 0.8),
        FootEvent(Foot.RIGHT, EventType.INITIAL_CONTACT, 12, 0.4, EventSource.MANUAL, 0.7),
    ]
    monkeypatch.setattr(pose, "run_pose", fake_pose)
    monkeypatch.setattr(
        contacts,
        "detect_contacts",
        lambda t: SimpleNamespace(events=events, direction="left", warnings=["short clip"]),
    )
    fractions: list[float] = []
    job = detection_job(
        tmp_path / "v.mp4",
        container_fps=30.0,
        capture_fps=120.0,
        frame_count=10,
        cache_dir=tmp_path,
    )
    result = job(fractions.append, lambda: False)
    assert seen == {"path": tmp_path / "v.mp4", "cache": tmp_path}
    assert [e.frame for e in result.proposals] == [3]  # frame 12 is outside the 10-frame clip
    assert all(e.source is EventSource.AUTOMATIC for e in result.proposals)
    assert result.direction == "left" and result.track.meta["direction"] == "left"
    assert result.track.meta["retimed"] and np.isclose(result.track.times[-1], 9 / 120.0)
    assert result.warnings == ["short clip"] and fractions[-1] == 1.0
