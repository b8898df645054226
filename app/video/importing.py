"""Copy a recording into the clinic's data folder safely (the original is never modified).

The copy is validated before (probe + first frame decodes) and after (the copy probes the
same), written to a hidden temporary file in the destination folder, fsynced, and given its
final name only when complete, so a crash or a full disk never leaves a half-written video
behind. The final name is taken exclusively (:func:`app.paths.place_exclusively`): two imports
into one folder at the same moment get two files, and an existing video is never replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app import jobs
from app.paths import fsync_dir, place_exclusively
from app.video.errors import Cancelled, DiskFull, VideoError, VideoNotFound
from app.video.probe import VideoInfo, probe

CHUNK = 4 * 1024 * 1024
# Keep this much free after the copy: the database and OS need room too.
SAFETY_MARGIN = 64 * 1024 * 1024

CancelCheck = jobs.CancelCheck | threading.Event  # also an Event, for the importer


@dataclass(frozen=True)
class ImportedVideo:
    """Result of :func:`import_video`."""

    path: Path
    """Where the copy lives inside the data folder."""
    original_path: Path
    size_bytes: int
    sha256: str
    info: VideoInfo

    @property
    def note(self) -> str | None:
        """What the clinician must be told about a successful import: only part of the file
        could be read (cut off or still being written), with frames and seconds read."""
        return self.info.incomplete_note


def free_space_bytes(folder: Path) -> int:
    """Free bytes on the drive holding ``folder`` (separate function so tests can fake it)."""
    return shutil.disk_usage(folder).free


def _is_cancelled(cancelled: CancelCheck | None) -> bool:
    if cancelled is None:
        return False
    if isinstance(cancelled, threading.Event):
        return cancelled.is_set()
    return bool(cancelled())




def _make_private_folder(folder: Path) -> None:
    """Create ``folder`` and its missing parents owner-only (0700); folders that already
    existed (such as a clinic's shared videos folder) keep their permissions."""
    missing = []
    p = folder
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    folder.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        for created in missing:
            os.chmod(created, 0o700)


def import_video(
    src_path: str | Path,
    dest_dir: str | Path,
    *,
    progress: Callable[[float], None] | None = None,
    cancelled: CancelCheck | None = None,
) -> ImportedVideo:
    """Copy ``src_path`` into ``dest_dir`` atomically and return what was imported.

    ``progress(fraction)`` is called while copying; ``cancelled`` is a ``threading.Event`` or a
    callable returning True to stop (raises :class:`Cancelled`, nothing is left behind).
    Raises :class:`VideoError` subclasses: the source is missing or not a usable video
    (checked before copying), :class:`DiskFull` when the copy would not fit.
    """
    src = Path(src_path)
    if not src.is_file():
        raise VideoNotFound(path=src)
    info = probe(src)  # refuse non-videos before spending time and disk on them
    dest = Path(dest_dir)
    _make_private_folder(dest)
    size = src.stat().st_size
    free = free_space_bytes(dest)
    if free < size + SAFETY_MARGIN:
        raise DiskFull(
            f"There is not enough free disk space to import this video: it needs "
            f"{(size + SAFETY_MARGIN) / 1e6:.0f} MB and only {free / 1e6:.0f} MB are free. "
            "Free some space or choose another data folder.",
            path=src,
        )
    tmp = dest / f".{uuid.uuid4().hex}.importing"
    digest = hashlib.sha256()
    try:
        copied = 0
        # Owner-only from the first byte (a patient's video), also when videos_dir lies outside
        # the owner-only data folder.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with src.open("rb") as fin, os.fdopen(fd, "wb") as fout:
            while chunk := fin.read(CHUNK):
                if _is_cancelled(cancelled):
                    raise Cancelled("The video import was cancelled.", path=src)
                fout.write(chunk)
                digest.update(chunk)
                copied += len(chunk)
                if progress is not None:
                    progress(min(1.0, copied / max(1, size)))
            fout.flush()
            os.fsync(fout.fileno())
        if copied != size:
            raise VideoError(
                "The video changed while it was being copied. Try the import again.", path=src
            )
        # Take the name exclusively: two copies importing into one visit at once each get
        # their own file; an existing video is never overwritten (app.paths.place_exclusively).
        final = place_exclusively(tmp, src.name)
        fsync_dir(dest)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if getattr(exc, "errno", None) == 28:  # ENOSPC despite the check (another writer)
            raise DiskFull(path=src, detail=str(exc)) from exc
        raise VideoError(
            "The video could not be copied into the data folder.", path=src, detail=str(exc)
        ) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    try:
        copy_info = probe(final)
    except VideoError:
        with contextlib.suppress(OSError):
            final.unlink()
        raise
    if copy_info.frame_count != info.frame_count:
        with contextlib.suppress(OSError):
            final.unlink()
        raise VideoError("The copied video differs from the original. Try again.", path=src)
    if progress is not None:
        progress(1.0)
    return ImportedVideo(
        path=final, original_path=src, size_bytes=size, sha256=digest.hexdigest(), info=copy_info
    )
