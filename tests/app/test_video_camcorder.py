"""Camcorder files step frame-exactly: H.264 in MPEG-TS and AVCHD .m2ts, MPEG-2 in .mpg and .ts.

These containers have no seek index, 33-bit timestamps that may start hours from zero or wrap
at 2^33, and (MPEG-2) open GOPs whose B-frames come after their keyframe in decode order.
Every clip is stamped with its frame number; each index must show its own stamp whichever way
it is reached (forward, backward, random jumps, and from the background cache).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from app import video
from app.video.probe import scan_index
from app.video.synthetic import read_stamp, write_clip
from tests.app.test_video_frame_server import _assert_exact, _routes

N = 60
W, H = 160, 120
TB = Fraction(1, 30)
TEN_HOURS = [10 * 3600 * 30 + i for i in range(N)]
# Starts one second before the 33-bit 90 kHz clock wraps (2^33 ticks = 26.5 h).
WRAP = [2**33 // 3000 - 30 + i for i in range(N)]
COPYTS = {"mpegts_copyts": "1"}  # keep the camcorder's own clock in the file

CLIPS = {
    # name: (file name, write_clip arguments)
    "h264-ts": ("h264.ts", {"gop": 20, "audio": "mp2"}),
    "h264-ts-10h": ("h264_10h.mts", {"gop": 20, "pts": TEN_HOURS, "format": "mpegts"}),
    "h264-m2ts-wrap": (
        "00001.m2ts",
        {"gop": 20, "pts": WRAP, "audio": "ac3", "options_c": {"mpegts_m2ts_mode": "1"}},
    ),
    "mpeg2-mpg": ("mpeg2.mpg", {"codec": "mpeg2video", "gop": 12, "audio": "mp2"}),
    "mpeg2-vob": ("mpeg2.vob", {"codec": "mpeg2video", "gop": 12, "format": "vob"}),
    "mpeg2-ts-wrap": ("mpeg2.ts", {"codec": "mpeg2video", "gop": 12, "pts": WRAP}),
}


def _write(folder: Path, name: str) -> Path:
    fname, kw = CLIPS[name]
    kw = dict(kw)
    copts = dict(kw.pop("options_c", {}))
    if "pts" in kw:
        kw["time_base"] = TB
        copts.update(COPYTS)
    return write_clip(
        folder / fname, n_frames=N, width=W, height=H, fps=30, container_options=copts, **kw
    )


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("camcorder")
    return {name: _write(folder, name) for name in CLIPS}


@pytest.mark.parametrize("name", list(CLIPS))
def test_probe_counts_frames_and_times(clips: dict[str, Path], name: str) -> None:
    info, index = scan_index(clips[name])
    assert info.frame_count == N and not info.is_truncated and info.incomplete_note is None
    assert info.container_fps == pytest.approx(30.0)
    assert index.byte_seek
    # The DVD muxer splits pictures across packs so that FFmpeg gives one picture the time
    # of its neighbour: duplicated timestamps are distrusted and frames are counted instead.
    assert index.synthetic == (name == "mpeg2-vob")
    # Times start at 0 and run at 1/30 s, across a 10 h offset or the 2^33 wrap alike.
    np.testing.assert_allclose(index.pts_s, np.arange(N) / 30, atol=1e-6)
    assert info.duration_s == pytest.approx(N / 30, abs=1e-6)


def test_clips_are_what_they_claim(clips: dict[str, Path]) -> None:
    """The generator really writes B-frames, 192-byte M2TS packets and a wrapped clock."""
    m2ts = clips["h264-m2ts-wrap"].read_bytes()
    assert len(m2ts) % 192 == 0 and m2ts[4] == m2ts[196] == 0x47  # 4-byte time code + TS
    for name in ("h264-ts", "mpeg2-mpg", "mpeg2-ts-wrap"):
        with av.open(str(clips[name])) as c:
            packets = [p for p in c.demux(c.streams.video[0]) if p.size]
            assert any(p.dts is not None and p.pts != p.dts for p in packets), name
            pts = [p.pts for p in packets]
            if name == "mpeg2-ts-wrap":  # FFmpeg unwraps: negative before the wrap
                assert min(pts) < 0 < max(pts)
    with av.open(str(clips["h264-ts-10h"])) as c:
        assert c.streams.video[0].start_time * c.streams.video[0].time_base > 35000


@pytest.mark.parametrize("name", list(CLIPS))
def test_every_frame_exact_by_seeking(clips: dict[str, Path], name: str) -> None:
    with video.open(clips[name], build_cache=False) as server:
        assert server.frame_count == N
        routes = _routes(server, N)
    _assert_exact(routes, N)


@pytest.mark.parametrize("name", ["h264-m2ts-wrap", "mpeg2-mpg", "mpeg2-ts-wrap"])
def test_cache_equals_seek_decode(clips: dict[str, Path], name: str) -> None:
    with video.open(clips[name]) as cached, video.open(clips[name], build_cache=False) as cold:
        assert cached.wait_cache(60) and cached.build_state == "complete"
        routes = _routes(cached, N)
        for i in (0, 1, 11, 12, 13, 29, 30, 59):
            assert np.array_equal(routes["forward"][i], cold.get(i, timeout=30)), i
    _assert_exact(routes, N)


@pytest.mark.parametrize("name", ["h264-ts-10h", "mpeg2-mpg", "mpeg2-ts-wrap"])
def test_back_to_the_first_frame_after_the_end(clips: dict[str, Path], name: str) -> None:
    """The reported bug: after indexing, seeking back to frame 0 returned nothing."""
    with video.open(clips[name], build_cache=False) as server:
        assert read_stamp(server.get(N - 1, timeout=30)) == N - 1
        assert read_stamp(server.get(0, timeout=30)) == 0
        assert read_stamp(server.get(N // 2, timeout=30)) == N // 2
        assert read_stamp(server.get(1, timeout=30)) == 1


@pytest.mark.parametrize("codec", ["mpeg2video", "libx264"])
def test_stream_cut_at_its_head_starts_at_the_next_keyframe(tmp_path: Path, codec: str) -> None:
    """A transport stream copied from mid-recording starts inside a GOP: those pictures cannot
    be decoded, so the video starts at the next keyframe and every index is still exact."""
    gop = 12 if codec == "mpeg2video" else 20
    p = write_clip(tmp_path / "full.ts", n_frames=N, width=W, height=H, codec=codec, gop=gop)
    with av.open(str(p)) as c:
        keys = [k.pos for k in c.demux(c.streams.video[0]) if k.size and k.is_keyframe]
    data = p.read_bytes()
    cut = (keys[1] - 188 * 30) // 188 * 188  # 30 TS packets into the first GOP's end
    q = tmp_path / "headcut.ts"
    q.write_bytes(data[cut:])
    with video.open(q, build_cache=False) as cold, video.open(q) as cached:
        n = cold.frame_count
        assert n == N - gop
        assert cached.wait_cache(60) and cached.frame_count == n
        for i in [*range(n), *reversed(range(n))]:
            assert read_stamp(cold.get(i, timeout=30)) == gop + i
            assert read_stamp(cached.get(i, timeout=30)) == gop + i
        assert cold.time_s(0) == 0.0 and cold.time_s(1) == pytest.approx(1 / 30)


def test_import_camcorder_file(clips: dict[str, Path], data_home: Path) -> None:
    result = video.import_video(clips["h264-m2ts-wrap"], data_home / "videos")
    assert result.path.suffix == ".m2ts" and result.info.frame_count == N
    assert result.note is None
    with video.open(result.path) as server:
        assert read_stamp(server.get(0, timeout=30)) == 0


def _remux_to_ts(src: Path, dst: Path, options: dict[str, str]) -> Path:
    """Copy the H.264 stream unchanged into a transport stream, as a camcorder stores it."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mpegts", options=options) as out:
        stream_in = inp.streams.video[0]
        stream_out = out.add_stream_from_template(stream_in)
        for packet in inp.demux(stream_in):
            if packet.dts is None:
                continue  # the demuxer's end-of-stream marker
            packet.stream = stream_out
            out.mux(packet)
    return dst


@pytest.mark.data
@pytest.mark.parametrize(
    ("name", "options"), [("run.ts", {}), ("run.m2ts", {"mpegts_m2ts_mode": "1"})]
)
def test_real_phone_clip_in_transport_stream_equals_mp4(
    shared_data: Path, tmp_path: Path, name: str, options: dict[str, str]
) -> None:
    """The sample phone recording, same bitstream in TS/M2TS: every frame identical to MP4."""
    src = shared_data / "treadmill_run_side_30fps.mp4"
    ts = _remux_to_ts(src, tmp_path / name, options)
    with video.open(src, build_cache=False) as ref, video.open(ts, build_cache=False) as cold:
        assert cold.frame_count == ref.frame_count == 360
        assert cold.info.container_fps == pytest.approx(30.0)
        assert cold.time_s(359) == pytest.approx(359 / 30, abs=1e-3)
        for i in (359, 0, 200, 1, 90, 89, 300, 0):
            assert np.array_equal(cold.get(i, timeout=60), ref.get(i, timeout=60)), i
