"""The disk-backed intra-frame store: every frame of a recording as one JPEG, like an NLE proxy.

Layout, per video, under the data folder's cache (``<data>/cache/frames/<key>/``):

* ``frames.bin``  the JPEG images, appended as the background pass writes them;
* ``index.npy``   per frame: offset, length and CRC-32 of its image (-1 = not stored);
* ``meta.json``   the video's identity (resolved path, size, modification time), the codec
  and quality. A file that changed (other size or time) no longer matches: its store is
  discarded and rebuilt, so a frame is never served from another version of the file.

``key`` is a hash of the resolved path, so :func:`store_folder` finds a recording's store
without opening it (the deletion code removes it with the recording). Anything damaged (an
unreadable index, a truncated ``frames.bin``, an image whose CRC does not match) is dropped
silently and the frame decoded again: the store is only ever a faster route to the same
image, never the truth.

Size: all stores together stay under a limit (least recently used stores go first, never one
that is open), and nothing is written when the disk would be left with less than
:data:`DISK_MARGIN_BYTES` free; the engine then decodes on demand and says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

STORE_VERSION = 1
DEFAULT_LIMIT_BYTES = 20 * 2**30
# Free space always left on the disk (the clinic's database, backups and videos need it).
DISK_MARGIN_BYTES = 2 * 2**30
DISK_MARGIN_SHARE = 0.05  # ... or this share of the disk, whichever is larger
FLUSH_EVERY = 256  # frames between index writes (a crash loses at most these, not the store)
_OPEN: set[str] = set()  # folders of stores open in this process (never evicted)
_OPEN_LOCK = threading.Lock()
# The open stores by folder, with how many users each has: a second server of the same file
# in this process (the marking panel and a side of the dual player) shares the first one's
# store. Two stores appending to one file, each with its own idea of where it ends, would
# write over each other's images.
_SHARED_STORES: dict[str, tuple[DiskStore, int]] = {}

LOW_DISK_NOTE = (
    "The disk is nearly full, so frames of this video are not kept for fast stepping: each "
    "frame is decoded when shown (slower, still exact). Free some disk space to speed it up."
)


def video_identity(video: Path) -> dict[str, object]:
    """What a store is valid for: the resolved path, size and modification time of the file."""
    st = video.stat()
    return {"path": os.path.realpath(video), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def store_folder(cache_root: Path, video: Path) -> Path:
    """The store folder of ``video`` under ``cache_root`` (``<data>/cache``); may not exist."""
    key = hashlib.sha1(os.path.realpath(video).encode("utf-8", "surrogatepass")).hexdigest()
    return Path(cache_root) / "frames" / key[:24]


def store_files(cache_root: Path, video: Path) -> list[Path]:
    """The files and folder of ``video``'s store (for the deletion of its recording)."""
    folder = store_folder(cache_root, video)
    if not folder.is_dir():
        return []
    return [*sorted(p for p in folder.iterdir() if p.is_file()), folder]


def remove_store(cache_root: Path, video: Path) -> None:
    """Delete ``video``'s store, if any."""
    shutil.rmtree(store_folder(cache_root, video), ignore_errors=True)


def _folder_bytes(folder: Path) -> int:
    total = 0
    with contextlib.suppress(OSError):
        for p in folder.iterdir():
            with contextlib.suppress(OSError):
                total += p.stat().st_size
    return total


def evict(cache_root: Path, limit_bytes: int, *, extra: int = 0) -> int:
    """Remove least recently used stores (never an open one) until all fit ``limit_bytes``.

    ``extra`` bytes are about to be written. Returns the bytes that remain in use.
    """
    base = Path(cache_root) / "frames"
    if not base.is_dir():
        return 0
    stores = []
    for folder in base.iterdir():
        if folder.is_dir():
            meta = folder / "meta.json"
            used = meta.stat().st_mtime if meta.exists() else 0.0
            stores.append((used, folder, _folder_bytes(folder)))
    total = sum(s[2] for s in stores)
    with _OPEN_LOCK:
        open_now = set(_OPEN)
    for _used, folder, size in sorted(stores, key=lambda s: s[0]):
        if total + extra <= limit_bytes:
            break
        if str(folder) in open_now:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        total -= size
    return total


def disk_margin(folder: Path) -> int:
    """Free bytes the store must always leave on ``folder``'s disk."""
    total = shutil.disk_usage(folder).total
    return max(DISK_MARGIN_BYTES, int(DISK_MARGIN_SHARE * total))


