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
        run_pose(shared_data / "treadmill_run_side_30fps.mp4", cancelled=lambda: next(calls) >= 5)


def test_missing_video(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="not found"):
        run_pose(tmp_path / "none.mp4")


def test_skipped_frames_are_interpolated_not_across_gaps() -> None:
    from app.analysis.pose import _interpolate_skipped

    n = 9
    xy = np.full((n, 2, 5, 2), np.nan)
    conf = np.zeros((n, 2, 5))
    for i in (0, 2, 4, 8):  # frame 6 ran but found nobody
        xy[i] = i * 10.0
        conf[i] = 0.9
    out, c = _interpolate_skipped(xy, conf, 2)
    assert out[1, 0, 0, 0] == 10.0 and out[3, 1, 4, 1] == 30.0
    assert c[1, 0, 0] == pytest.approx(0.9)
    assert np.isnan(out[5]).all() and np.isnan(out[7]).all()  # next to the failed frame 6


def test_decoding_thread_stops_with_its_consumer(shared_data: Path, tmp_path: Path) -> None:
    """Frames are decoded ahead in a thread; a consumer that stops early (cancel, error) must not
    leave it running, and a file that cannot be opened is reported in the consumer."""
    import threading

    from app.analysis.pose import _decoded

    frames = _decoded(
        shared_data / "treadmill_run_side_30fps.mp4", lambda i: i % 2 == 0, None, (90, 160), 30.0
    )
    got = [next(frames) for _ in range(3)]
    assert [g[0] for g in got] == [0, 1, 2]
    assert got[0][2].shape == (160, 90, 3) and got[1][2] is None
    frames.close()
    assert not any(t.name == "pose-decode" and t.is_alive() for t in threading.enumerate())
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(AnalysisError):
        list(_decoded(bad, lambda i: True, None, (90, 160), 30.0))


def test_cached_track_keeps_its_plain_meta(tmp_path: Path) -> None:
    """A cached pose track keeps its frame rate, size, stride and dense-pass count (plain values
    only, read back as JSON), so a re-run reports what the first run did."""
    from app.analysis.keypoints import KeypointTrack, load_npz, save_npz

    track = KeypointTrack(np.arange(3) / 60.0, np.zeros((3, 2, 5, 2)))
    track.meta.update({"fps": 60.0, "stride": 2, "dense_frames": 7, "video": "a.mp4",
                       "bad": float("nan"), "obj": object()})  # fmt: skip
    save_npz(track, tmp_path / "t.pose.npz", "k1")
    back = load_npz(tmp_path / "t.pose.npz", "k1")
    assert back is not None
    assert {k: back.meta[k] for k in ("fps", "stride", "dense_frames", "video")} == {
        "fps": 60.0, "stride": 2, "dense_frames": 7, "video": "a.mp4"}  # fmt: skip
    assert "bad" not in back.meta and "obj" not in back.meta
    assert load_npz(tmp_path / "t.pose.npz", "other") is None
