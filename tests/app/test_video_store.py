"""The disk-backed frame store: same image by every route, invalidation, damage, eviction, space."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from app import video
from app.db.models import Recording
from app.video import store as store_mod
from app.video.store import LOW_DISK_NOTE, DiskStore, evict, store_files, store_folder
from app.video.synthetic import read_stamp, write_clip

N = 90
BUDGET_MB = 4  # far below the clip's raw size: JPEG in memory, the rest on disk


@pytest.fixture()
def clip(tmp_path: Path) -> Path:
    # Keyframes at 0, 40, 80 with B-frames.
    return write_clip(tmp_path / "gop.mp4", n_frames=N, gop=40)


def _all(server: video.FrameServer, order: list[int]) -> dict[int, np.ndarray]:
    return {i: server.get(i, timeout=30).copy() for i in order}


def _open(clip: Path, cache: Path, **kw: object) -> video.FrameServer:
    return video.open(clip, memory_budget_mb=BUDGET_MB, cache_dir=cache, **kw)


def test_same_image_from_memory_disk_and_seek(clip: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with _open(clip, cache) as first:
        assert not first._store.raw and first._store.disk is not None
        while_building = _all(first, list(reversed(range(N))))
        assert first.wait_cache(60) and first.build_state == "complete"
        after = _all(first, list(range(N)))
    assert (store_folder(cache, clip) / "frames.bin").stat().st_size > 0
    # Reopened: every frame comes from disk (the pass finds nothing to do).
    with _open(clip, cache) as again:
        assert len(again._store) == N
        from_disk = _all(again, list(range(0, N, 3)) + list(range(N - 1, -1, -1)))
    for i in range(N):
        assert read_stamp(after[i]) == i
        assert np.array_equal(while_building[i], after[i])
        assert np.array_equal(from_disk[i], after[i])


def test_a_changed_file_empties_its_store(clip: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with _open(clip, cache) as server:
        assert server.wait_cache(60)
    disk = DiskStore.open(cache, clip, N, "jpeg_q90")
    assert disk is not None and disk.count() == N
    disk.close()
    st = clip.stat()
    os.utime(clip, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    disk = DiskStore.open(cache, clip, N, "jpeg_q90")
    assert disk is not None and disk.count() == 0
    disk.close()


def test_damaged_store_is_rebuilt_silently(clip: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with _open(clip, cache) as server:
        assert server.wait_cache(60)
        good = _all(server, list(range(N)))
    data = store_folder(cache, clip) / "frames.bin"
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2 : len(raw) // 2 + 4096] = b"\x00" * 4096  # a damaged stretch
    data.write_bytes(bytes(raw))
    with _open(clip, cache) as server:
        got = _all(server, list(range(N)))
    assert all(read_stamp(got[i]) == i for i in range(N))
    assert all(np.array_equal(got[i], good[i]) for i in range(N))  # JPEG is deterministic
    (store_folder(cache, clip) / "index.npy").write_bytes(b"not an index")
    with _open(clip, cache) as server:
        assert len(server._store) == 0  # started again
        assert read_stamp(server.get(50, timeout=30)) == 50
        assert server.wait_cache(60) and server.build_state == "complete"


def test_eviction_removes_least_recently_used_closed_stores(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    clips = [write_clip(tmp_path / f"c{i}.mp4", n_frames=30, gop=10) for i in range(3)]
    for i, c in enumerate(clips):
        with video.open(c, memory_budget_mb=1, cache_dir=cache) as s:
            assert s.wait_cache(60)
        meta = store_folder(cache, c) / "meta.json"
        os.utime(meta, (1000.0 + i, 1000.0 + i))  # c0 least recently used
    sizes = [sum(p.stat().st_size for p in store_folder(cache, c).iterdir()) for c in clips]
    held = DiskStore.open(cache, clips[0], 30, "jpeg_q90")  # open: never evicted
    assert held is not None
    left = evict(cache, sizes[0] + sizes[2] + 1)
    held.close()
    assert store_folder(cache, clips[0]).is_dir()
    assert not store_folder(cache, clips[1]).exists()
    assert store_folder(cache, clips[2]).is_dir()
    assert left <= sizes[0] + sizes[2] + 1


def test_low_disk_falls_back_to_decoding(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_mod, "disk_margin", lambda folder: 1 << 62)
    monkeypatch.setattr(video.frame_server, "disk_margin", lambda folder: 1 << 62)
    cache = tmp_path / "cache"
    with _open(clip, cache) as server:
        assert LOW_DISK_NOTE in server.warnings
        assert server._store.disk is None
        got = _all(server, list(reversed(range(N))) + list(range(N)))
        again = _all(server, list(range(N)))
    assert all(read_stamp(got[i]) == i and np.array_equal(got[i], again[i]) for i in range(N))
    assert not store_folder(cache, clip).exists()


def test_disk_filling_up_while_writing_stops_the_store(clip: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with _open(clip, cache, build_cache=False) as server:
        disk = server._store.disk
        assert disk is not None
        disk._checked_space_at = 0
        real = store_mod.disk_margin
        store_mod.disk_margin = lambda folder: 1 << 62  # type: ignore[assignment]
        try:
            served = {i: server.get(i, timeout=30).copy() for i in range(N - 1, -1, -1)}
        finally:
            store_mod.disk_margin = real  # type: ignore[assignment]
        assert not disk.writable and disk.note == LOW_DISK_NOTE
        again = {i: server.get(i, timeout=30).copy() for i in range(N)}
    assert all(np.array_equal(served[i], again[i]) and read_stamp(again[i]) == i for i in range(N))


def test_backward_step_keeps_the_gop(clip: Path, tmp_path: Path) -> None:
    with _open(clip, tmp_path / "cache", build_cache=False) as server:
        seeks: list[int] = []
        real = server._seeker.decode

        def counting(n: int, *a: object, **kw: object) -> dict[int, np.ndarray]:
            seeks.append(n)
            return real(n, *a, **kw)

        server._seeker.decode = counting  # type: ignore[method-assign]
        assert read_stamp(server.get(79, timeout=30)) == 79
        for i in range(78, 46, -1):  # 32 steps back through the GOP 40..79
            assert read_stamp(server.get(i, timeout=30)) == i
            time.sleep(0.01)
        # Only the first step paid; later decodes are the prefetcher reading on past 79.
        assert seeks[0] == 79 and all(n > 79 for n in seeks[1:])


def test_pass_starts_where_the_clinician_is(clip: Path, tmp_path: Path) -> None:
    snapshots: list[np.ndarray] = []
    lock = threading.Lock()
    holder: list[video.FrameServer] = []

    def progress(_f: float) -> None:
        with lock:
            if holder:
                snapshots.append(holder[0]._store.have().copy())

    server = _open(clip, tmp_path / "cache", progress=progress)
    holder.append(server)
    try:
        server.set_position_hint(85, direction=-1)
        server.get(85, timeout=30)
        assert server.wait_cache(60) and server.build_state == "complete"
    finally:
        server.close()
    last_done = next(k for k, h in enumerate(snapshots) if h[80:].all())
    middle_done = next(k for k, h in enumerate(snapshots) if h[40:80].all())
    assert last_done <= middle_done


def test_open_recordings_share_the_budget(clip: Path, tmp_path: Path) -> None:
    from app.video.budget import SHARED

    budget = 40 * 2**20  # ~1 MB frames at 640x480: a few dozen frames' worth
    big = write_clip(tmp_path / "big.mp4", n_frames=120, width=640, height=480, gop=40)
    with video.open(big, memory_budget_mb=40) as one:
        lru_alone, store_alone = one._lru.capacity, one._store_budget_now()
        with video.open(clip, memory_budget_mb=40, cache_dir=tmp_path / "b") as two:
            assert SHARED.count() == 2
            # The first one's working set and store memory shrank to make room.
            assert one._lru.capacity < lru_alone
            assert one._store_budget_now() < store_alone
            for n in range(0, 120, 7):
                one.get(n, timeout=30)
                two.get(n % N, timeout=30)
            one.wait_cache(60)
            two.wait_cache(60)
            overheads = sum(SHARED._overhead(s) for s in (one, two))
            held = sum(s.store_used() + s._lru.capacity * s.frame_bytes for s in (one, two))
            assert held <= budget - overheads
        assert SHARED.count() == 1
        assert one._lru.capacity == lru_alone  # given back when the other closed
        assert one._store_budget_now() == store_alone


def test_two_servers_of_one_file_share_one_disk_store(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "one.mp4", n_frames=150, width=320, height=240, gop=30)
    cache = tmp_path / "cache"
    a = _open(clip, cache)
    b = _open(clip, cache)
    try:
        assert a._store.disk is b._store.disk is not None
        assert a._store.disk.users == 2
        b.set_position_hint(140, direction=-1)
        b.get(140, timeout=30)  # the two passes start at opposite ends
        assert a.wait_cache(60) and b.wait_cache(60)
        for n in range(0, 150, 3):
            img_a, img_b = a.get(n, timeout=30), b.get(n, timeout=30)
            assert read_stamp(img_a) == n and np.array_equal(img_a, img_b)
    finally:
        a.close()
        assert b._store.disk.users == 1  # still open for the other
        b.close()
    # Reopened alone: every image on disk intact (none written over by the other server).
    with _open(clip, cache) as again:
        assert len(again._store) == 150
        for n in range(150):
            blob = again._store.disk.get(n)
            assert blob is not None, f"frame {n} damaged on disk"
            assert read_stamp(again.get(n, timeout=30)) == n


def test_a_user_seek_pauses_every_servers_background_work(tmp_path: Path) -> None:
    from app.video.budget import SHARED

    clip = write_clip(tmp_path / "p.mp4", n_frames=400, width=320, height=240, gop=40)
    with _open(clip, tmp_path / "c") as server:
        server.get(0, timeout=30)
        with SHARED.interactive():  # as while another server decodes the user's jump
            time.sleep(0.3)  # the pass reaches its next pause point
            before = len(server._store)
            time.sleep(0.6)
            assert len(server._store) == before  # paused
            assert server.build_state == "building"
        assert server.wait_cache(60) and server.build_state == "complete"


def test_close_stops_the_pass_at_once(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "long.mp4", n_frames=600, width=640, height=360, gop=120)
    server = video.open(clip, memory_budget_mb=8, cache_dir=tmp_path / "cache")
    server.get(300, timeout=30)
    t0 = time.perf_counter()
    server.close()
    assert time.perf_counter() - t0 < 2.0
    assert not server.threads_alive()
    assert server.cache_progress() < 1.0


def test_close_stops_the_pass_at_once_while_another_recording_serves_a_seek(
    tmp_path: Path,
) -> None:
    from app.video.budget import SHARED

    clip = write_clip(tmp_path / "long.mp4", n_frames=600, width=640, height=360, gop=120)
    other = write_clip(tmp_path / "other.mp4", n_frames=200, width=320, height=240, gop=40)
    with video.open(other, memory_budget_mb=8) as keep:
        server = video.open(clip, memory_budget_mb=8, cache_dir=tmp_path / "cache")
        server.get(300, timeout=30)
        with SHARED.interactive():  # its pass is paused by a seek elsewhere
            time.sleep(0.2)
            t0 = time.perf_counter()
            server.close()
            assert time.perf_counter() - t0 < 1.0
        assert not server.threads_alive()
        assert SHARED.count() == 1  # the other is still open, and still works
        assert read_stamp(keep.get(150, timeout=30)) == 150


def test_store_files_for_deletion(clip: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert store_files(cache, clip) == []
    with _open(clip, cache) as server:
        assert server.wait_cache(60)
    files = store_files(cache, clip)
    assert store_folder(cache, clip) in files
    assert {p.name for p in files if p.is_file()} == {"frames.bin", "index.npy", "meta.json"}


def test_deleting_the_recording_removes_its_store(tmp_path: Path) -> None:
    from app.clinic import open_clinic
    from app.records.patients import PatientData, create_patient, remove_media
    from app.records.recordings import delete_recording, import_recording, resolve_video
    from app.records.visits import VisitData, create_visit

    c = open_clinic()
    try:
        with c.db.session() as s:
            pid = create_patient(s, PatientData(full_name="Store Del")).id
            vid = create_visit(s, pid, VisitData(visit_date="2026-03-01")).id
        source = write_clip(tmp_path / "run.mp4", n_frames=30, gop=10)
        rid = import_recording(c.db, c.videos_root, vid, source)
        with c.db.session() as s:
            video_file = resolve_video(s.get(Recording, rid), c.videos_root)  # type: ignore[arg-type]
        with video.open(video_file, memory_budget_mb=1, cache_dir=c.folder.cache) as server:
            assert server.wait_cache(60)
        folder = store_folder(c.folder.cache, video_file)
        assert (folder / "frames.bin").exists()
        with c.db.session() as s:
            paths = delete_recording(s, rid, c.videos_root, c.folder.root)
        assert remove_media(paths) == []
        assert not folder.exists() and not video_file.exists()
    finally:
        c.close()
