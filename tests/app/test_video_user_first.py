"""The frame the clinician waits for goes first: before the pass, prefetch and encoders (#17)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from app import video
from app.video import frame_server as fs_mod
from app.video import outward
from app.video.budget import SHARED
from app.video.synthetic import read_stamp, write_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("user_first")
    return write_clip(folder / "gop.mp4", n_frames=240, width=320, height=240, gop=60)


def _open(clip: Path, cache: Path, **kw: object) -> video.FrameServer:
    return video.open(clip, memory_budget_mb=4, cache_dir=cache, **kw)


def test_the_pass_starts_after_the_first_frame_is_served(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nobody asks for a frame for 0.4 s: the pass would wait its full time.
    monkeypatch.setattr(outward, "FIRST_FRAME_WAIT_S", 30.0, raising=False)
    with _open(clip, tmp_path / "c") as server:
        time.sleep(0.4)  # the old pass stored frames from the start
        assert len(server._store) == 0
        assert read_stamp(server.get(0, timeout=30)) == 0
        assert server.wait_cache(60) and server.build_state == "complete"


def test_the_pass_starts_alone_when_no_frame_is_asked_for(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outward, "FIRST_FRAME_WAIT_S", 0.2)
    with _open(clip, tmp_path / "c") as server:
        assert server.wait_cache(60) and server.build_state == "complete"


def test_a_request_does_not_wait_for_the_prefetch_in_hand(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    blocked: list[int] = []
    produce = fs_mod.FrameServer._produce

    def slow_prefetch(self: fs_mod.FrameServer, n: int, urgent: bool = True):  # noqa: ANN202
        if not urgent:  # a prefetch that takes long (a JPEG decode on a busy machine)
            blocked.append(n)
            release.wait(30)
        return produce(self, n, urgent)

    monkeypatch.setattr(fs_mod.FrameServer, "_produce", slow_prefetch)
    server = video.open(clip, memory_budget_mb=4, build_cache=False)
    try:
        server.get(10, timeout=30)  # a seek: then frames 11, 12, ... are cheap, prefetch starts
        deadline = time.monotonic() + 10
        while len(blocked) < fs_mod.FETCH_THREADS and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(blocked) == fs_mod.FETCH_THREADS  # every fetcher is in a prefetch
        assert read_stamp(server.get(200, timeout=5)) == 200  # the old engine timed out
    finally:
        release.set()
        server.close()


def test_a_jump_is_stored_before_background_work_goes_on(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serving: dict[int, bool] = {}
    with video.open(clip, memory_budget_mb=4, build_cache=False) as server:
        server.get(0, timeout=30)
        put = server._store.put

        def watched_put(n: int, rgb: object) -> bool:
            serving.setdefault(n, SHARED.serving)
            return put(n, rgb)

        monkeypatch.setattr(server._store, "put", watched_put)
        target = 230
        assert read_stamp(server.get(target, timeout=30)) == target
    # Its JPEG encode ran while every pass and encoder waited (the old gate ended first).
    assert serving[target] is True


def test_encoder_work_waits_while_the_user_waits(clip: Path, tmp_path: Path) -> None:
    server = video.open(clip, memory_budget_mb=4, build_cache=False)
    try:
        frame = server.get(100, timeout=30).copy()
        n = 5  # not stored yet: only frame 100 was asked for
        assert n not in server._store
        with SHARED.interactive():  # as while another server decodes the user's jump
            # Any picture will do: this server and its store are thrown away.
            server._encode_later(n, lambda: frame)
            time.sleep(0.3)
            assert n not in server._store  # the old encoders stored it at once
        deadline = time.monotonic() + 10
        while n not in server._store and time.monotonic() < deadline:
            time.sleep(0.01)
        assert n in server._store
    finally:
        server.close()


def test_frame_0_is_the_picture_the_scan_decoded_and_the_same_image(clip: Path) -> None:
    with video.open(clip, memory_budget_mb=4, build_cache=False) as server:
        first = server.get(0, timeout=30).copy()
        assert server._seeker._iter is None  # served without a seek (the old engine sought)
    with video.open(clip, memory_budget_mb=4, build_cache=False) as other:
        other._opening = None  # the seek route
        again = other.get(0, timeout=30)
        assert other._seeker._iter is not None
    assert read_stamp(first) == 0
    assert np.array_equal(first, again)
