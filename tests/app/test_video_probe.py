"""probe(): sizes, rates, timestamps, capture frame rate and rotation of generated clips."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from app import video
from app.video.probe import guess_capture_fps, scan_index
from app.video.synthetic import read_stamp, stamp_frame, write_clip


def test_stamp_round_trip() -> None:
    for i in (0, 1, 2, 255, 1000, 65535):
        assert read_stamp(stamp_frame(i, 320, 240)) == i


def test_h264_long_gop(tmp_path: Path) -> None:
    p = write_clip(tmp_path / "a.mp4", n_frames=40, fps=30, gop=250)
    info, index = scan_index(p)
    assert (info.codec, info.width, info.height, info.rotation) == ("h264", 320, 240, 0)
    assert info.frame_count == 40
    assert info.container_fps == pytest.approx(30.0)
    assert info.duration_s == pytest.approx(40 / 30, abs=1e-6)
    assert not info.is_vfr and not info.is_truncated
    assert len(index.keyframe_pts) == 1  # one GOP: every other frame needs the keyframe
    np.testing.assert_allclose(index.pts_s, np.arange(40) / 30, atol=1e-4)


def test_h264_clips_really_have_b_frames(tmp_path: Path) -> None:
    """Stepping tests rely on decode order differing from display order."""
    p = write_clip(tmp_path / "b.mp4", n_frames=20, gop=10)
    with av.open(str(p)) as c:
        packets = [k for k in c.demux(c.streams.video[0]) if k.size]
    assert sum(k.pts != k.dts for k in packets) > 5
    assert [k.pts for k in packets] != sorted(k.pts for k in packets)
    with video.open(p, build_cache=False) as server:
        for i in (19, 0, 10, 9, 1):
            assert read_stamp(server.get(i, timeout=30)) == i


@pytest.mark.parametrize("ext", ["avi", "mkv"])
def test_mjpeg_containers(tmp_path: Path, ext: str) -> None:
    info = video.probe(write_clip(tmp_path / f"m.{ext}", n_frames=12, codec="mjpeg"))
    assert info.codec == "mjpeg" and info.frame_count == 12
    assert info.container_fps == pytest.approx(30.0)


def test_hevc(tmp_path: Path) -> None:
    if "libx265" not in av.codecs_available:
        pytest.skip("this PyAV build has no HEVC encoder to make a test clip")
    info = video.probe(write_clip(tmp_path / "h.mp4", n_frames=12, codec="libx265"))
    assert info.codec == "hevc" and info.frame_count == 12


def test_variable_frame_rate_timestamps(tmp_path: Path) -> None:
    pts = [0, 1000, 2000, 3500, 4000, 6000, 6500, 7000]
    p = write_clip(tmp_path / "vfr.mp4", n_frames=8, pts=pts, time_base=Fraction(1, 30000), fps=30)
    info, index = scan_index(p)
    assert info.is_vfr
    np.testing.assert_allclose(index.pts_s, np.array(pts) / 30000, atol=1e-6)
    with video.open(p) as server:
        # Frame 5 sits at 0.2 s, not 5/30 = 0.1667 s: real timestamps, not index/fps.
        assert server.time_s(5) == pytest.approx(0.2, abs=1e-6)
        assert read_stamp(server.get(5)) == 5


def test_android_slow_motion_tag(tmp_path: Path) -> None:
    p = write_clip(
        tmp_path / "slomo.mp4",
        n_frames=24,
        fps=30,
        container_metadata={"com.android.capture.fps": "240.000000"},
    )
    info = video.probe(p)
    assert info.container_fps == pytest.approx(30.0)
    assert info.capture_fps_guess == pytest.approx(240.0)
    assert "com.android.capture.fps" in info.capture_fps_source
    with video.open(p) as server:
        assert server.capture_fps == pytest.approx(240.0)
        # 8x slow motion: frame 16 is 16/240 s of real time, though it plays at 16/30 s.
        assert server.pts_s(16) == pytest.approx(16 / 30, abs=1e-4)
        assert server.time_s(16) == pytest.approx(16 / 240, abs=1e-4)
        np.testing.assert_allclose(server.times_s(), np.arange(24) / 240, atol=1e-4)
    with video.open(p, capture_fps=120) as server:  # the clinician's edit wins
        assert server.time_s(12) == pytest.approx(0.1, abs=1e-4)


def test_high_speed_file_is_its_own_capture_rate(tmp_path: Path) -> None:
    info = video.probe(write_clip(tmp_path / "hs.mp4", n_frames=10, fps=240))
    assert info.capture_fps_guess == pytest.approx(240.0)


def test_plain_file_has_no_capture_guess(tmp_path: Path) -> None:
    info = video.probe(write_clip(tmp_path / "plain.mp4", n_frames=5, fps=30))
    assert info.capture_fps_guess is None
    with video.open(info.path) as server:
        assert server.time_s(3) == pytest.approx(0.1, abs=1e-4)


@pytest.mark.parametrize(
    ("meta", "fps", "expected"),
    [
        ({"com.android.capture.fps": "120.0"}, 30.0, 120.0),
        ({"com.apple.quicktime.full-frame-rate-playback-intent": "1"}, 240.0, 240.0),
        ({"vendor.capture_frame_rate": "960"}, 30.0, 960.0),
        ({"com.android.capture.fps": "nonsense"}, 30.0, None),
        ({"com.android.capture.fps": "1e9"}, 30.0, None),
        ({}, 60.0, None),
        ({}, 120.0, 120.0),
    ],
)
def test_guess_capture_fps(meta: dict[str, str], fps: float, expected: float | None) -> None:
    got, source = guess_capture_fps(meta, fps)
    assert got == (pytest.approx(expected) if expected is not None else None)
    assert source


def test_real_time_formula() -> None:
    pts = np.array([0.0, 1 / 30, 2 / 30])
    np.testing.assert_allclose(video.real_time_s(pts, 30.0, 240.0), [0, 1 / 240, 2 / 240])
    np.testing.assert_allclose(video.real_time_s(pts, 30.0, None), pts)


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_rotation_applied(tmp_path: Path, rotation: int) -> None:
    p = write_clip(tmp_path / f"rot{rotation}.mp4", n_frames=6, rotation=rotation)
    info = video.probe(p)
    k = (rotation // 90) % 4
    assert info.rotation == k * 90
    expect_hw = (320, 240) if k % 2 else (240, 320)
    assert (info.height, info.width) == expect_hw
    with video.open(p) as server:
        frame = server.get(4)
        assert frame.shape == (*expect_hw, 3) and frame.flags["C_CONTIGUOUS"]
        # Undo the display rotation: the stamp must read back as frame 4.
        assert read_stamp(np.rot90(frame, -k)) == 4


def test_sample_clip_reports_portrait(shared_data: Path) -> None:
    path = shared_data / "treadmill_run_side_30fps.mp4"
    info = video.probe(path)
    # The stream itself is stored portrait (720x1280) with no rotation tag.
    assert (info.width, info.height, info.rotation) == (720, 1280, 0)
    assert info.frame_count == 360
    assert info.container_fps == pytest.approx(30.0)


def test_app_video_imports_no_qt() -> None:
    code = (
        "import sys, app.video, app.video.frame_server, app.video.importing, "
        "app.video.synthetic; bad = [m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'pyqtgraph', 'ui')]; assert not bad, bad"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, timeout=60)
