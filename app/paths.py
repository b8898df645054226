"""Where Stride Clinic keeps its data: one folder per installation (or per demo).

Everything a clinic must back up (database, videos, stills, backups, settings) lives under one
folder: the platform's user data folder, or ``$STRIDE_CLINIC_HOME`` when set. The folder is
created with owner-only permissions because it holds health records.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from app.errors import ClinicError

ENV_HOME = "STRIDE_CLINIC_HOME"


class DataFolderError(ClinicError):
    """The data folder cannot be created or written. ``message`` is for the clinician."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def default_home() -> Path:
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("StrideClinic", appauthor=False, roaming=True))


@dataclass(frozen=True)
class DataFolder:
    """The layout of one data folder."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "stride_clinic.sqlite3"

    @property
    def videos(self) -> Path:
        return self.root / "videos"

    @property
    def stills(self) -> Path:
        return self.root / "stills"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def programs(self) -> Path:
        return self.root / "programs"

    @property
    def settings_file(self) -> Path:
        return self.root / "settings.json"

    def media(self, videos_root: Path | None = None) -> MediaLayout:
        """Where each record's files go; ``videos_root`` when the settings move the videos."""
        return MediaLayout(self.root, Path(videos_root) if videos_root else self.videos)

    def ensure(self) -> DataFolder:
        """Create the folder tree (owner-only) and check that it is writable."""
        try:
            for folder in (self.root, self.videos, self.stills, self.backups, self.cache):
                folder.mkdir(parents=True, exist_ok=True)
            os.chmod(self.root, stat.S_IRWXU)
        except OSError as exc:
            raise DataFolderError(
                f"Stride Clinic cannot create its data folder {self.root}: {exc.strerror or exc}. "
                f"Check that the disk is connected and that you may write there, or set "
                f"{ENV_HOME} to another folder."
            ) from exc
        probe = self.root / ".write_test"
        try:
            with open(probe, "wb") as fh:
                fh.write(b"ok")
            probe.unlink()
        except OSError as exc:
            raise DataFolderError(
                f"The data folder {self.root} is not writable ({exc.strerror or exc}). "
                "Nothing has been changed. Free some disk space or fix the folder's permissions, "
                "then start Stride Clinic again."
            ) from exc
        return self


# --- per-record files ---------------------------------------------------------------------------

_UID = re.compile(r"^[0-9a-f]{32}$")
#: A still exported from a recording: ``recording-<recording uid>_frame<N>.png``.
STILL_NAME = re.compile(r"^recording-([0-9a-f]{32})_frame(\d+)\.png$", re.IGNORECASE)


def _uid(uid: str) -> str:
    # A uid becomes a folder name: anything but 32 hex digits (None, "", "../x") is a bug.
    if not isinstance(uid, str) or not _UID.match(uid):
        raise ValueError(f"not a record uid: {uid!r}")
    return uid


@dataclass(frozen=True)
class MediaLayout:
    """The one place that names every file belonging to a record.

    Everything is named by the records' ``uid`` (``app.db.models.new_uid``), never by their
    integer id: SQLite hands out an id again after a restore, and a folder named by id would be
    adopted by the new record (issue 13, item 1). Layout::

        videos/patient-<patient uid>/visit-<visit uid>/<original file name>   videos, sidecars
        stills/recording-<recording uid>_frame000123.png                     exported stills
        programs/patient-<patient uid>/program_<id>_<UTC stamp>.pdf          given programs

    Rows store their file's path (``recording.video_path``, ``home_program.pdf_path``), so
    files of older versions (``videos/patient_000007/visit_000012/``) keep working where they
    are; only new files go to uid-named places. Old id-named stills
    (``recording7_frame12.png``) are never matched to a record: nothing records whose they
    were, and after a restore the id may belong to someone else. They stay on disk untouched.
    """

    root: Path
    """The data folder (stored ``home_program.pdf_path`` values are relative to it)."""
    videos: Path
    """The videos folder (``settings.videos_dir`` may put it outside the data folder)."""

    @property
    def stills(self) -> Path:
        return self.root / "stills"

    @property
    def programs(self) -> Path:
        return self.root / "programs"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    def patient_folder(self, patient_uid: str) -> Path:
        """The patient's video folder (only ever this patient's, because uids are not reused)."""
        return patient_video_folder(self.videos, patient_uid)

    def visit_folder(self, patient_uid: str, visit_uid: str) -> Path:
        """Where a visit's imported and filmed videos go."""
        return visit_video_folder(self.videos, patient_uid, visit_uid)

    def still(self, recording_uid: str, frame: int) -> Path:
        """The default file of a still exported from frame ``frame`` of a recording."""
        return self.stills / f"recording-{_uid(recording_uid)}_frame{int(frame):06d}.png"

    def stills_glob(self, recording_uid: str) -> str:
        """A glob pattern (within :attr:`stills`) matching every still of one recording."""
        return f"recording-{_uid(recording_uid)}_frame*.png"

    def program_folder(self, patient_uid: str) -> Path:
        """Where PDF copies of the home programs given to a patient are kept."""
        return self.programs / f"patient-{_uid(patient_uid)}"