class DiskStore:
    """One video's stored frames on disk. Thread-safe; create with :meth:`open`."""

    def __init__(
        self, folder: Path, identity: dict[str, object], n_frames: int, codec: str, limit: int
    ) -> None:
        self.folder = folder
        self.cache_root = folder.parent.parent
        self.codec = codec
        self.limit = limit
        self.writable = True
        self.note: str | None = None
        self._identity = identity
        self._lock = threading.Lock()
        self._index = np.full((n_frames, 3), -1, dtype=np.int64)
        self._dirty = 0
        self._checked_space_at = 0
        self._data = folder / "frames.bin"
        self._load_or_reset(n_frames)
        self._fd = os.open(self._data, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0))
        self._end = os.fstat(self._fd).st_size
        _OPEN.add(str(folder))  # the caller (open) holds _OPEN_LOCK

    @classmethod
    def open(
        cls,
        cache_root: Path,
        video: Path,
        n_frames: int,
        codec: str,
        *,
        limit_bytes: int = DEFAULT_LIMIT_BYTES,
    ) -> DiskStore | None:
        """The store of ``video`` (created, or emptied when stale); None if it cannot be made.

        When this process has the store open already, that one is returned and shared (each
        :meth:`close` releases one user); if the open one is for another codec, frame count
        or version of the file, None (this user decodes on demand rather than overwrite it).
        """
        try:
            folder = store_folder(cache_root, video)
            identity = video_identity(video)
        except OSError:
            return None
        with _OPEN_LOCK:
            shared = _SHARED_STORES.get(str(folder))
            if shared is not None:
                store, users = shared
                if store.codec != codec or len(store._index) != n_frames:
                    return None
                if store._identity != identity:
                    return None
                _SHARED_STORES[str(folder)] = (store, users + 1)
                return store
            try:
                folder.mkdir(parents=True, exist_ok=True)
                store = cls(folder, identity, n_frames, codec, limit_bytes)
            except OSError:
                return None  # read-only or missing data folder: decode on demand
            _SHARED_STORES[str(folder)] = (store, 1)
            return store

    # ------------------------------------------------------------------ reading
    def __contains__(self, n: int) -> bool:
        return 0 <= n < len(self._index) and self._index[n, 0] >= 0

    def count(self) -> int:
        return int(np.count_nonzero(self._index[:, 0] >= 0))

    def have(self) -> np.ndarray:
        """Boolean mask of the frames stored."""
        return self._index[:, 0] >= 0

    def get(self, n: int) -> np.ndarray | None:
        """Frame ``n``'s encoded image, or None (not stored, or damaged: then forgotten)."""
        if n not in self:
            return None
        off, length, crc = (int(v) for v in self._index[n])
        try:
            data = os.pread(self._fd, length, off)
        except OSError:
            data = b""
        if len(data) != length or zlib.crc32(data) != crc:
            with self._lock:  # damaged: forget it, the frame is decoded and written again
                self._index[n] = -1
                self._dirty += 1
            return None
        return np.frombuffer(data, dtype=np.uint8)

    # ------------------------------------------------------------------ writing
    def put(self, n: int, blob: np.ndarray) -> bool:
        """Append frame ``n``'s encoded image; False when the store no longer writes."""
        if n in self:
            return True
        data = blob.tobytes()
        with self._lock:
            if not self.writable:
                return False
            if n in self:
                return True
            if not self._room_for(len(data)):
                return False
            try:
                os.pwrite(self._fd, data, self._end)
            except OSError:  # disk full after all, or the drive went away
                self._stop_writing(LOW_DISK_NOTE)
                return False
            self._index[n] = (self._end, len(data), zlib.crc32(data))
            self._end += len(data)
            self._dirty += 1
            if self._dirty >= FLUSH_EVERY:
                self._flush_locked()
        return True

    def _room_for(self, nbytes: int) -> bool:
        # statvfs and the eviction scan are cheap but not free: every 64 MB written.
        if self._end + nbytes < self._checked_space_at:
            return True
        chunk = 64 * 2**20
        try:
            free = shutil.disk_usage(self.folder).free
            margin = disk_margin(self.folder)
        except OSError:
            self._stop_writing(LOW_DISK_NOTE)
            return False
        if free - chunk < margin:
            self._stop_writing(LOW_DISK_NOTE)
            return False
        if evict(self.cache_root, self.limit, extra=chunk) + chunk > self.limit:
            self._stop_writing(
                "This video is too long for the frame cache's size limit: frames past the "
                "stored part are decoded when shown (slower, still exact)."
            )
            return False
        self._checked_space_at = self._end + chunk
        return True

    def _stop_writing(self, note: str) -> None:
        self.writable = False
        self.note = note

    def flush(self) -> None:
        """Write the index (atomically: a crash leaves the old one, never half of one)."""
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        self._dirty = 0
        tmp = self.folder / "index.npy.tmp"
        try:
            with open(tmp, "wb") as fh:
                np.save(fh, self._index)
            os.replace(tmp, self.folder / "index.npy")
        except OSError:
            self._stop_writing(LOW_DISK_NOTE)

    def close(self) -> None:
        """Release one user (call once per :meth:`open`); the last one flushes the index and
        releases the file."""
        # Never hold _OPEN_LOCK while taking self._lock: put() takes them the other way round
        # (its space check evicts other stores).
        with _OPEN_LOCK:
            shared = _SHARED_STORES.get(str(self.folder))
            last = True
            if shared is not None and shared[0] is self:
                last = shared[1] <= 1
                if last:
                    del _SHARED_STORES[str(self.folder)]
                else:
                    _SHARED_STORES[str(self.folder)] = (self, shared[1] - 1)
        with self._lock:
            if self._fd < 0:
                return
            if self._dirty:
                self._flush_locked()
            if not last:
                return
            os.close(self._fd)
            self._fd = -1
        with _OPEN_LOCK:
            _OPEN.discard(str(self.folder))

    @property
    def users(self) -> int:
        """How many open frame servers use this store (0 once closed)."""
        with _OPEN_LOCK:
            shared = _SHARED_STORES.get(str(self.folder))
        return shared[1] if shared is not None and shared[0] is self else 0

    # ------------------------------------------------------------------ opening
    def _meta(self) -> dict[str, object]:
        return {"version": STORE_VERSION, "codec": self.codec, "video": self._identity}

    def _load_or_reset(self, n_frames: int) -> None:
        meta_path = self.folder / "meta.json"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            index = np.load(self.folder / "index.npy", allow_pickle=False)
            size = self._data.stat().st_size
            ok = meta == self._meta() and index.shape == (n_frames, 3)
        except (OSError, ValueError, TypeError):
            ok = False
        if ok:
            # Entries past the end of the data file were flushed before their bytes: drop them.
            index = index.astype(np.int64, copy=True)
            index[index[:, 0] + index[:, 1] > size] = -1
            self._index = index
            os.utime(meta_path)  # most recently used, for eviction
            return
        # Stale (the video changed), another codec, or damaged: start again, silently.
        for name in ("frames.bin", "index.npy", "meta.json"):
            with contextlib.suppress(FileNotFoundError):
                (self.folder / name).unlink()
        meta_path.write_text(json.dumps(self._meta()), encoding="utf-8")
        self._index[:] = -1
        self._flush_locked()


