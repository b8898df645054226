"""The open clinic: data folder, settings and database together.

Both the GUI and the command line start here, so they share every start-up check.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.db.database import Database, open_database, sqlite_url
from app.paths import DataFolder, data_folder
from app.settings import Settings, SettingsError


@dataclass
class Clinic:
    folder: DataFolder
    settings: Settings
    db: Database
    demo: bool = False

    @property
    def settings_warnings(self) -> list[str]:
        """One sentence per setting that was replaced by its default (shown at start-up)."""
        return [str(p) for p in self.settings.problems if not p.fatal]

    @property
    def videos_root(self) -> Path:
        return Path(self.settings.videos_dir) if self.settings.videos_dir else self.folder.videos

    def close(self) -> None:
        self.db.dispose()


def open_clinic(*, demo: bool = False, folder: DataFolder | None = None) -> Clinic:
    """Open (creating if needed) the data folder and its database.

    Raises :class:`app.paths.DataFolderError` (its subclass :class:`app.settings.SettingsError`
    for a database_url or videos_dir that must be corrected) or :class:`app.db.DatabaseError`
    with a message for the clinician. Other bad settings fall back to their defaults and are
    listed in :attr:`Clinic.settings_warnings`. Demo mode uses ``<data folder>/demo`` and fills it on first use.
    """
    folder = (folder or data_folder(demo=demo)).ensure()
    settings = Settings.load(folder.settings_file)
    # The demo clinic never uses database_url, so a bad one must not keep the demo from starting.
    fatal = [p for p in settings.fatal_problems if not (demo and p.key == "database_url")]
    if fatal:
        raise SettingsError(
            " ".join(str(p) for p in fatal)
            + f" Correct it in {folder.settings_file} (or remove the line), then start again. "
            "Nothing has been changed."
        )
    url = (
        settings.database_url
        if (settings.database_url and not demo)
        else sqlite_url(folder.database)
    )
    db = open_database(url)
    clinic = Clinic(folder=folder, settings=settings, db=db, demo=demo)
    if demo:
        from app.demo import ensure_demo_data

        ensure_demo_data(clinic)
    return clinic
