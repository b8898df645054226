"""FrameServer: frame-exact stepping from any direction, caching modes, threads, listeners."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import numpy as np
import pytest

from app import video
from app.video.synthetic import read_stamp, write_clip

N = 90


@pytest.fixture(scope="module")
def long_gop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 90 frames, keyframes every 40 (frames 0, 40, 80) and B-frames: seeks must decode forward.
    return write_clip(tmp_path_factory.mktemp("v") / "gop.mp4", n_frames=N, gop=40)


def _routes(server: video.FrameServer, n_frames: int) -> dict[str, dict[int, np.ndarray]]:
    rng = random.Random(3)
    fwd = {i: server.get(i, timeout=30).copy() for i in range(n_frames)}
    bwd = {i: server.get(i, timeout=30).copy() for i in reversed(range(n_frames))}
    jumps = {}
    for i in rng.sample(range(n_frames), n_frames):
        jumps[i] = server.get(i, timeout=30).copy()
    return {"forward": fwd, "backward": bwd, "jump": jumps}


def _assert_exact(routes: dict[str, dict[int, np.ndarray]], n_frames: int) -> None:
    for i in range(n_frames):
        imgs = [r[i] for r in routes.values()]
        assert read_stamp(imgs[0]) == i, f"frame {i} shows frame {read_stamp(imgs[0])}"
        for other in imgs[1:]:
            assert np.array_equal(imgs[0], other), f"frame {i} differs between routes"


def test_exact_without_cache_seek_route(long_gop: Path) -> None:
    """Pure keyframe-seek + decode-forward path (no background pass)."""
    with video.open(long_gop, build_cache=False) as server:
        assert server.frame_count == N
        routes = _routes(server, N)
    _assert_exact(routes, N)


def test_exact_raw_cache_equals_seek_decode(long_gop: Path) -> None:
    with video.open(long_gop) as cached, video.open(long_gop, build_cache=False) as uncached:
        assert cached.wait_cache(30)
        assert cached.build_state == "complete" and cached.cache_progress() == 1.0
        routes = _routes(cached, N)
        # The store holds exact decodes: bit-identical to a fresh seek-decode.
        for i in (0, 1, 39, 40, 41, 79, 89):
            assert np.array_equal(routes["forward"][i], uncached.get(i, timeout=30))
    _assert_exact(routes, N)


def test_exact_jpeg_store_and_while_building(long_gop: Path) -> None:
    # 320x240 RGB is 0.23 MB a frame: 12 MB cannot hold 90 raw frames, so frames go to JPEG.
    with video.open(long_gop, memory_budget_mb=12) as server:
        assert not server._store.raw
        routes = _routes(server, N)  # starts while the builder is still running
        server.wait_cache(30)
        again = _routes(server, N)
    _assert_exact({**routes, **{f"{k}2": v for k, v in again.items()}}, N)


def test_tiny_budget_still_works(long_gop: Path) -> None:
    with video.open(long_gop, memory_budget_mb=1) as server:
        server.wait_cache(30)
        assert server.build_state == "budget_exhausted"
        assert server.cache_progress() < 1.0
        assert any("Memory budget" in w for w in server.warnings)
        for i in (89, 3, 60, 59, 58, 0, 41):
            assert read_stamp(server.get(i, timeout=30)) == i


def test_frames_are_rgb_readonly_contiguous(long_gop: Path) -> None:
    with video.open(long_gop) as server:
        f = server.get(7)
        assert f.dtype == np.uint8 and f.shape == (240, 320, 3) and f.flags["C_CONTIGUOUS"]
        assert not f.flags.writeable
        # Colour order: the generator's red channel ramps with x, blue is offset from it.
        assert f[200, 100, 0] != f[200, 100, 2]


def test_try_get_schedules_and_notifies(long_gop: Path) -> None:
    ready = threading.Event()
    seen: list[int] = []

    def on_ready(n: int) -> None:
        seen.append(n)
        ready.set()

    with video.open(long_gop, build_cache=False) as server:
        server.add_listener(on_ready)
        first = server.try_get(77)
        if first is None:
            assert ready.wait(30)
            assert 77 in seen
        assert server.is_ready(77)
        assert read_stamp(server.try_get(77)) == 77


def test_prefetch_fills_direction_of_travel(long_gop: Path) -> None:
    with video.open(long_gop, memory_budget_mb=12) as server:  # JPEG store + LRU
        server.wait_cache(30)
        server.get(50)
        server.set_position_hint(50, direction=-1, step=5)
        for _ in range(300):
            if server.is_ready(45) and server.is_ready(40):
                break
            threading.Event().wait(0.01)
        assert server.is_ready(45) and server.is_ready(40)


def test_progress_and_cancel(long_gop: Path) -> None:
    values: list[float] = []
    with video.open(long_gop, progress=values.append) as server:
        server.wait_cache(30)
    assert values and values[-1] == 1.0 and values == sorted(values)

    holder: dict[str, video.FrameServer] = {}
    started = threading.Event()

    def cancel_at_once(_f: float) -> None:
        started.wait(5)
        holder["s"].cancel_caching()

    server = video.FrameServer(long_gop, progress=cancel_at_once)
    holder["s"] = server
    started.set()
    try:
        assert server.wait_cache(30)
        assert server.build_state == "cancelled"
        assert read_stamp(server.get(85, timeout=30)) == 85  # still usable via seeking
    finally:
        server.close()


def test_close_stops_threads_and_is_idempotent(long_gop: Path) -> None:
    server = video.open(long_gop)
    server.get(10)
    server.close()
    assert not server.threads_alive()
    server.close()
    assert server.closed
    with pytest.raises(video.VideoError):
        server.get(0)


def test_index_out_of_range(long_gop: Path) -> None:
    with video.open(long_gop, build_cache=False) as server:
        with pytest.raises(IndexError):
            server.get(N)
        with pytest.raises(IndexError):
            server.get(-1)


@pytest.mark.parametrize("ext", ["avi", "mkv"])
def test_mjpeg_exact(tmp_path: Path, ext: str) -> None:
    p = write_clip(tmp_path / f"m.{ext}", n_frames=30, codec="mjpeg")
    with video.open(p, build_cache=False) as server:
        _assert_exact(_routes(server, 30), 30)


def test_mkv_h264_exact(tmp_path: Path) -> None:
    p = write_clip(tmp_path / "g.mkv", n_frames=50, gop=20)
    with video.open(p, build_cache=False) as server:
        _assert_exact(_routes(server, 50), 50)


@pytest.mark.data
def test_sample_clip_stepping(shared_data: Path) -> None:
    path = shared_data / "treadmill_run_side_30fps.mp4"
    with video.open(path) as server, video.open(path, build_cache=False) as seeker:
        assert server.frame_count == 360
        assert server.info.container_fps == pytest.approx(30.0)
        assert server.time_s(359) == pytest.approx(359 / 30, abs=1e-3)
        assert server.get(0).shape == (1280, 720, 3)
        server.wait_cache(60)
        assert server.build_state == "complete"
        # Same image for a frame reached by the cache, by stepping back and by a cold seek.
        for i in (200, 201, 199, 359, 0):
            a = server.get(i)
            assert np.array_equal(a, seeker.get(i, timeout=30))
        assert not np.array_equal(server.get(200), server.get(201))


def test_jpeg_store_keeps_colours(long_gop: Path) -> None:
    """The JPEG store must give back the decoded picture (same channel order, small error)."""
    with video.open(long_gop) as raw, video.open(long_gop, memory_budget_mb=12) as jpeg:
        assert raw._store.raw and not jpeg._store.raw
        jpeg.wait_cache(30)
        for i in (0, 45, 89):
            a, b = raw.get(i).astype(int), jpeg.get(i).astype(int)
            assert np.abs(a - b).mean() < 6.0
            # A swapped red/blue would fail this: the channels differ by far more.
            assert np.abs(a[..., 0] - b[..., 0]).mean() < np.abs(a[..., 0] - a[..., 2]).mean()


def test_cache_stats(long_gop: Path) -> None:
    with video.open(long_gop) as server:
        server.wait_cache(30)
        stats = server.cache_stats()
        assert stats["mode"] == "raw" and stats["frames_stored"] == N
        assert stats["state"] == "complete" and stats["store_mb"] > 0


def test_seek_passes_over_unneeded_pictures_without_changing_any(long_gop: Path) -> None:
    """A seek lets the decoder drop non-reference pictures before the frames it keeps; every
    picture it still returns is bit-identical to a full decode (frame-exact)."""
    from app.video import decoder
    from app.video.probe import scan_index

    info, index = scan_index(long_gop)
    full, fast = (decoder.SeekDecoder(long_gop, index, info.rotation) for _ in range(2))
    try:
        for n in (39, 79, 85, 12):
            decoder.SKIP_UNNEEDED = False
            want = full.decode(n, keep_from=n - 5)
            full._iter = None  # a fresh seek each time
            decoder.SKIP_UNNEEDED = True
            got = fast.decode(n, keep_from=n - 5)
            fast._iter = None
            assert sorted(got) == sorted(want) == list(range(n - 5, n + 1))
            for i in got:
                assert np.array_equal(got[i], want[i]) and read_stamp(got[i]) == i
        assert fast.skipped > 0 and full.skipped == 0
    finally:
        decoder.SKIP_UNNEEDED = True
        full.close()
        fast.close()


def test_a_jump_ahead_in_the_same_gop_reads_on_without_seeking(tmp_path: Path) -> None:
    """Scrubbing forward inside one long GOP: the decoder goes on from where it is (a seek back
    to the keyframe would decode those frames again), and the frames are the same."""
    from app.video import decoder
    from app.video.probe import scan_index

    clip = write_clip(tmp_path / "g.mp4", n_frames=200, width=320, height=240, gop=200)
    info, index = scan_index(clip)
    dec = decoder.SeekDecoder(clip, index, info.rotation)
    fresh = decoder.SeekDecoder(clip, index, info.rotation)
    seeks: list[int | None] = []
    seek = dec._seek
    dec._seek = lambda key: seeks.append(key) or seek(key)  # type: ignore[method-assign]
    try:
        dec.decode(5)
        got = dec.decode(
            5 + 2 * decoder.FORWARD_READ_LIMIT, keep_from=5 + decoder.FORWARD_READ_LIMIT
        )
        assert seeks == [0]  # only the first request sought (the old decoder sought twice)
        n = 5 + 2 * decoder.FORWARD_READ_LIMIT
        want = fresh.decode(n, keep_from=n - decoder.FORWARD_READ_LIMIT)
        assert sorted(got) == sorted(want)
        for i in got:
            assert np.array_equal(got[i], want[i]) and read_stamp(got[i]) == i
    finally:
        dec.close()
        fresh.close()
