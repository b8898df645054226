"""The open clinic: data folder, settings and database together.

Both the GUI and the command line start here, so they share every start-up check.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.db.database import Database, open_database, sqlite_url
from app.paths import DataFolder, data_folder
from app.settings import Settings


@dataclass
class Clinic:
    folder: DataFolder
    settings: Settings
    db: Database
    demo: bool = False

    @property
    def videos_root(self) -> Path:
        return Path(self.settings.videos_dir) if self.settings.videos_dir else self.folder.videos

    def close(self) -> None:
        self.db.dispose()


def open_clinic(*, demo: bool = False, folder: DataFolder | None = None) -> Clinic:
    """Open (creating if needed) the data folder and its database.

    Raises :class:`app.paths.DataFolderError` or :class:`app.db.DatabaseError` with a message
    for the clinician. Demo mode uses ``<data folder>/demo`` and fills it on first use.
    """
    folder = (folder or data_folder(demo=demo)).ensure()
    settings = Settings.load(folder.settings_file)
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
