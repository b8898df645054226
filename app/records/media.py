"""The files that belong to records: where new ones go, and which ones a deletion may remove.

Paths come from :class:`app.paths.MediaLayout` (named by the records' never-reused ``uid``).
Deleting a record removes a file only when no remaining row references it
(``recording.video_path`` with its capture sidecars, ``home_program.pdf_path``), and a folder
only when it is empty: nothing here ever removes a whole folder tree, so a file of another
record (for example one left by an earlier clinic state after a restore) is never touched.

Removal is two steps around the database delete, so that a failed transaction never leaves a
row pointing at a missing file:

1. :func:`candidates` (before the rows are deleted): the deleted records' own files, and every
   file inside folders that only they can own (uid-named folders).
2. :func:`unreferenced` (after the delete is flushed, in the same transaction): drops every
   candidate that a remaining row still references. The caller removes the rest with
   :func:`remove_files` after the commit.
"""

from __future__ import annotations

import ast
import contextlib
import glob
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import HomeProgram, Patient, Recording, Visit
from app.paths import MediaLayout, visit_video_folder
from app.records.validation import ValidationError

if TYPE_CHECKING:
    from app.clinic import Clinic

#: Files written next to a capture (``<stem>.timestamps.csv``, ``<stem>.<x>.json``).
SIDECAR_SUFFIXES = (".csv", ".json")


def _key(path: Path) -> str:
    # One spelling per file: symlinks, "..", and case on case-insensitive systems.
    return os.path.normcase(os.path.realpath(path))


def resolve_stored(stored: str, base: Path) -> Path:
    """A path as stored in a row (absolute, or relative to ``base``) as an absolute path."""
    p = Path(stored)
    return p if p.is_absolute() else Path(base) / p


def visit_folder(session: Session, videos_root: Path, visit_id: int) -> Path:
    """The folder new videos of ``visit_id`` go to (not created here): the one builder of a
    visit's video folder from the database (import, camera, deleting a visit), by
    :meth:`app.paths.MediaLayout.visit_folder`'s rule."""
    row = session.execute(
        select(Patient.uid, Visit.uid).join(Visit).where(Visit.id == visit_id)
    ).first()
    if row is None:
        raise ValidationError("visit_id", "This visit no longer exists.")
    return visit_video_folder(videos_root, row[0], row[1])


def still_path(session: Session, layout: MediaLayout, recording_id: int, frame: int) -> Path:
    """The default file name of a still exported from ``frame`` of a recording."""
    uid = session.execute(select(Recording.uid).where(Recording.id == recording_id)).scalar()
    if uid is None:
        raise ValidationError("id", "This recording no longer exists.")
    return layout.still(uid, frame)


def still_for_export(clinic: Clinic, recording_id: int | None, frame: int) -> Path:
    """The name "Export frame" offers: uid-named for the recording, so that the still is found
    for this recording only; ``stills/frame<N>.png`` (tied to no record) when the recording is
    unknown or was deleted meanwhile."""
    neutral = clinic.folder.stills / f"frame{int(frame):06d}.png"
    if recording_id is None:
        return neutral
    try:
        with clinic.db.session() as s:
            return still_path(s, clinic.folder.media(clinic.videos_root), recording_id, frame)
    except ValidationError:
        return neutral


def _files_under(folder: Path) -> tuple[list[Path], list[Path]]:
    files: list[Path] = []
    folders: list[Path] = []
    if not folder.is_dir() or folder.is_symlink():
        return files, folders
    # followlinks=False: a symlinked folder inside is removed as a link, never walked into.
    for here, dirs, names in os.walk(folder, followlinks=False):
        base = Path(here)
        folders.append(base)
        for d in dirs:
            if (base / d).is_symlink():
                files.append(base / d)
        files.extend(base / n for n in names)
    return files, folders


def _sidecars(video: Path) -> list[Path]:
    pattern = glob.escape(video.stem) + ".*"
    return [p for p in video.parent.glob(pattern) if p.suffix.lower() in SIDECAR_SUFFIXES]


def _pose_caches(cache_dir: Path, video: Path) -> list[Path]:
    """Pose-model caches computed from ``video`` (their metadata names the video)."""
    import numpy as np

    found = []
    for p in cache_dir.glob(glob.escape(video.stem) + ".*.pose.npz"):
        try:
            with np.load(p, allow_pickle=False) as z:
                meta = ast.literal_eval(str(z["meta"]))
        except (OSError, KeyError, ValueError, SyntaxError):
            continue
        if isinstance(meta, dict) and meta.get("video") and _key(Path(meta["video"])) == _key(
            video
        ):
            found.append(p)
    return found


