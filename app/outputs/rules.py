"""Which targets a writer may use (:class:`OutputRules`; see :mod:`app.outputs`)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from app.outputs.base import _DB_SUFFIXES, OutputError

# --- which targets are allowed ------------------------------------------------------------------


def _abs(path: str | os.PathLike[str]) -> Path:
    """Absolute, ``..``-free path without following a final symlink (we must see the link)."""
    p = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
    try:
        return p.parent.resolve() / p.name
    except (OSError, RuntimeError):
        return p


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


@dataclass(frozen=True)
class OutputRules:
    """What a writer may replace or create. Build with :meth:`for_data_folder` for the clinic."""

    protected_files: tuple[Path, ...] = ()
    """Inputs of the command and the database files: never written."""
    protected_dirs: tuple[Path, ...] = ()
    """The data folder and the videos folder: nothing inside is written..."""
    managed_dirs: tuple[Path, ...] = ()
    """...except inside these (the program's own locations, e.g. the stills folder)."""
    force: bool = False
    """Replace an existing regular file (otherwise refused)."""
    parents: bool = False
    """Create missing parent folders (otherwise refused)."""
    database_files: tuple[Path, ...] = ()
    """The clinic database and its -wal/-shm/-journal companions: never written."""

    @classmethod
    def for_data_folder(
        cls,
        root: str | os.PathLike[str] | None,
        *,
        database: str | os.PathLike[str] | None = None,
        videos_root: str | os.PathLike[str] | None = None,
        inputs: Iterable[str | os.PathLike[str] | None] = (),
        managed: Iterable[str | os.PathLike[str]] = (),
        force: bool = False,
        parents: bool = False,
    ) -> OutputRules:
        """Rules protecting a data folder, its database (default: the folder's SQLite file),
        a videos folder kept elsewhere, and ``inputs``."""
        files: list[Path] = [_abs(p) for p in inputs if p]
        db_files: list[Path] = []
        dirs: list[Path] = []
        if root is not None:
            dirs.append(_real(_abs(root)))
            if database is None:
                from app.paths import DataFolder

                database = DataFolder(Path(root)).database
        if database is not None:
            db_files += _db_family(database)
        if videos_root:
            dirs.append(_real(_abs(videos_root)))
        return cls(
            protected_files=tuple(files),
            database_files=tuple(db_files),
            protected_dirs=tuple(dirs),
            managed_dirs=tuple(_real(_abs(m)) for m in managed),
            force=force,
            parents=parents,
        )

    def with_inputs(self, *inputs: str | os.PathLike[str] | None) -> OutputRules:
        return replace(
            self, protected_files=self.protected_files + tuple(_abs(p) for p in inputs if p)
        )

    def with_managed(self, *folders: str | os.PathLike[str]) -> OutputRules:
        return replace(
            self, managed_dirs=self.managed_dirs + tuple(_real(_abs(m)) for m in folders)
        )

    def check(self, path: str | os.PathLike[str]) -> Path:
        """The absolute target if it may be written; otherwise :class:`OutputError` saying why.

        Checked again just before the final rename (the folder may change while we write).
        """
        if os.fspath(path) == "":
            raise OutputError("Please give a file name to write.")
        target = _abs(path)
        name = target.name
        if os.path.islink(target):
            raise OutputError(
                f"{target} is a link to another file; Stride Clinic does not write through "
                "links. Give the real file name or another name."
            )
        real = _real(target)
        for f in self.database_files + self.protected_files:
            if real == _real(f) or (target.exists() and _same_file(target, f)):
                what = (
                    "the clinic database"
                    if f in self.database_files
                    else "an input of this command"
                )
                raise OutputError(
                    f"{target} is {what}; writing there would destroy it. Choose another file name."
                )
        if any(_inside(real, d) for d in self.protected_dirs) and not any(
            _inside(real, m) for m in self.managed_dirs
        ):
            raise OutputError(
                f"{target} is inside Stride Clinic's data folder, which only the program itself "
                "may change. Save the file somewhere else, e.g. your Documents folder."
            )
        if target.exists() or os.path.lexists(target):
            try:
                st = os.stat(target)
            except OSError as exc:
                raise OutputError(f"{target} cannot be checked: {exc.strerror or exc}.") from exc
            if stat.S_ISDIR(st.st_mode):
                raise OutputError(f"{target} is a folder: give a file name inside it.")
            if not stat.S_ISREG(st.st_mode):
                raise OutputError(
                    f"{target} is not an ordinary file (a device or a pipe); choose a file name."
                )
            if not self.force:
                raise OutputError(
                    f"{target} already exists and was left unchanged. Choose another name, or "
                    "use --force to replace it."
                )
        parent = target.parent
        if not parent.exists():
            if not self.parents:
                raise OutputError(
                    f"The folder {parent} does not exist. Create it first, or use --parents to "
                    "let Stride Clinic create it."
                )
        elif not parent.is_dir():
            raise OutputError(f"{parent} is not a folder, so {name} cannot be saved in it.")
        return target


def _db_family(database: str | os.PathLike[str]) -> list[Path]:
    db = _abs(database)
    return [db.with_name(db.name + s) for s in _DB_SUFFIXES]


def rules_for_clinic(
    clinic: object,
    *,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    managed: Iterable[str | os.PathLike[str]] = (),
    force: bool = False,
    parents: bool = False,
) -> OutputRules:
    """:class:`OutputRules` for an open :class:`app.clinic.Clinic` (data folder, its database
    wherever the settings put it, the videos folder)."""
    folder = clinic.folder  # type: ignore[attr-defined]
    db = getattr(clinic.db, "sqlite_path", None)  # type: ignore[attr-defined]
    return OutputRules.for_data_folder(
        folder.root,
        database=db or folder.database,
        videos_root=getattr(clinic, "videos_root", None),
        inputs=inputs,
        managed=managed,
        force=force,
        parents=parents,
    )


def rules_for_home(
    *,
    demo: bool = False,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    force: bool = False,
    parents: bool = False,
) -> OutputRules:
    """Rules for a command that does not open the database (``analyze``): the data folder (real
    and demo), the database named in its settings and its videos folder, read without changing
    anything."""
    from app.paths import data_folder
    from app.settings import Settings

    folder = data_folder(demo=False)
    try:
        settings = Settings.load(folder.settings_file)
        videos = settings.videos_dir if isinstance(settings.videos_dir, str) else ""
        url = settings.database_url if isinstance(settings.database_url, str) else ""
    except Exception:  # a damaged settings file must not stop a protective check
        videos, url = "", ""
    extra_db: list[str] = []
    if url.startswith("sqlite:///"):
        extra_db = [url.removeprefix("sqlite:///")]
    rules = OutputRules.for_data_folder(
        folder.root, videos_root=videos or None, inputs=inputs, force=force, parents=parents
    )
    if extra_db:
        rules = replace(rules, database_files=rules.database_files + tuple(_db_family(extra_db[0])))
    del demo  # the demo clinic lives inside the real data folder, which is protected whole
    return rules
