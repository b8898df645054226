"""The open clinic: data folder, settings and database together.

Both the GUI and the command line start here, so they share every start-up check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.db.database import Database, DatabaseMissing, _sqlite_file, open_database, sqlite_url
from app.paths import DataFolder, data_folder
from app.settings import Settings, SettingsError


@dataclass
class Clinic:
    folder: DataFolder
    settings: Settings
    db: Database
    demo: bool = False
    # Start-up findings the window must show (a failed start-up backup, a changed audit
    # trail...): they do not stop the program, but they must not stay in a log file.
    warnings: list[str] = field(default_factory=list)
    audit_report: object = None  # app.safety.audit_chain.ChainReport of the start-up check

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
    listed in :attr:`Clinic.settings_warnings`. Demo mode uses ``<data folder>/demo``; the entry
    points fill it (:func:`app.demo.ensure_demo_data`), opening never writes sample data.
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
    _refuse_lost_database(url, folder, settings)
    db = open_clinic_database(url)
    clinic = Clinic(folder=folder, settings=settings, db=db, demo=demo)
    _check_audit_trail(clinic)
    return clinic


def open_clinic_database(url: str, **kwargs: object) -> Database:
    """:func:`open_database` with the clinic's layers attached: the automatic audit trail.

    Storage knows nothing of the audit trail; this is where the two are wired together (also
    used when a backup is restored).
    """
    from sqlalchemy.orm import configure_mappers

    import app.db.models  # noqa: F401  (every mapped class, so that all are configured)
    from app.safety.audit import install

    db = open_database(url, **kwargs)  # type: ignore[arg-type]
    # The ORM's mappers are configured once per process, at the first ORM query wherever that
    # is (40-50 ms for this schema): here, with the database, not on a clinician's first click.
    configure_mappers()
    if db.at_head:
        install(db)  # automatic audit entries for patient and visit edits
    return db


def _refuse_lost_database(url: str, folder: DataFolder, settings: Settings) -> None:
    """An empty or missing database where a clinic worked before is a lost database.

    Opening it would silently start an empty clinic next to the old videos (whose folders a
    new record could then adopt); instead the clinician is told, and offered the newest
    backup. A genuinely new data folder (no videos, stills, programs or backups) starts empty.
    """
    from app.safety.integrity import database_is_empty, earlier_clinic_signs

    path = _sqlite_file(url)
    if path is None or not database_is_empty(path):
        return
    videos_dir = settings.videos_dir
    videos = Path(videos_dir) if isinstance(videos_dir, str) and videos_dir else None
    signs = earlier_clinic_signs(folder.root, videos)
    if not signs:
        return
    state = "is missing" if not path.exists() else "is empty (0 bytes)"
    raise DatabaseMissing(
        f"The clinic database {path} {state}, but this data folder holds the work of an "
        f"earlier clinic ({'; '.join(signs)}). The database has been lost or damaged. Nothing "
        "has been changed and no empty clinic was started over it. Restore the newest backup "
        "if there is one (it holds the patients and visits; the videos stay where they are), "
        "or contact support."
    )


def _check_audit_trail(clinic: Clinic) -> None:
    """Seal a pre-chain trail once, verify the chain; findings are warnings, never a block."""
    from app.safety.audit_chain import check_at_start

    report = check_at_start(clinic.db)
    clinic.audit_report = report
    if report.sealed_now:
        clinic.warnings.append(
            f"The audit trail's {report.sealed_now} earlier entries were sealed now (this "
            "version protects each entry with a chained hash); changes made to them before "
            "today cannot be detected."
        )
    if not report.intact:
        clinic.warnings.append(
            report.describe() + " Tell the clinic's administrator; Tools ▸ Audit trail shows "
            "the entries."
        )
