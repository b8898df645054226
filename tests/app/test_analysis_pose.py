from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.analysis.errors import AnalysisError
from app.analysis.pose import PoseStats, run_pose


@pytest.mark.slow
def test_pose_on_first_frames_and_cache(shared_data: Path, tmp_path: Path) -> None:
    video = shared_data / "treadmill_run_side_30fps.mp4"
    seen: list[float] = []
    stats: list[PoseStats] = []
    track = run_pose(video, progress=seen.append, cache_dir=tmp_path, max_frames=60, stats=stats)
    assert track.n_frames == 60
    assert track.meta["detected_fraction"] > 0.9
    # Full-resolution pixels: the portrait clip is 720 wide, 1280 high; feet in the lower half.
    feet_y = np.nanmedian(track.xy[:, :, 3:, 1])
    assert 640 < feet_y < 1280
    assert seen and seen[-1] == 1.0
    again = run_pose(video, cache_dir=tmp_path, max_frames=60, stats=stats)
    assert stats[-1].from_cache
    np.testing.assert_allclose(again.xy, track.xy)


@pytest.mark.slow
def test_pose_cancel(shared_data: Path) -> None:
    calls = iter(range(1000))
    with pytest.raises(AnalysisError, match="cancelled"):
        run_pose(shared_data / "treadmill_run_side_30fps.mp4", cancel=lambda: next(calls) >= 5)


def test_missing_video(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="not found"):
        run_pose(tmp_path / "none.mp4")
