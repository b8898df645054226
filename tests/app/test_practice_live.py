"""The analysis thread and its camera tap, the real-rate file camera, the spliced test clip."""

from __future__ import annotations

import time
from pathlib import Path

import av
import numpy as np
import pytest

from app.capture.errors import CameraDisconnectedError
from app.capture.fakes import RealRateFileSource
from app.capture.packets import CameraFormat, FramePacket
from app.capture.sources import SyntheticSource
from app.practice.footage import FootageError, splice_retimed
from app.practice.live import LiveAnalysis, TapSource, small_grey


def _tiny_clip(path: Path, n: int = 12, fps: int = 30) -> Path:
    with av.open(str(path), "w") as out:
        st = out.add_stream("mpeg4", rate=fps)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        for k in range(n):
            img = np.full((48, 64, 3), (k * 20) % 255, np.uint8)
            for pkt in st.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    return path


def test_splice_and_real_rate_playback(tmp_path: Path) -> None:
    clip = splice_retimed(_tiny_clip(tmp_path / "a.mp4"), tmp_path / "s.mkv", 1.2)
    assert clip.frames_per_part == 12 and clip.change_s == pytest.approx(0.4)
    src = RealRateFileSource(clip.path, realtime=False)
    fmt = src.open()
    assert fmt.pixel_format == "MJPG"
    t0 = None
    times = []
    while True:
        try:
            p = src.read()
        except CameraDisconnectedError:
            break
        t0 = p.timestamp_ns if t0 is None else t0
        times.append((p.timestamp_ns - t0) / 1e9)
        assert p.jpeg is not None and small_grey(p).shape == (48, 64)
    assert len(times) == 24 and src.delivered == 24
    gaps = np.diff(times)
    assert np.allclose(gaps[:11], 1 / 30, atol=0.0015)  # millisecond time base
    assert np.allclose(gaps[12:], 1 / 36, atol=0.0015)  # 1.2× faster


def test_looping_file_camera_continues_the_time_line(tmp_path: Path) -> None:
    src = RealRateFileSource(_tiny_clip(tmp_path / "a.mp4", n=5), loop=True, realtime=False)
    src.open()
    ts = [src.read().timestamp_ns for _ in range(12)]
    assert np.all(np.diff(ts) > 0)
    assert np.allclose(np.diff(ts) / 1e9, 1 / 30, atol=0.002)


def test_real_rate_source_paces_in_real_time(tmp_path: Path) -> None:
    src = RealRateFileSource(_tiny_clip(tmp_path / "a.mp4", n=9), realtime=True)
    src.open()
    start = time.monotonic()
    for _ in range(9):
        src.read()
    assert time.monotonic() - start == pytest.approx(8 / 30, abs=0.08)


def test_splice_refuses_bad_input(tmp_path: Path) -> None:
    with pytest.raises(FootageError):
        splice_retimed(tmp_path / "missing.mp4", tmp_path / "x.mkv")
    with pytest.raises(FootageError):
        splice_retimed(tmp_path / "missing.mp4", tmp_path / "x.mkv", factor=5.0)


def test_tap_feeds_every_frame_to_the_analysis() -> None:
    analysis = LiveAnalysis()
    analysis.start()
    try:
        tap = TapSource(SyntheticSource(320, 180, 60), analysis)  # a real-time 60 fps camera
        tap.open()
        for _ in range(90):
            tap.read()
        assert analysis.wait_idle(5)
        snap = analysis.snapshot()
        assert snap.stats.delivered == 90 and snap.stats.analysed == 90 and snap.stats.skipped == 0
        assert snap.estimate is not None and snap.version >= 1
        tap.close()
    finally:
        analysis.stop()


def test_full_queue_drops_the_oldest_and_counts_it() -> None:
    analysis = LiveAnalysis(queue_frames=4)  # not started: nothing is taken off the queue
    for k in range(10):
        analysis.offer(FramePacket(k, k * 33_000_000, 8, 8, image=np.zeros((8, 8, 3), np.uint8)))
    assert analysis.skipped == 6 and analysis.delivered == 10


def test_fast_cameras_are_analysed_at_a_reduced_rate() -> None:
    analysis = LiveAnalysis(max_fps=60)
    analysis.set_format(CameraFormat(1280, 720, 120.0))
    assert analysis.decimation == 2
    analysis.set_format(CameraFormat(1280, 720, 240.0))
    assert analysis.decimation == 4
    analysis.set_format(CameraFormat(1280, 720, 60.0))
    assert analysis.decimation == 1
    analysis.set_format(CameraFormat(1280, 720, 120.0))
    for k in range(10):
        analysis.offer(FramePacket(k, k, 8, 8, image=np.zeros((8, 8, 3), np.uint8)))
    assert analysis.delivered == 10 and len(analysis._queue) == 5


