"""What the frame servers open in one process share: one memory budget and the CPU for the user.

Issue 17: recordings open at the same time (the marking panel and the dual player's two
sides) share **one** memory budget, and a frame the clinician is waiting for goes before any
background work of any of them.

Memory. Every open server reserves what its decoders hold (:data:`OVERHEAD_FRAMES` of its
picture size: frame threads, a seek's kept frames, conversions in flight): that memory is
real, whichever server it belongs to. What is left of the budget is split between the
servers' working sets (an equal share each, :func:`working_set_bytes`) and one pool for
their stores' memory (:meth:`SharedBudget.store_bytes`): first come, first served, so a
short clip beside a long one leaves the long one the rest. A store backed by disk gives
memory back when the pool shrinks (its images are on disk too); one in memory only stops
growing (:class:`app.video.store.FrameStore`).

The user first. While a user-requested frame that needs a keyframe seek is being decoded
and stored (on any server), every server's background pass waits, its encoder threads start
no new image and no server starts prefetching: the seek gets the cores
(:meth:`SharedBudget.interactive`, :meth:`SharedBudget.wait_idle`).
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from app.video.store import WorkingSet

if TYPE_CHECKING:
    from app.video.store import DiskStore

# Decoder buffers (frame threads hold several pictures), a seek's kept frames and transient
# arrays, in frames of the server's picture size. The benchmark measured ~55 frames' worth at
# 1080p above store + working set for one server.
OVERHEAD_FRAMES = 48
LRU_SHARE = 0.3  # of a server's share kept for decoded RGB frames (when its store is JPEG)
PAUSE_LIMIT_S = 2.0  # longest that background work waits for one user request


class Member(Protocol):
    """What the registry needs of a frame server."""

    memory_budget_bytes: int
    frame_bytes: int

    def store_used(self) -> int: ...
    def lru_reserved(self) -> int: ...
    def wake(self) -> None: ...
    def budget_changed(self) -> None: ...


class SharedBudget:
    """The process-wide registry of open frame servers (one instance: :data:`SHARED`)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._members: weakref.WeakKeyDictionary[Member, int] = weakref.WeakKeyDictionary()
        self._serving = 0  # user requests being decoded by a seek, all servers together
        self.idle = threading.Event()  # set while no user request is being decoded
        self.idle.set()

    # ------------------------------------------------------------------ membership
    def join(self, member: Member) -> None:
        with self._lock:
            self._members[member] = self._overhead(member)
            others = [m for m in self._members if m is not member]
        for m in others:  # their shares shrink
            m.budget_changed()

    def leave(self, member: Member) -> None:
        with self._lock:
            if self._members.pop(member, None) is None:
                return
            others = list(self._members)
        for m in others:  # their shares grow again
            m.budget_changed()

    def count(self) -> int:
        with self._lock:
            return len(self._members)

    # ------------------------------------------------------------------ memory
    def total_bytes(self) -> int:
        """The budget: the smallest any open server was given (they all use the setting)."""
        with self._lock:
            sizes = [m.memory_budget_bytes for m in self._members]
        return min(sizes) if sizes else 0

    def _overhead(self, member: Member) -> int:
        return min(OVERHEAD_FRAMES * member.frame_bytes, member.memory_budget_bytes // 4)

    def usable_bytes(self, *, joining: Member | None = None) -> int:
        """The budget minus every server's decoding overhead (``joining``: counted as open)."""
        with self._lock:
            members = dict(self._members)
        if joining is not None and joining not in members:
            members[joining] = self._overhead(joining)
        if not members:
            return 0
        total = min(m.memory_budget_bytes for m in members)
        return max(0, total - sum(members.values()))

    def share_bytes(self, member: Member) -> int:
        """One server's equal share of the usable budget (what a raw store must fit in)."""
        with self._lock:
            k = len(self._members) + (0 if member in self._members else 1)
        return self.usable_bytes(joining=member) // max(1, k)

    def working_set_bytes(self, member: Member) -> int:
        return int(LRU_SHARE * self.share_bytes(member))

    def store_bytes(self, member: Member) -> int:
        """Memory ``member``'s store may use now: the pool (the usable budget less every
        working set) less what the other stores hold."""
        with self._lock:
            members = list(self._members)
        if member not in members:
            members.append(member)
        pool = self.usable_bytes(joining=member) - sum(m.lru_reserved() for m in members)
        others = sum(m.store_used() for m in members if m is not member)
        return max(0, pool - others)

    # ------------------------------------------------------------------ the user first
    @contextlib.contextmanager
    def interactive(self) -> Iterator[None]:
        """Around the decode of a frame the user waits for: background work of all servers
        waits (passes paused at their next frame, no new prefetch) until it is done."""
        with self._lock:
            self._serving += 1
            self.idle.clear()
        try:
            yield
        finally:
            with self._lock:
                self._serving -= 1
                done = self._serving == 0
                if done:
                    self.idle.set()
                members = list(self._members)
            if done:
                for m in members:  # prefetch may start again
                    m.wake()

    @property
    def serving(self) -> bool:
        """True while a user request is decoded by a seek on any server."""
        return self._serving > 0

    def wait_idle(self, cancel: threading.Event, limit_s: float = PAUSE_LIMIT_S) -> None:
        """Background work waits here while a user request is decoded: bounded by
        ``limit_s`` (a pause can never stall it for good), short waits so that ``cancel``
        (the server closing) ends it at once."""
        deadline = time.monotonic() + limit_s
        while not self.idle.wait(timeout=0.05):
            if cancel.is_set() or time.monotonic() > deadline:
                return


SHARED = SharedBudget()


class BudgetMember:
    """The frame server's side of the shared budget (mixed into ``FrameServer``).

    Uses the server's ``_raw``, ``_shares`` (False: a server without a pass keeps to its own
    budget), ``_lru``, ``_store``, ``_lock``, ``_wake`` and ``_closed``.
    """

    DISK_FRONT_BYTES = 256 * 2**20  # memory kept for JPEG images in front of the disk store
    LRU_MAX_FRAMES = 40
    memory_budget_bytes: int
    frame_bytes: int
    _raw: bool
    _shares: bool
    _closed: bool
    _lru: Any
    _lock: Any
    _wake: Any

    def _alone_bytes(self) -> int:
        overhead = min(OVERHEAD_FRAMES * self.frame_bytes, self.memory_budget_bytes // 4)
        return max(0, self.memory_budget_bytes - overhead)

    def _lru_bytes(self) -> int:
        if self._raw:
            return 0
        share = SHARED.working_set_bytes(self) if self._shares else LRU_SHARE * self._alone_bytes()
        return int(share)

    def _store_budget_now(self) -> int:
        """Memory this server's store may hold now (called by the store as it fills)."""
        if self._shares:
            budget = SHARED.store_bytes(self)
        else:
            budget = self._alone_bytes() - self.lru_reserved()
        if self._store_disk is not None:
            # Images on disk are read back from the OS file cache in well under a millisecond
            # (it is not this process's memory), so memory keeps only a small share in front.
            budget = min(budget, self.DISK_FRONT_BYTES)
        return max(0, budget)

    def store_used(self) -> int:
        """Bytes of images this server's store holds in memory (for the shared budget)."""
        store = getattr(self, "_store", None)
        return store.used if store is not None else 0

    def lru_reserved(self) -> int:
        """Bytes this server's working set may hold (for the shared budget)."""
        lru = getattr(self, "_lru", None)
        return 0 if lru is None or self._raw else lru.capacity * self.frame_bytes

    def budget_changed(self) -> None:
        """Another server opened or closed: resize the working set, give memory back."""
        if self._closed:
            return
        self._lru.resize(WorkingSet.capacity_for(self._lru_bytes(), self.frame_bytes,
                                                 self.LRU_MAX_FRAMES))  # fmt: skip
        self._store.trim()

    def wake(self) -> None:
        """Let the fetchers look for prefetch work again (a seek elsewhere has finished)."""
        with self._lock:
            self._wake.notify_all()

    @property
    def _store_disk(self) -> DiskStore | None:  # noqa: F821 - under TYPE_CHECKING
        store = getattr(self, "_store", None)
        return store.disk if store is not None else None