def patient_video_folder(videos_root: Path, patient_uid: str) -> Path:
    """``<videos>/patient-<uid>``: see :class:`MediaLayout`."""
    return Path(videos_root) / f"patient-{_uid(patient_uid)}"


def visit_video_folder(videos_root: Path, patient_uid: str, visit_uid: str) -> Path:
    """``<videos>/patient-<uid>/visit-<uid>``: see :class:`MediaLayout`."""
    return patient_video_folder(videos_root, patient_uid) / f"visit-{_uid(visit_uid)}"


def parse_still_name(name: str) -> tuple[str, int] | None:
    """``(recording uid, frame)`` of a still's file name, or None (old id-named stills too)."""
    m = STILL_NAME.match(name)
    return (m.group(1).lower(), int(m.group(2))) if m else None


_MAX_STEM = 120  # characters; keeps "name (12).ext" well under the 255-byte name limit


def place_exclusively(tmp: Path, name: str) -> Path:
    """Give the finished file ``tmp`` the first free name of ``name``, ``name (2)``, ... in its
    folder, atomically, and return it. An existing file is never replaced.

    Checking that a name is free and then renaming onto it lets two programs importing at the
    same moment both pick the same name, and the second rename overwrites the first video
    (issue 13, item 7). Here the name is taken by an operation that fails if it exists: a hard
    link (``os.link``, then ``tmp`` is removed), or, where the file system has no hard links,
    an empty placeholder created with ``O_CREAT | O_EXCL`` that only this call then replaces.
    ``tmp`` must be in the destination folder (same file system). Raises ``OSError``.
    """
    folder = tmp.parent
    # NFC so the same accented name typed on macOS and Windows compares equal.
    clean = unicodedata.normalize("NFC", Path(name).name) or "file"
    stem, suffix = Path(clean).stem[:_MAX_STEM] or "file", Path(clean).suffix[:16]
    use_links = True
    for k in range(1, 100_000):
        candidate = folder / (f"{stem}{suffix}" if k == 1 else f"{stem} ({k}){suffix}")
        if use_links:
            try:
                os.link(tmp, candidate)
            except FileExistsError:
                continue
            except OSError:
                # No hard links here (FAT/exFAT, some shares; the errors differ by system):
                # fall back to the placeholder, which fails by itself if the folder is unusable.
                use_links = False
            else:
                tmp.unlink()
                return candidate
        try:
            fd = os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            continue
        os.close(fd)
        # A crash just here leaves an empty placeholder that no row names: harmless, and the
        # next import simply takes the next name.
        try:
            os.replace(tmp, candidate)  # replaces only the placeholder this call created
        except OSError:
            candidate.unlink(missing_ok=True)
            raise
        return candidate
    raise FileExistsError(errno.EEXIST, "no free file name", str(folder / clean))


def data_folder(*, demo: bool = False) -> DataFolder:
    """The active data folder; demo mode uses a separate sub-folder, never the real database."""
    root = default_home()
    return DataFolder(root / "demo" if demo else root)


def fsync_dir(folder: str | os.PathLike[str], *, strict: bool = False) -> None:
    """Make a rename, link or unlink in ``folder`` durable: a power cut must not lose a file
    the database points at. POSIX only (Windows cannot open a folder for fsync; NTFS journals
    names). ``strict`` lets an OSError through for callers that must know; by default a folder
    that cannot be synced is left as it is."""
    if os.name != "posix":
        return
    with contextlib.nullcontext() if strict else contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
