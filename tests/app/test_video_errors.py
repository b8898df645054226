"""Bad input never crashes or hangs: every failure is a VideoError with a plain message."""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import pytest

from app import video
from app.video.synthetic import read_stamp, write_clip

pytestmark = pytest.mark.timeout(60)


def _assert_plain(err: video.VideoError) -> None:
    msg = err.message
    assert msg and str(err) == msg
    for jargon in ("av.", "errno", "Traceback", "ffmpeg", "moov"):
        assert jargon not in msg


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(video.VideoNotFound) as ei:
        video.probe(tmp_path / "nope.mp4")
    _assert_plain(ei.value)
    with pytest.raises(video.VideoNotFound):
        video.open(tmp_path / "nope.mp4")


def test_zero_length(tmp_path: Path) -> None:
    p = tmp_path / "empty.mp4"
    p.write_bytes(b"")
    with pytest.raises(video.NotAVideo) as ei:
        video.open(p)
    assert "empty" in ei.value.message
    _assert_plain(ei.value)


def test_text_file_named_mp4(tmp_path: Path) -> None:
    p = tmp_path / "notes.mp4"
    p.write_text("Patient notes, not a video.\n" * 50, encoding="utf-8")
    with pytest.raises(video.NotAVideo) as ei:
        video.probe(p)
    _assert_plain(ei.value)


def test_random_garbage(tmp_path: Path) -> None:
    p = tmp_path / "garbage.mov"
    p.write_bytes(np.random.default_rng(0).integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    with pytest.raises(video.VideoError) as ei:
        video.open(p)
    _assert_plain(ei.value)


def test_folder_is_not_a_video(tmp_path: Path) -> None:
    with pytest.raises(video.NotAVideo):
        video.probe(tmp_path)


def test_audio_only(tmp_path: Path) -> None:
    p = tmp_path / "sound.mka"
    with av.open(str(p), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=8000)
        samples = np.zeros((1, 8000), dtype=np.int16)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    with pytest.raises(video.NotAVideo) as ei:
        video.probe(p)
    assert "sound" in ei.value.message
    _assert_plain(ei.value)


def test_truncated_mp4_without_index(tmp_path: Path) -> None:
    # A plain MP4 writes its index at the end: a cut-off recording cannot be opened at all.
    p = write_clip(tmp_path / "cut.mp4", n_frames=40)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(video.CorruptVideo) as ei:
        video.open(p)
    assert "incomplete" in ei.value.message
    assert ei.value.frames_readable == 0
    _assert_plain(ei.value)


@pytest.mark.parametrize(
    ("name", "opts"),
    [("cut.mkv", None), ("cut_fast.mp4", {"movflags": "faststart"}), ("cut.avi", None)],
)
def test_truncated_opens_readable_part(
    tmp_path: Path, name: str, opts: dict[str, str] | None
) -> None:
    codec = "mjpeg" if name.endswith(".avi") else "libx264"
    p = write_clip(tmp_path / name, n_frames=60, gop=20, codec=codec, container_options=opts)
    data = p.read_bytes()
    p.write_bytes(data[: int(len(data) * 0.55)])
    with video.open(p) as server:
        server.wait_cache(30)
        n = server.frame_count
        assert 5 < n < 60, n
        assert server.info.is_truncated or server.build_state == "truncated" or n < 60
        assert any("incomplete" in w for w in server.warnings)
        for i in (0, n // 2, n - 1):
            assert read_stamp(server.get(i, timeout=30)) == i


def test_absurd_frame_rate_asks_for_the_rate(tmp_path: Path) -> None:
    # 5000 fps is not believable for a clinic recording: header and timestamps are ignored.
    p = write_clip(tmp_path / "absurd.mp4", n_frames=10, fps=5000, bframes=False)
    info = video.probe(p)
    assert info.container_fps is None
    assert any("Frame rate" in w for w in info.warnings)
    with video.open(p) as server:
        assert read_stamp(server.get(9)) == 9  # frames still work
        with pytest.raises(video.AbsurdFrameRate) as ei:
            server.time_s(9)
        _assert_plain(ei.value)
        server.capture_fps = 240.0  # the clinician typed the rate
        assert server.time_s(9) == pytest.approx(9 / 240)
        assert server.times_s()[9] == pytest.approx(9 / 240)


def test_unreadable_permission(tmp_path: Path) -> None:
    if os.name != "posix" or os.geteuid() == 0:
        pytest.skip("permission bits are not enforced for root / on this OS")
    p = write_clip(tmp_path / "locked.mp4", n_frames=5)
    p.chmod(0)
    with pytest.raises(video.VideoError) as ei:
        video.probe(p)
    _assert_plain(ei.value)
