"""Frame-exact, fast random access to a video for frame-by-frame annotation.

Design (measured in ``benchmarks/stepping.py``; ``--long`` is 60 s of 1080p240, issue 17):

* **Index first.** :func:`open` demuxes the file once (no decoding) to learn every frame's
  presentation timestamp, so ``frame_count``, ``pts_s`` and ``time_s`` are known at once.
* **Store** (:mod:`app.video.store`). Every frame served comes from the store when the store
  has it, so frame N is the *same image* whichever way you came (memory, disk, or a seek
  that stored it). Raw RGB in memory when the whole clip fits the memory budget; otherwise
  JPEG, quality 90, in memory *in front of a disk store* in the data folder's cache
  (``<data>/cache/frames/``; size limit, LRU eviction across recordings, invalidated when the
  file changes, removed with the recording, rebuilt silently if damaged). JPEG was chosen by
  measurement at 1080p (table below). Without a usable disk (none given, read-only, or less
  free than the margin) the memory store fills first-come and stops; later frames are then
  decoded on demand (slower, still exact) and the warnings say so in plain words.
* **Pass outward from the cursor** (:mod:`app.video.outward`): GOP by GOP, the cursor's GOP
  first, then the nearest ones, restarting where the clinician jumps; frame + slice decoder
  threads, JPEG encoding on two encoder threads. Clips that fit raw, or have no timestamps,
  are read front to back instead (the only way to learn that a damaged file ends early).
* **Working set.** An LRU of decoded RGB frames (<= 40) around the current position, filled by
  two *fetcher* threads that prefetch 8 steps ahead and 2 behind in the direction and step
  size of travel (inferred from successive requests, or :meth:`FrameServer.set_position_hint`).
* **Fallback.** A frame the pass has not reached is decoded by a keyframe seek + decode
  forward to its pts (PyAV), then stored; of the frames met on the way, the 32 just before
  the target are stored too (nearest first, ~190 MB of pictures at 1080p), so stepping back
  from a jump pays only for the first step; the rest of that GOP is the pass's next job (it
  goes where the cursor is), so it is decoded a second time. Before those 32 the decoder may
  drop the pictures nothing refers to (``skip_frame`` NONREF: B-frames of phone H.264/HEVC;
  every other picture is bit-identical, so frame N stays one image): on the benchmark's clip
  (a third of its pictures are non-reference) that is about a third less decoding per jump.
  Prefetch never starts such a seek (it would hold the decoder when the user jumps).
* **The user first** (:mod:`app.video.budget`). While a frame the user waits for is decoded
  (a seek, or the JPEG of a jump), the background pass of *every* open server waits at its
  next frame and no server starts a prefetch, so the decode the user waits for has the cores.
* **Shared budget** (:mod:`app.video.budget`). Recordings open at the same time (the marking
  panel, the dual player's two sides) share one memory budget: each reserves its decoders'
  overhead, the working sets get an equal share, and the stores' memory is one pool; opening
  or closing one resizes the others. Two servers of one file share one disk store.

Store codecs (``benchmarks/store_codecs.py``: six frames of the long clip, candidates
interleaved; load 3.3; encode / decode to RGB p50, size, PSNR against the decoded source):
JPEG q85 7.3 / 12.6 ms / 296 KB / 33.9 dB; **JPEG q90 6.8 / 9.7 ms / 369 KB / 34.6 dB**;
JPEG q95 7.3 / 9.5 ms / 531 KB / 35.5 dB; raw YUV 4:2:0 0.9 / 2.4 ms / 3,038 KB;
all-intra H.264 crf 12 34 / 13.8 ms / 217 KB / 38.0 dB, crf 18 27 / 13.8 ms / 125 KB / 35.6 dB
(zlib and PNG, tried once, took 84 and 265 ms to decode). Decoding is what a key press
waits for: JPEG, at q90 (decodes as fast as q95, 30 % less disk; the synthetic texture is
fine noise, a worst case for both size and error). Raw YUV would need 43 GB for 60 s at 240
fps.

Measured with ``benchmarks/stepping.py --long`` (cold store, whole run 3 min 7 s; 2 cores
shared with other work, load average 3.4 at the start, 4.6 at the end), targets in brackets:
first frame 0.41 s (<= 0.5); while the pass runs, +-1 steps near the cursor p95 0.11 ms
(<= 50) and jumps to frames not yet stored p95 1,048 ms (<= 500: not met, a jump decodes up
to a 240-frame GOP; plain cv2 seeks took p95 784 ms in the same run); pass 98.7 frames/s,
complete in 142 s; after the pass, +-1 steps at key-repeat pace anywhere p95 0.14 ms (<= 8),
back-to-back p95 23.9 ms (<= 16: not met at this load), jumps p95 51 ms (<= 50: just not);
peak RSS 1,107 MB (<= 1,536); disk 5.1 GB (JPEG q90, ~0.35 MB a frame); frame-exact.
Reopened with the store already on disk (load 3.6-5.7): jumps p95 27 ms, back-to-back 24 ms.
On 2 December 2026 the machine ran at load 8-14 (other work): a seek's decode took ~10 ms a
frame instead of ~1.6, and every figure above roughly tripled for old and new code alike.
Paired in one process (jumps alternating, same load), letting a seek drop non-reference
pictures cut its decode by 18-28 % a frame on the long clip; the user-first gate cut dual
jumps after the caches by ~15 % (p50) to ~25 % (p95).

Threads: the builder, its encoder and the fetchers are owned by the server (daemon threads);
:meth:`FrameServer.close` stops and joins them and is idempotent. All public methods are
thread-safe. Listener and progress callbacks run on worker threads: a Qt UI must forward them
to the GUI thread (e.g. a queued signal). Returned arrays are read-only views of cached frames
(``flags.writeable`` is False): copy before drawing on them.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import av
import numpy as np

from app.video.budget import SHARED, BudgetMember
from app.video.decoder import SeekDecoder, Sink, frame_to_rgb
from app.video.errors import AbsurdFrameRate, VideoError
from app.video.outward import ENCODE_THREADS, OutwardPass
from app.video.probe import FrameIndex, VideoInfo, scan_with_first_picture
from app.video.store import LOW_DISK_NOTE, DiskStore, FrameStore, WorkingSet, disk_margin
from app.video.timebase import Timebase, real_time_s  # noqa: F401 - re-exported

DEFAULT_BUDGET_MB = 1500
JPEG_QUALITY = 90
LRU_MAX_FRAMES = 40  # 8 steps ahead + 2 behind at any stride, with room to spare
# The working sets' share of the budget and the decoders' own memory (OVERHEAD_FRAMES):
# app.video.budget, which shares one budget between the servers open at once.
FETCH_THREADS = 2
# A seek decodes its target's GOP from the keyframe; the frames met on the way go to the
# store, nearest the target first. At most this many wait for their encoder at once (1080p:
# ~190 MB); older ones are left to the pass, which starts with the cursor's GOP anyway.
SEEK_KEEP_BEHIND = 32
DISK_FRONT_MB = 256  # memory kept for JPEG images in front of the disk store
PREFETCH_AHEAD = 8  # steps ahead in the direction of travel
PREFETCH_BEHIND = 2  # steps the other way (clinicians overshoot and come back)

Listener = Callable[[int], None]
Progress = Callable[[float], None]


class FrameServer(OutwardPass, BudgetMember):
    """Serve frames of one video by index. Create with :func:`open`; see module docstring."""

    DISK_FRONT_BYTES = DISK_FRONT_MB * 2**20
    LRU_MAX_FRAMES = LRU_MAX_FRAMES

    def __init__(
        self,
        path: str | Path,
        *,
        capture_fps: float | None = None,
        memory_budget_mb: float = DEFAULT_BUDGET_MB,
        progress: Progress | None = None,
        jpeg_quality: int = JPEG_QUALITY,
        build_cache: bool = True,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.path = Path(path)
        self.info: VideoInfo
        self._index: FrameIndex
        self.info, self._index, opening = scan_with_first_picture(self.path)
        # Frame 0 as the scan decoded it: the first request for it needs no seek.
        self._opening: av.VideoFrame | None = opening
        self.capture_fps = capture_fps if capture_fps else self.info.capture_fps_guess
        self.memory_budget_bytes = int(memory_budget_mb * 1024 * 1024)
        self.frame_bytes = frame_bytes = self.info.width * self.info.height * 3
        # The budget covers the caches plus what decoding itself holds, so RSS growth stays
        # within it (measured by the benchmark's peak_rss_mb), and it is one budget for every
        # server open in the process (app.video.budget): this one's share is computed as if
        # it were open already. A server without a pass (build_cache False) keeps to itself.
        self._shares = build_cache
        share = SHARED.share_bytes(self) if build_cache else self._alone_bytes()
        self._raw = raw = frame_bytes * self.info.frame_count <= share
        self._lru = WorkingSet(self._lru_bytes(), frame_bytes, LRU_MAX_FRAMES)
        self.warnings: list[str] = list(self.info.warnings)
        disk = None
        if cache_dir is not None and not raw:
            disk = self._open_disk(Path(cache_dir), f"jpeg_q{jpeg_quality}")
        self._store = FrameStore(
            self.frame_count, raw, jpeg_quality, self._store_budget_now, disk=disk
        )
        self._encoder = ThreadPoolExecutor(ENCODE_THREADS, thread_name_prefix="video-encode")
        self._encoding: dict[int, Future[bool]] = {}
        self._pass_frames = 0
        self._pass_s = 0.0
        self._gop_starts = self._gops()
        self.build_state = "building" if build_cache else "off"
        self.build_error: VideoError | None = None
        self._progress_cb = progress
        self._listeners: list[Listener] = []
        self._lock = threading.RLock()
        self._seek_lock = threading.Lock()
        # Frame + slice threads for the user's seeks: phone H.264 has one slice per picture,
        # so slice threads alone decode a jump's GOP on one core. With frame threads the last
        # pictures of a cut-off file can be lost (tests/app/test_video_inputs.py): a seek
        # that fails is tried again on a slice-threaded decoder before it counts as failed.
        self._seeker = SeekDecoder(self.path, self._index, self.info.rotation, threads="AUTO")
        self._careful: SeekDecoder | None = None  # the slice-threaded one, made when needed
        self._stop = threading.Event()
        self._cancel_build = threading.Event()
        self._build_done = threading.Event()
        self._wake = threading.Condition(self._lock)
        self._urgent: list[int] = []
        self._inflight: dict[int, threading.Event] = {}
        self._errors: dict[int, VideoError] = {}
        self._holds = 0
        self._builder_may_run = threading.Event()
        self._builder_may_run.set()
        self._first_served = threading.Event()  # the pass waits for it (outward.py)
        self._pos, self._dir, self._step = 0, 1, 1
        self._closed = False
        # Two fetchers: JPEG decoding releases the GIL, so both cores can refill the working
        # set when the user holds a key down faster than one decoder keeps up.
        # ... and one more that serves the user's requests only, so a jump never waits for a
        # prefetch in hand (each a JPEG decode, 10-100 ms with the cores busy).
        self._fetchers = [
            threading.Thread(target=self._fetch_loop, name=f"video-fetch-{i}", daemon=True)
            for i in range(FETCH_THREADS)
        ]
        user = threading.Thread(target=self._fetch_loop, args=(False,), name="video-user")
        user.daemon = True
        self._fetchers.append(user)
        # The outward pass needs timestamps (GOPs found by keyframe pts); a clip that fits in
        # memory raw, or has no timestamps, is read front to back (cheapest, and the only
        # way to learn that a damaged file ends early).
        outward = not raw and not self._index.synthetic and len(self._gop_starts) > 1
        target = self._outward_loop if outward else self._build_loop
        self._builder = threading.Thread(target=target, name="video-build", daemon=True)
        if build_cache:
            SHARED.join(self)
        for t in self._fetchers:
            t.start()
        if build_cache:
            self._builder.start()
        else:
            self._build_done.set()

    # ------------------------------------------------------------------ public API
    @property
    def frame_count(self) -> int:
        """Number of frames (may shrink once if the builder finds a damaged tail)."""
        return len(self._index.pts)

    def get(self, index: int, timeout: float | None = None) -> np.ndarray:
        """Frame ``index`` as RGB uint8 HxWx3 (read-only), blocking until it is decoded.

        Raises ``IndexError`` for an index outside ``0..frame_count-1``, ``TimeoutError`` if
        ``timeout`` seconds pass first, :class:`VideoError` if the file cannot produce it.
        """
        n = self._check(index)
        rgb = self._lru.get(n)
        if rgb is not None:
            self._note_request(n)
            return rgb
        with self._lock:
            pending = self._inflight.get(n)
        if pending is None and n in self._store:
            # One JPEG decode (~10 ms at 1080p): cheaper here than a hand-off to the fetcher.
            # After a jump, prefetch around the new place waits until it is done (else the
            # fetchers' decodes share the cores with the one the user is waiting for).
            jump = self._is_jump(n)
            with SHARED.interactive() if jump else contextlib.nullcontext():
                self._note_request(n)
                rgb = self._store.get(n)
            if rgb is not None:
                self._lru.put(n, rgb)
                self._first_served.set()
                return rgb
        else:
            self._note_request(n)
        done = pending or self._request(n)
        if not done.wait(timeout):
            raise TimeoutError(f"frame {n} not decoded within {timeout} s")
        with self._lock:
            err = self._errors.pop(n, None)
        if err is not None:
            raise err
        rgb = self._lru.get(n)
        if rgb is None:  # evicted again already (tiny budget): produce it here
            rgb = self._produce(n)
        return rgb

    def try_get(self, index: int) -> np.ndarray | None:
        """The frame if it is ready now, else ``None`` after scheduling it (for the GUI)."""
        n = self._check(index)
        self._note_request(n)
        rgb = self._lru.get(n)
        if rgb is None and self._store.raw:
            rgb = self._store.get(n)  # raw store: a dictionary lookup, no decoding
        if rgb is None:
            self._request(n)
        return rgb

    def is_ready(self, index: int) -> bool:
        """True when :meth:`try_get` would return the frame without waiting."""
        return index in self._lru or (self._store.raw and index in self._store)

    def pts_s(self, index: int) -> float:
        """Presentation time of frame ``index`` in seconds since the first frame (playback)."""
        return float(self._index.pts_s[self._check(index)])

    def time_s(self, index: int) -> float:
        """Real (captured) time of frame ``index`` in seconds since the first frame.

        Uses :func:`real_time_s` with the editable :attr:`capture_fps`. With no timestamps and
        no known rate this raises :class:`AbsurdFrameRate` (ask the clinician for the rate).
        """
        n = self._check(index)
        fps = self.info.container_fps
        if fps is None:
            # Timestamps that imply an absurd rate are not trusted either: ask for the rate.
            if not self.capture_fps:
                raise AbsurdFrameRate(path=self.path)
            return n / self.capture_fps
        if self._index.synthetic:
            rate = self.capture_fps or fps
            if not rate:
                raise AbsurdFrameRate(path=self.path)
            return n / rate
        return float(real_time_s(float(self._index.pts_s[n]), fps, self.capture_fps))

    @property
    def index(self) -> FrameIndex:
        """The file's frame index (presentation timestamps), as probed when opened."""
        return self._index

    def timebase(self) -> Timebase:
        """The file's clock with the editable :attr:`capture_fps` (:class:`Timebase`, the one
        rule every figure uses; stored with the recording so the database needs no decode)."""
        no_clock = self._index.synthetic or self.info.container_fps is None
        if no_clock and not (self.capture_fps or self.info.container_fps):
            raise AbsurdFrameRate(path=self.path)
        return Timebase.from_index(self.info, self._index, self.capture_fps)

    def times_s(self) -> np.ndarray:
        """Real time of every frame (vectorised :meth:`time_s`, from :meth:`timebase`)."""
        return self.timebase().times_s

    def set_position_hint(self, index: int, direction: int = 0, step: int | None = None) -> None:
        """Tell the prefetcher where the user is and which way (+1/-1, 0 = both) they move."""
        with self._lock:
            self._pos = max(0, min(index, self.frame_count - 1))
            if direction:
                self._dir = 1 if direction > 0 else -1
            if step:
                self._step = max(1, abs(int(step)))
            self._wake.notify_all()

    def cache_progress(self) -> float:
        """Fraction of frames held in the store (1.0 when every frame is cached)."""
        return len(self._store) / max(1, self.frame_count)

    def ready_map(self, bins: int) -> np.ndarray:
        """Share of stored frames (0-1) in each of ``bins`` equal parts of the clip."""
        have = self._store.have()[: self.frame_count]
        bins = max(1, min(int(bins), len(have) or 1))
        if not len(have):
            return np.zeros(bins)
        edges = np.linspace(0, len(have), bins + 1).astype(np.int64)
        sums = np.add.reduceat(have.astype(np.int32), edges[:-1])
        return sums / np.maximum(1, np.diff(edges))

    def cache_stats(self) -> dict[str, object]:
        """For a status line or log: store mode, frames and MB held, pass state and speed."""
        disk = self._store.disk
        return {
            "mode": "raw" if self._store.raw else f"jpeg_q{self._store.quality}",
            "frames_stored": len(self._store),
            "store_mb": round(self._store.used / 2**20, 1),
            "disk": "off" if disk is None else ("writing" if disk.writable else "full"),
            "disk_note": disk.note if disk is not None else None,
            "working_set_frames": self._lru.capacity,
            "state": self.build_state,
            "pass_fps": round(self._pass_frames / self._pass_s, 1) if self._pass_s else 0.0,
        }

    @property
    def cache_complete(self) -> bool:
        return self._build_done.is_set()

    def wait_cache(self, timeout: float | None = None) -> bool:
        """Block until the builder has finished (complete, budget spent, cancelled or failed)."""
        return self._build_done.wait(timeout)

    def cancel_caching(self) -> None:
        """Stop the background pass cooperatively; frames stay available via seeking."""
        self._cancel_build.set()

    def add_listener(self, callback: Listener) -> None:
        """Call ``callback(index)`` (on the fetcher thread) when a requested frame is ready."""
        with self._lock:
            self._listeners.append(callback)

    def remove_listener(self, callback: Listener) -> None:
        with self._lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def close(self) -> None:
        """Stop and join both threads and release the files. Safe to call more than once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop.set()
            self._cancel_build.set()
            self._builder_may_run.set()
            self._wake.notify_all()
        for t in (self._builder, *self._fetchers):
            if t.is_alive() and t is not threading.current_thread():
                t.join(timeout=10)
        self._encoder.shutdown(wait=True, cancel_futures=True)
        with self._seek_lock:
            self._seeker.close()
            if self._careful is not None:
                self._careful.close()
        self._lru.clear()
        self._store.close()
        SHARED.leave(self)

    @property
    def closed(self) -> bool:
        return self._closed

    def threads_alive(self) -> bool:
        return any(t.is_alive() for t in (self._builder, *self._fetchers))

    def __enter__(self) -> FrameServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ internals
    def _check(self, index: int) -> int:
        if self._closed:
            raise VideoError("This video has been closed.", path=self.path)
        n = int(index)
        if not 0 <= n < self.frame_count:
            raise IndexError(f"frame {n} outside 0..{self.frame_count - 1}")
        return n

    def _is_jump(self, n: int) -> bool:
        """True when ``n`` is beyond the prefetch's reach from the last request."""
        with self._lock:
            return abs(n - self._pos) > PREFETCH_AHEAD * max(1, self._step)

    def _note_request(self, n: int) -> None:
        # Infer direction and step from successive requests so the UI needs no extra calls.
        with self._lock:
            delta = n - self._pos
            if 0 < abs(delta) <= 60:
                self._dir = 1 if delta > 0 else -1
                self._step = abs(delta)
            self._pos = n
            self._wake.notify_all()

    def _request(self, n: int) -> threading.Event:
        with self._lock:
            ev = self._inflight.get(n)
            if ev is None:
                ev = self._inflight[n] = threading.Event()
                self._urgent.append(n)
                self._wake.notify_all()
            return ev

    def _prefetch_plan(self) -> list[int]:
        with self._lock:
            pos, d, s = self._pos, self._dir, self._step
        plan = [pos + d * s, pos - d * s, pos + d, pos - d]
        for k in range(2, PREFETCH_AHEAD + 1):
            plan.append(pos + d * s * k)
            if k <= PREFETCH_BEHIND:
                plan.append(pos - d * s * k)
        limit = self._lru.capacity - 2
        out: list[int] = []
        for n in plan:
            if 0 <= n < self.frame_count and n not in out:
                out.append(n)
        return out[:limit]

    def _next_job(self, prefetch: bool = True) -> tuple[int, bool] | None:
        """Urgent requests first, then (``prefetch``) the first missing frame of the plan."""
        with self._lock:
            while not self._stop.is_set():
                if self._urgent:
                    return self._urgent.pop(0), True
                # While the user waits for a seek (here or on another server), no prefetch:
                # the seek gets the cores (app.video.budget.SharedBudget.interactive).
                plan = self._prefetch_plan() if prefetch and SHARED.idle.is_set() else []
                for n in plan:
                    # Prefetch never starts a GOP-long seek decode: that would hold the seeker
                    # when the user jumps. Stored frames, or a few frames forward, only; never
                    # a frame a seek met and is still encoding (its fetcher would wait for the
                    # encoder queue, and could not take the user's next request).
                    if n in self._lru or n in self._inflight or n in self._encoding:
                        continue
                    if n in self._store or self._seeker.is_cheap(n):
                        # Registered so a get() for it waits instead of decoding it twice.
                        self._inflight[n] = threading.Event()
                        return n, False
                self._wake.wait(timeout=0.5)
        return None

    def _fetch_loop(self, prefetch: bool = True) -> None:
        while True:
            job = self._next_job(prefetch)
            if job is None:
                break
            n, urgent = job
            try:
                # Only a seek (a GOP decode, in _produce) pauses every server's background work:
                # pausing prefetch for a stored frame too made back-to-back steps wait in line
                # for one JPEG decode at a time (b2b p95 16.5 vs 12.1 ms on the long clip).
                self._produce(n, urgent)
            except VideoError as exc:
                with self._lock:
                    self._errors[n] = exc
            except Exception as exc:  # never let the worker die silently
                with self._lock:
                    self._errors[n] = VideoError(path=self.path, detail=repr(exc))
            with self._lock:
                ev = self._inflight.pop(n, None)
                listeners = list(self._listeners) if urgent else []
            if ev is not None:
                ev.set()
            for cb in listeners:
                with contextlib.suppress(Exception):  # a listener bug must not kill decoding
                    cb(n)

    def _produce(self, n: int, urgent: bool = True) -> np.ndarray:
        cached = self._lru.get(n)
        if cached is not None:
            return cached
        pending = self._encoding.get(n)
        if pending is not None:  # met by a seek a moment ago: its encoder is on it
            with contextlib.suppress(Exception):
                pending.result(timeout=30)
        rgb = self._store.get(n)
        opening, self._opening = self._opening, None  # of use once only
        if rgb is None and n == 0 and opening is not None:
            with SHARED.interactive() if urgent else contextlib.nullcontext():
                self._store.put(0, frame_to_rgb(opening, self.info.rotation))
                rgb = self._store.get(0)
        if rgb is None:
            # The user is waiting on a GOP decode: pause the background pass so the seek gets
            # both cores (measured: halves a 1080p long-GOP jump while the cache builds).
            behind: deque[tuple[int, Callable[[], np.ndarray]]] = deque(maxlen=SEEK_KEEP_BEHIND)
            # Only the frames kept are needed as pictures; the decoder may drop the others
            # that no picture refers to (app.video.decoder.SKIP_UNNEEDED).
            start = max(self._gop_start(n), n - SEEK_KEEP_BEHIND)

            def keep(i: int, to_rgb: Callable[[], np.ndarray]) -> None:
                if i not in self._store:  # converted to RGB later, only if still kept
                    behind.append((i, to_rgb))

            self._hold_builder(+1)
            try:
                # A frame the user asked for: every open server's background work waits until
                # it is decoded *and* stored (its JPEG encode and decode are on the way too).
                gate = SHARED.interactive() if urgent else contextlib.nullcontext()
                with gate:
                    with self._seek_lock:
                        if self._stop.is_set():
                            raise VideoError("This video has been closed.", path=self.path)
                        got = self._seek(n, start, keep)
                    self._store.put(n, got[n])
                    rgb = self._store.get(n)
            finally:
                self._hold_builder(-1)
            # The frames just before the target (a step back) are encoded first.
            for i, frame in reversed(behind):
                self._encode_later(i, frame)
            if rgb is None:  # store full: serve the exact decode (never stored, so consistent)
                rgb = got[n]
                rgb.flags.writeable = False
        self._lru.put(n, rgb)
        self._first_served.set()
        return rgb

    def _seek(self, n: int, start: int, keep: Sink) -> dict[int, np.ndarray]:
        """Decode frame ``n`` (seek lock held), on the careful decoder if the fast one fails."""
        try:
            return self._seeker.decode(n, keep_from=start, sink=keep)
        except VideoError:
            if self._careful is None:
                self._careful = SeekDecoder(
                    self.path, self._index, self.info.rotation, threads="SLICE"
                )
            return self._careful.decode(n, keep_from=start, sink=keep)

    def _open_disk(self, cache_dir: Path, codec: str) -> DiskStore | None:
        existing = cache_dir
        while not existing.exists() and existing.parent != existing:
            existing = existing.parent
        try:
            if shutil.disk_usage(existing).free < disk_margin(existing):
                self.warnings.append(LOW_DISK_NOTE)
                return None
        except OSError:
            return None
        return DiskStore.open(cache_dir, self.path, self.frame_count, codec)

    def _encode_later(self, n: int, to_rgb: Callable[[], np.ndarray]) -> None:
        with self._lock:
            if n in self._encoding or self._stop.is_set():
                return
            fut = self._encoder.submit(self._background, self._store.put_lazy, n, to_rgb)
            self._encoding[n] = fut
        fut.add_done_callback(lambda _f, n=n: self._encoding.pop(n, None))

    def _hold_builder(self, delta: int) -> None:
        with self._lock:
            self._holds += delta
            if self._holds > 0:
                self._builder_may_run.clear()
            else:
                self._builder_may_run.set()


def open(  # noqa: A001 - mirrors builtins.open on purpose: video.open(path)
    path: str | Path,
    capture_fps: float | None = None,
    memory_budget_mb: float = DEFAULT_BUDGET_MB,
    *,
    progress: Progress | None = None,
    build_cache: bool = True,
    cache_dir: str | Path | None = None,
) -> FrameServer:
    """Open a video for frame-exact stepping; raises :class:`VideoError` for bad files.

    ``capture_fps`` overrides the guess from metadata (see :mod:`app.video.probe`).
    ``memory_budget_mb`` bounds the frame caches. ``progress(fraction)`` is called from the
    builder thread while frames are cached. The first frame can be requested immediately.
    ``cache_dir`` (the data folder's ``cache``) keeps frames that do not fit in memory on disk
    (:mod:`app.video.store`); without it they are decoded on demand.
    """
    return FrameServer(
        path,
        capture_fps=capture_fps,
        memory_budget_mb=memory_budget_mb,
        progress=progress,
        build_cache=build_cache,
        cache_dir=cache_dir,
    )
