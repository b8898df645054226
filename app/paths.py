"""Where Stride Clinic keeps its data: one folder per installation (or per demo).

Everything a clinic must back up (database, videos, stills, backups, settings) lives under one
folder: the platform's user data folder, or ``$STRIDE_CLINIC_HOME`` when set. The folder is
created with owner-only permissions because it holds health records.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import platformdirs

ENV_HOME = "STRIDE_CLINIC_HOME"


class DataFolderError(Exception):
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
    def settings_file(self) -> Path:
        return self.root / "settings.json"

    def patient_media(self, patient_id: int) -> Path:
        """Folder for one patient's recordings and stills (removed when the patient is deleted)."""
        return self.videos / f"patient_{patient_id:06d}"

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


def data_folder(*, demo: bool = False) -> DataFolder:
    """The active data folder; demo mode uses a separate sub-folder, never the real database."""
    root = default_home()
    return DataFolder(root / "demo" if demo else root)