def _inside(path: Path, root: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
    except ValueError:
        return False
    return True


def _parents(path: Path, root: Path) -> list[Path]:
    """The folders between ``root`` (excluded) and ``path`` (excluded), deepest first."""
    try:
        rel = path.parent.relative_to(root)
    except ValueError:
        return []
    return [root / Path(*rel.parts[:n]) for n in range(len(rel.parts), 0, -1)]


def candidates(
    layout: MediaLayout | None,
    videos_root: Path,
    *,
    recordings: Iterable[Recording] = (),
    programs: Iterable[HomeProgram] = (),
    owned_folders: Iterable[Path] = (),
) -> list[Path]:
    """Files (and folders to remove if emptied) of records about to be deleted.

    ``layout`` None means only videos are known (no data folder: no stills or programs).
    ``owned_folders`` are uid-named folders that only the deleted records can own; every file
    in them is a candidate. Nothing is removed here.
    """
    files: list[Path] = []
    folders: list[Path] = []
    for rec in recordings:
        video = resolve_stored(rec.video_path, videos_root)
        files.append(video)
        files.extend(_sidecars(video))
        folders.extend(_parents(video, videos_root))
        if layout is not None:
            files.extend(layout.stills.glob(layout.stills_glob(rec.uid)))
            files.extend(_pose_caches(layout.cache, video))
            from app.video.store import store_files  # here: records need no OpenCV to load

            files.extend(store_files(layout.cache, video))  # the frame store (issue 17)
    if layout is not None:
        for program in programs:
            if program.pdf_path:
                pdf = resolve_stored(program.pdf_path, layout.root)
                files.append(pdf)
                folders.extend(_parents(pdf, layout.programs))
    for folder in owned_folders:
        more_files, more_folders = _files_under(folder)
        files.extend(more_files)
        folders.extend(more_folders)
    # Folders are only ever removed when empty, and never the roots themselves.
    roots = {_key(videos_root)}
    if layout is not None:
        roots |= {_key(layout.root), _key(layout.stills), _key(layout.programs), _key(layout.cache)}
    # Only files Stride Clinic made: a row pointing outside its folders (an old absolute path)
    # names someone else's file, which a deletion here must not remove.
    ours = [videos_root] + ([layout.root] if layout is not None else [])
    out: dict[str, Path] = {}
    for p in files:
        if any(_inside(p, r) for r in ours):
            out.setdefault(_key(p), p)
    for d in folders:
        if _key(d) not in roots:
            out.setdefault(_key(d), d)
    return list(out.values())


def unreferenced(
    session: Session, layout: MediaLayout | None, videos_root: Path, paths: list[Path]
) -> list[Path]:
    """The ``paths`` that exist and that no remaining row references (call after the delete).

    A row references its video, the video's capture sidecars (``<stem>.*.csv|json`` beside
    it) and, for home programs, the PDF copy.
    """
    keep: set[str] = set()
    stems: dict[str, set[str]] = {}  # folder -> stems of referenced videos in it
    for (stored,) in session.execute(select(Recording.video_path)):
        if stored:
            video = resolve_stored(stored, videos_root)
            keep.add(_key(video))
            stems.setdefault(_key(video.parent), set()).add(video.stem)
    if layout is not None:
        for (stored,) in session.execute(
            select(HomeProgram.pdf_path).where(HomeProgram.pdf_path.is_not(None))
        ):
            keep.add(_key(resolve_stored(stored, layout.root)))

    def referenced(p: Path) -> bool:
        if _key(p) in keep:
            return True
        if p.suffix.lower() not in SIDECAR_SUFFIXES:
            return False
        return any(p.name.startswith(stem + ".") for stem in stems.get(_key(p.parent), ()))

    return [p for p in paths if (p.exists() or p.is_symlink()) and not referenced(p)]


def remove_files(paths: Iterable[Path]) -> list[str]:
    """Remove files, then the given folders that are left empty (deepest first).

    Never removes a folder with anything in it. Returns the problems (for a message; not
    raised, because the records are already gone).
    """
    problems: list[str] = []
    folders: list[Path] = []
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            folders.append(path)
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            problems.append(f"{path}: {exc.strerror or exc}")
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        # Not empty (another record's or an unknown file) or already gone: leave it.
        with contextlib.suppress(OSError):
            folder.rmdir()
    return problems
