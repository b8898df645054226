"""Phone portrait video: pose keypoints must be in the picture as displayed (rotation applied)."""

from __future__ import annotations

from pathlib import Path

from app.analysis.pose import run_pose
from app.video import probe
from app.video.synthetic import write_clip


def test_pose_uses_display_orientation(tmp_path: Path) -> None:
    clip = write_clip(
        tmp_path / "portrait.mp4", n_frames=4, width=320, height=240, fps=30, rotation=90
    )
    info = probe(clip)
    track = run_pose(clip, max_frames=4)
    assert (track.meta["width"], track.meta["height"]) == (info.width, info.height) == (240, 320)


def test_cached_pose_is_found_without_running_the_model(tmp_path: Path) -> None:
    from app.analysis.pose import load_cached_pose

    clip = write_clip(tmp_path / "c.mp4", n_frames=5, width=160, height=120, fps=30)
    assert load_cached_pose(clip, tmp_path / "cache") is None
    run_pose(clip, cache_dir=tmp_path / "cache")
    cached = load_cached_pose(clip, tmp_path / "cache")
    assert cached is not None and cached.n_frames == 5


def test_a_clip_without_a_person_says_so(tmp_path: Path) -> None:
    import pytest

    from app.analysis.contacts import detect_contacts
    from app.analysis.errors import AnalysisError

    clip = write_clip(tmp_path / "empty scene.mp4", n_frames=6, width=160, height=120, fps=30)
    track = run_pose(clip)
    assert track.meta["detected_fraction"] == 0.0
    with pytest.raises(AnalysisError, match="No person was found"):
        detect_contacts(track)