class FrameStore:
    """Every frame once: raw RGB in memory, or JPEG in memory in front of a :class:`DiskStore`.

    The image of frame N is fixed by its first write (JPEG encoding is deterministic, so a
    store reopened later holds the same bytes). Memory copies of images that are also on
    disk are evicted least recently used; an image held *only* in memory is never evicted,
    and once memory is full without a disk to spill to the store refuses every later frame
    for good (``full``): a refused frame is served as decoded and must never turn into a
    different (stored) image afterwards.
    """

    def __init__(
        self,
        n_frames: int,
        raw: bool,
        quality: int,
        budget: Callable[[], int],
        disk: DiskStore | None = None,
    ) -> None:
        self.raw = raw
        self.quality = quality
        self.disk = disk
        self.full = False
        self.used = 0
        self._budget = budget
        self._mem: OrderedDict[int, np.ndarray] = OrderedDict()
        self._mem_only: set[int] = set()
        self._have = np.zeros(n_frames, dtype=bool)
        if disk is not None:
            self._have |= disk.have()
        self._disk_open = disk is not None
        self._lock = threading.Lock()

    def __contains__(self, n: int) -> bool:
        if not 0 <= n < len(self._have):
            return False
        if self._have[n]:
            return True
        # Another server of the same file shares the disk store and may have written it.
        if self.disk is not None and n in self.disk:
            self._have[n] = True
            return True
        return False

    def __len__(self) -> int:
        return int(np.count_nonzero(self.have()))

    def have(self) -> np.ndarray:
        """Boolean mask of the stored frames (memory or disk), read-only."""
        if self.disk is not None:
            self._have |= self.disk.have()
        view = self._have.view()
        view.flags.writeable = False
        return view

    def encode(self, rgb: np.ndarray) -> np.ndarray | None:
        """The stored form of ``rgb`` (no lock held: encoders run in parallel)."""
        if self.raw:
            rgb.flags.writeable = False
            return rgb
        # The RGB array goes in as if it were BGR and comes back out the same way, so neither
        # direction needs a channel swap (~1 ms each way at 1080p). The colour transform is
        # linear and inverted exactly; measured error is the same as with the swap.
        ok, buf = cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        return buf if ok else None

    def put(self, n: int, rgb: np.ndarray) -> bool:
        """Store frame ``n``; False when it cannot be stored (it is then never stored)."""
        if n in self or self.full:
            return n in self
        item = self.encode(rgb)
        if item is None:
            return False
        on_disk = self.disk is not None and self.disk.writable and self.disk.put(n, item)
        with self._lock:
            if self._have[n]:
                return True
            if self.full and not on_disk:
                return False
            if not on_disk and not self._make_room(item.nbytes):
                self.full = True
                return False
            self._mem[n] = item
            self.used += item.nbytes
            if not on_disk:
                self._mem_only.add(n)
            elif self.used > self._budget():
                self._make_room(0)
            self._have[n] = True
        return True

    def put_lazy(self, n: int, to_rgb: Callable[[], np.ndarray]) -> bool:
        """:meth:`put` with the picture converted only if it is still needed."""
        if n in self or self.full:
            return n in self
        return self.put(n, to_rgb())

    def trim(self) -> None:
        """Give memory back down to the budget (it shrank: another recording opened)."""
        with self._lock:
            self._make_room(0)

    def _make_room(self, nbytes: int) -> bool:
        budget = self._budget()
        if self.used + nbytes <= budget:
            return True
        for k in list(self._mem):
            if self.used + nbytes <= budget:
                break
            if k not in self._mem_only:  # on disk too: the memory copy may go
                self.used -= self._mem.pop(k).nbytes
        return self.used + nbytes <= budget

    def get(self, n: int) -> np.ndarray | None:
        """Frame ``n`` as read-only RGB, or None when it is not stored."""
        with self._lock:
            item = self._mem.get(n)
            if item is not None:
                self._mem.move_to_end(n)
        if item is None and self.disk is not None and n in self:
            item = self.disk.get(n)
            if item is None:  # damaged on disk: forgotten, decoded again by the caller
                with self._lock:
                    self._have[n] = False
                return None
            with self._lock:
                if n not in self._mem:
                    self._mem[n] = item
                    self.used += item.nbytes
                    self._make_room(0)
        if item is None or self.raw:
            return item
        rgb = cv2.imdecode(item, cv2.IMREAD_COLOR)  # RGB order: see encode()
        rgb.flags.writeable = False
        return rgb

    def close(self) -> None:
        """Release the disk store (once) and the memory."""
        disk, self._disk_open = (self.disk if self._disk_open else None), False
        if disk is not None:
            disk.close()
        with self._lock:
            self._mem.clear()
            self.used = 0


class WorkingSet:
    """The decoded RGB frames around the cursor (at most ``max_frames``, least recently used out)."""

    def __init__(self, budget_bytes: int, frame_bytes: int, max_frames: int) -> None:
        self.capacity = self.capacity_for(budget_bytes, frame_bytes, max_frames)
        self._items: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def capacity_for(budget_bytes: int, frame_bytes: int, max_frames: int) -> int:
        return max(4, min(max_frames, int(budget_bytes) // max(1, frame_bytes)))

    def resize(self, capacity: int) -> None:
        """Hold at most ``capacity`` frames from now on (the oldest go first)."""
        with self._lock:
            self.capacity = max(4, int(capacity))
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def get(self, n: int) -> np.ndarray | None:
        with self._lock:
            item = self._items.get(n)
            if item is not None:
                self._items.move_to_end(n)
            return item

    def __contains__(self, n: int) -> bool:
        return n in self._items

    def put(self, n: int, rgb: np.ndarray) -> None:
        with self._lock:
            self._items[n] = rgb
            self._items.move_to_end(n)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
