"""The background pass of :class:`app.video.frame_server.FrameServer`: outward from the cursor.

The clip is stored GOP by GOP (a GOP: a keyframe and the frames up to the next one, found by
keyframe timestamps): first the GOP under the cursor, then the nearest GOPs not yet stored,
ahead before behind. Every 16 frames the pass looks where the clinician is; after a jump to a
GOP not yet stored it drops the GOP in hand and starts there, so stepping near the cursor is
fast long before the whole clip is stored. The decoder runs frame and slice threads (each
picture is placed by its timestamp, so threading cannot shift it) and JPEG encoding runs on
the server's encoder threads, a few frames behind, which bounds the memory held.

Clips that fit raw, or have no timestamps, are read front to back instead (``_build_loop``),
the only way to learn that a damaged file ends early; ``_reconcile`` then shrinks the index.

A mixin: it uses the server's store, index, locks and events, and owns nothing itself.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from app.errors import ClinicError
from app.video.budget import PAUSE_LIMIT_S, SHARED
from app.video.decoder import SeekDecoder, SequentialReader
from app.video.errors import VideoError
from app.video.probe import FrameIndex

if TYPE_CHECKING:
    from app.video.frame_server import FrameServer

ENCODE_THREADS = 2
FIRST_FRAME_WAIT_S = 0.5  # the pass starts this long after opening if no frame is asked for


class _PassStop(ClinicError):
    """Ends one GOP of the pass early (closed, cancelled, store full, or the cursor moved)."""


class OutwardPass:
    """GOP bookkeeping and the outward pass (mixed into ``FrameServer``)."""

    def _gops(self: FrameServer) -> np.ndarray:
        """First frame index of every GOP (frame 0 always starts one)."""
        idx = self._index
        if idx.synthetic or not len(idx.keyframe_pts):
            return np.array([0], dtype=np.int64)
        starts = np.searchsorted(idx.pts, idx.keyframe_pts, side="left")
        return np.unique(np.concatenate([[0], starts[starts < len(idx.pts)]])).astype(np.int64)

    def _gop_of(self: FrameServer, n: int) -> int:
        return int(np.searchsorted(self._gop_starts, n, side="right")) - 1

    def _gop_start(self: FrameServer, n: int) -> int:
        return int(self._gop_starts[self._gop_of(n)])

    def _gop_range(self: FrameServer, g: int) -> tuple[int, int]:
        end = int(self._gop_starts[g + 1]) if g + 1 < len(self._gop_starts) else self.frame_count
        return int(self._gop_starts[g]), min(end, self.frame_count) - 1

    def _gop_done(self: FrameServer, g: int) -> bool:
        lo, hi = self._gop_range(g)
        return bool(self._store.have()[lo : hi + 1].all())

    def _next_gop(self: FrameServer, failed: set[int]) -> int | None:
        """The nearest GOP to the cursor not yet stored: ahead first, then behind."""
        with self._lock:
            here = self._gop_of(self._pos)
            ahead = self._dir >= 0
        total = len(self._gop_starts)
        for d in range(total):
            for g in (here + d, here - d) if ahead else (here - d, here + d):
                if 0 <= g < total and g not in failed and not self._gop_done(g):
                    return g
        return None

    def _pause_point(self: FrameServer) -> None:
        """Wait while a user request is decoded by a seek, here or on another open server
        (bounded: a pause can never stall the pass for good)."""
        self._builder_may_run.wait(timeout=PAUSE_LIMIT_S)
        SHARED.wait_idle(self._cancel_build)

    def _background(self: FrameServer, work: Callable[..., bool], *args: object) -> bool:
        """An encoder task of the pass or of a seek's kept frames: it starts once no user
        request is being decoded, so the decode the user waits for has the cores."""
        SHARED.wait_idle(self._stop)
        return work(*args)

    def _first_frame_wait(self: FrameServer) -> None:
        """The pass starts once the first frame asked for is served (or after a moment if
        none is asked for): decoding it alone is what makes the first picture quick."""
        deadline = time.monotonic() + FIRST_FRAME_WAIT_S
        while not self._first_served.wait(timeout=0.05):
            if self._cancel_build.is_set() or time.monotonic() > deadline:
                return

    def _outward_loop(self: FrameServer) -> None:
        """The background pass, GOP by GOP outward from the cursor (see module docstring)."""
        failed: set[int] = set()
        dec: SeekDecoder | None = None
        pending: deque[Future[bool]] = deque()
        t0 = time.perf_counter()
        try:
            self._first_frame_wait()
            dec = SeekDecoder(self.path, self._index, self.info.rotation, threads="AUTO")
            while not self._cancel_build.is_set():
                self._pause_point()
                g = self._next_gop(failed)
                if g is None:
                    break
                lo, hi = self._gop_range(g)

                def sink(i: int, to_rgb: Callable[[], np.ndarray], g: int = g) -> None:
                    self._pause_point()
                    if self._cancel_build.is_set() or self._store.full:
                        raise _PassStop
                    if i % 16 == 0:
                        with self._lock:
                            here = self._gop_of(self._pos)
                        if here != g and not self._gop_done(here):
                            raise _PassStop  # the clinician jumped: serve where they are now
                    if i in self._store:
                        return
                    # Converted to RGB on the encoder thread too: the decoder only decodes.
                    pending.append(
                        self._encoder.submit(self._background, self._store.put_lazy, i, to_rgb)
                    )
                    self._pass_frames += 1
                    while len(pending) > 2 * ENCODE_THREADS or (pending and pending[0].done()):
                        pending.popleft().result()

                try:
                    got = dec.decode(hi, keep_from=lo, sink=sink)
                    if hi not in self._store:
                        sink(hi, functools.partial(got.pop, hi))
                except _PassStop:
                    pass
                except VideoError as exc:
                    failed.add(g)  # damaged there: those frames fail when asked, plainly
                    self.build_error = exc
                while pending:
                    pending.popleft().result()
                self._pass_s = time.perf_counter() - t0
                with self._lock:
                    self._wake.notify_all()  # newly stored frames may be prefetchable now
                if self._progress_cb is not None:
                    self._progress_cb(self.cache_progress())
                if self._store.full:
                    self.build_state = "budget_exhausted"
                    self._note_store_full()
                    return
            if self._cancel_build.is_set():
                self.build_state = "cancelled"
            else:
                self.build_state = "complete" if not failed else "truncated"
        except VideoError as exc:
            self.build_error, self.build_state = exc, "failed"
        except Exception as exc:  # translated: a bad file must never crash the app
            self.build_error = VideoError(path=self.path, detail=repr(exc))
            self.build_state = "failed"
        finally:
            for fut in pending:
                with contextlib.suppress(Exception):
                    fut.result()
            self._pass_s = time.perf_counter() - t0
            if dec is not None:
                dec.close()
            disk = self._store.disk
            if disk is not None:
                disk.flush()
            self._build_done.set()
            if self._progress_cb is not None and self.build_state == "complete":
                self._progress_cb(1.0)

    def _note_store_full(self: FrameServer) -> None:
        disk = self._store.disk
        note = (
            disk.note
            if disk is not None and disk.note
            else (
                f"Memory budget reached after {len(self._store)} frames: later frames load more "
                "slowly."
            )
        )
        if note not in self.warnings:
            self.warnings.append(note)

    def _build_loop(self: FrameServer) -> None:
        """Front to back (clips that fit raw, or have no timestamps: the only way to learn
        that a damaged file ends early)."""
        reader: SequentialReader | None = None
        seen: list[int] = []  # indices decoded by the full pass
        # JPEG encoding runs on a second thread so decode and encode overlap (2 cores: the
        # full pass takes ~half the time). At most a few frames wait, which bounds memory.
        encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="video-encode")
        pending: deque[Future[bool]] = deque()
        try:
            self._first_frame_wait()
            reader = SequentialReader(self.path, self.info.rotation, self._index)
            total = self.frame_count
            for n, _pts, rgb in reader.frames(max_frames=total + 1):
                self._pause_point()
                if self._cancel_build.is_set():
                    self.build_state = "cancelled"
                    return
                seen.append(n)
                pending.append(encoder.submit(self._store.put, n, rgb))
                if n % 8 == 0:  # newly stored frames may be prefetchable now
                    with self._lock:
                        self._wake.notify_all()
                while len(pending) > 3 or (pending and pending[0].done()):
                    if not pending.popleft().result():
                        self.build_state = "budget_exhausted"
                        self.warnings.append(
                            f"Memory budget reached after {len(self._store)} frames: later "
                            "frames load more slowly."
                        )
                        return
                if self._progress_cb is not None and (n % 16 == 0 or n == total - 1):
                    self._progress_cb(min(1.0, len(self._store) / max(1, total)))
            while pending:
                pending.popleft().result()
            self._reconcile(seen, reader.error)
            self.build_state = "complete" if not reader.error else "truncated"
        except VideoError as exc:
            self.build_error, self.build_state = exc, "failed"
        except Exception as exc:  # translated: a bad file must never crash the app
            self.build_error = VideoError(path=self.path, detail=repr(exc))
            self.build_state = "failed"
        finally:
            encoder.shutdown(wait=True, cancel_futures=True)
            if reader is not None:
                reader.close()
            self._build_done.set()
            if self._progress_cb is not None and self.build_state == "complete":
                self._progress_cb(1.0)

    def _reconcile(self: FrameServer, seen: list[int], error: VideoError | None) -> None:
        """The full pass is the truth: shrink the index if the decodable frames end early."""
        if not seen:
            return
        readable = max(seen) + 1
        if readable >= self.frame_count:
            return
        self.warnings.append(
            f"The video is incomplete: {readable} of {self.frame_count} frames could be decoded."
        )
        idx = self._index
        new = FrameIndex(
            pts=idx.pts[:readable],
            time_base=idx.time_base,
            keyframe_pts=idx.keyframe_pts[idx.keyframe_pts <= idx.pts[readable - 1]],
            synthetic=idx.synthetic,
        )
        with self._seek_lock:
            self._index = new
            self._seeker.set_index(new)
            if self._careful is not None:
                self._careful.set_index(new)
