"""Workstation settings stored as JSON in the data folder (not in the database).

The database URL is one setting so a clinic can later point several workstations at one
PostgreSQL server; everything else has safe defaults.

Validation happens once, in :meth:`Settings.load` (and :meth:`Settings.from_dict`, which the
settings dialog uses before saving): every key has an explicit check below, so the rest of the
program can trust the types and ranges of ``Settings`` and of the known ``extra`` keys. A bad
value never stops the program where a default is safe: it is replaced by the default and
described by a :class:`SettingProblem` (shown in the status bar and printed by the command
line). Two keys are *not* safe to replace, because a default would silently put new work in
another place than the old: ``database_url`` (a second, empty clinic database) and
``videos_dir`` (new videos beside the old ones' folder, so either set goes missing later). For
those the problem is ``fatal`` and :func:`app.clinic.open_clinic` refuses to start, saying what
to write instead. No third-party schema library: eight keys do not justify a dependency.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from app.errors import ClinicError
from app.paths import DataFolderError

EXTRA_CLINIC_LOGO = "clinic_logo"  # same key as app.reports.home_program.LOGO_SETTING
MEMORY_BUDGET_RANGE_MB = (200, 16000)  # the settings dialog offers the same range
SHANK_HEURISTIC_RANGE_DEG = (0.0, 45.0)
MAX_CLINIC_NAME = 200
MAX_CLINIC_CONTACT = 1000
# The one driver for each dialect that the project installs (pyproject.toml).
_DRIVERS = {"sqlite": {"pysqlite"}, "postgresql": {"psycopg"}}


class SettingsError(DataFolderError):
    """The settings file holds a value the program must not guess around (start refused)."""


class SettingValueError(ClinicError, ValueError):
    """One setting's value is unusable; ``str(err)`` says why in plain words."""


@dataclass(frozen=True)
class SettingProblem:
    """A key of settings.json whose value was not used. ``key`` is dotted for ``extra``."""

    key: str
    message: str
    fatal: bool = False

    def __str__(self) -> str:
        return f"Setting “{self.key}” in settings.json: {self.message}"


# --- per-key checks -------------------------------------------------------------------------


def _number(value: object, what: str, lo: float, hi: float, *, whole: bool = False) -> float:
    if isinstance(value, bool) or value is None:
        raise SettingValueError(f"must be a number of {what}, not {json.dumps(value)}")
    try:
        number = (
            float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
        )  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise SettingValueError(
            f"must be a number of {what}, not {json.dumps(value, default=str)[:60]}"
        ) from None
    if not math.isfinite(number) or not lo <= number <= hi:
        raise SettingValueError(f"must be between {lo:g} and {hi:g} {what}, not {number:g}")
    if whole and number != int(number):
        raise SettingValueError(f"must be a whole number of {what}, not {number:g}")
    return number


def _text(value: object, what: str, *, multiline: bool, max_len: int) -> str:
    from app.records.validation import ValidationError, clean_text

    if not isinstance(value, str):
        raise SettingValueError(f"must be text ({what}), not {json.dumps(value, default=str)[:60]}")
    try:
        return clean_text(value, "setting", "The text", multiline=multiline, max_len=max_len) or ""
    except ValidationError as exc:
        raise SettingValueError(exc.message[0].lower() + exc.message[1:].rstrip(".")) from None


def check_database_url(value: object) -> str:
    """``""`` (the data folder's own SQLite file) or a normalised SQLAlchemy URL.

    Accepts ``sqlite:///`` with an absolute file path and ``postgresql://`` /
    ``postgresql+psycopg://`` (plain ``postgresql://`` is given the installed psycopg driver).
    Raises :class:`SettingValueError` with the fix for anything else, for example
    ``postgres://`` (the old Heroku spelling that SQLAlchemy no longer accepts) or a bare
    file name (which would depend on the folder the program happened to start in).
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise SettingValueError(
            "must be a database address in quotes, for example "
            '"postgresql+psycopg://stride@server/stride_clinic", or "" for the database in the '
            f"data folder (found {json.dumps(value, default=str)[:60]})"
        )
    text = value.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme.split("+", 1)[0] == "postgres":
        fixed = "postgresql" + text[len("postgres") :]
        raise SettingValueError(
            "starts with “postgres://”, which is an old spelling the database library no longer "
            f"accepts. Write “postgresql://” instead: {_hide_password(fixed)}"
        )
    if not scheme:
        raise SettingValueError(
            f"“{text[:80]}” is a file name, not a database address. Leave it empty to use the "
            "database in the data folder, or write the full path as sqlite:////full/path/clinic.db"
            " (a bare name would depend on the folder the program was started from)"
        )
    try:
        url = make_url(text)
    except (ArgumentError, ValueError) as exc:
        raise SettingValueError(f"is not a valid database address ({exc})") from None
    backend, driver = url.get_backend_name(), url.get_driver_name()
    if backend not in _DRIVERS:
        raise SettingValueError(
            f"uses “{backend}”; Stride Clinic works with sqlite and postgresql databases only"
        )
    if backend == "postgresql":
        if "+" not in url.drivername:
            url = url.set(drivername="postgresql+psycopg")
        elif driver not in _DRIVERS["postgresql"]:
            raise SettingValueError(
                f"asks for the “{driver}” driver, which is not installed; write "
                "postgresql+psycopg:// (or just postgresql://)"
            )
        if not url.host and not (url.query or {}).get("host"):
            raise SettingValueError("names no database server (postgresql://user@server/name)")
        if not url.database:
            raise SettingValueError("names no database (…@server/stride_clinic)")
        return url.render_as_string(hide_password=False)
    if "+" in url.drivername and driver not in _DRIVERS["sqlite"]:
        raise SettingValueError(f"asks for the “{driver}” driver, which is not installed")
    db = url.database or ""
    if db in ("", ":memory:") or db.startswith("file:"):
        raise SettingValueError(
            "names no database file (an in-memory database would lose everything at exit)"
        )
    if not Path(db).expanduser().is_absolute():
        raise SettingValueError(
            f"gives the relative file name “{db}”, which would depend on the folder the program "
            "was started from: write the full path, sqlite:////full/path/clinic.db"
        )
    return f"sqlite:///{Path(db).expanduser()}"


def _hide_password(text: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(text).render_as_string(hide_password=True)
    except Exception:  # not parseable: show only the start, never a possible password
        return text.split("@")[-1][:80]


def check_videos_dir(value: object) -> str:
    """``""`` (``<data folder>/videos``) or the absolute path of a folder, ``~`` expanded."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not value.strip():
        raise SettingValueError(
            'must be the full path of a folder in quotes, or "" for the videos folder inside '
            f"the data folder (found {json.dumps(value, default=str)[:60]})"
        )
    path = Path(value.strip()).expanduser()
    if not path.is_absolute():
        raise SettingValueError(
            f"“{value}” is not a full path (it would depend on the folder the program was "
            "started from); write the full path of the videos folder"
        )
    if path.exists() and not path.is_dir():
        raise SettingValueError(f"“{path}” is a file, not a folder")
    return str(path)


def _memory(value: object) -> int:
    return int(_number(value, "MB", *MEMORY_BUDGET_RANGE_MB))


def _shank(value: object) -> float:
    return _number(value, "degrees", *SHANK_HEURISTIC_RANGE_DEG)


def _clinic_name(value: object) -> str:
    return (
        _text(value, "the clinic's name", multiline=False, max_len=MAX_CLINIC_NAME)
        or "Stride Clinic"
    )


def _clinic_contact(value: object) -> str:
    return _text(value, "address, phone", multiline=True, max_len=MAX_CLINIC_CONTACT)


def _logo(value: object) -> str:
    if not isinstance(value, str):
        raise SettingValueError("must be the path of a picture file in quotes")
    return value.strip()


def _disability_scale(value: object) -> str:
    if not isinstance(value, str) or value.strip().lower() not in ("odi", "rmdq"):
        raise SettingValueError(
            f'must be "odi" or "rmdq", not {json.dumps(value, default=str)[:40]}'
        )
    return value.strip().lower()


# Keys inside ``extra`` that some part of the program reads: key -> (check, where it is used).
# A bad value is dropped, so the reader falls back to its own default.
EXTRA_CHECKS: dict[str, Callable[[object], object]] = {
    EXTRA_CLINIC_LOGO: _logo,  # app.reports.home_program
    "backup_every_hours": lambda v: _number(v, "hours", 0, 24 * 30),  # app.safety.backup
    "backup_keep_daily": lambda v: int(_number(v, "backups", 1, 366, whole=True)),
    "backup_keep_weekly": lambda v: int(_number(v, "backups", 0, 520, whole=True)),
    "idle_lock_minutes": lambda v: _number(v, "minutes", 0, 24 * 60),  # app.safety.accounts
    "disability_scale": _disability_scale,  # app.history.outcomes
}

# Top-level keys: check, and whether a default may stand in for a bad value.
_CHECKS: dict[str, tuple[Callable[[object], object], bool]] = {
    "database_url": (check_database_url, True),
    "videos_dir": (check_videos_dir, True),
    "video_memory_budget_mb": (_memory, False),
    "shank_angle_heuristic_deg": (_shank, False),
    "clinic_name": (_clinic_name, False),
    "clinic_contact": (_clinic_contact, False),
}


@dataclass
class Settings:
    database_url: str = ""  # empty: the embedded SQLite file in the data folder
    videos_dir: str = ""  # empty: <data folder>/videos
    video_memory_budget_mb: int = 1500
    shank_angle_heuristic_deg: float = 10.0  # clinical heuristic, not a validated cut-off
    clinic_name: str = "Stride Clinic"
    clinic_contact: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # Not saved: what was wrong in the file, and keys a newer version wrote (kept on save).
    problems: list[SettingProblem] = field(default_factory=list, compare=False, repr=False)
    unknown: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Settings:
        """Settings from a JSON object: every bad value replaced by its default, with a problem."""
        out = cls()
        problems: list[SettingProblem] = []
        saved = {f.name for f in fields(cls)} - {"problems", "unknown"}
        for key, value in raw.items():
            if key not in saved:
                out.unknown[key] = value
                continue
            if key == "extra":
                out.extra = _checked_extra(value, problems)
                continue
            check, fatal = _CHECKS[key]
            try:
                setattr(out, key, check(value))
            except SettingValueError as exc:
                default = getattr(cls(), key)
                tail = "" if fatal else f" The default ({json.dumps(default)}) is used."
                problems.append(SettingProblem(key, f"{exc}.{tail}", fatal=fatal))
        out.problems = problems
        return out

    @classmethod
    def load(cls, path: Path) -> Settings:
        """Read and check settings; a missing file gives defaults, an unreadable one defaults
        with a problem (never blocks start-up except for the two fatal keys)."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except (OSError, UnicodeDecodeError) as exc:
            return cls(problems=[_unreadable(f"could not be read ({exc})")])
        try:
            raw = json.loads(text)
        except ValueError as exc:
            return cls(problems=[_unreadable(f"is not valid JSON ({exc})")])
        if not isinstance(raw, dict):
            return cls(problems=[_unreadable("does not hold a JSON object { … }")])
        return cls.from_dict(raw)

    def to_dict(self) -> dict[str, Any]:
        """What :meth:`save` writes: the known keys, then keys this version does not know."""
        data = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("problems", "unknown")
        }
        data["extra"] = dict(self.extra)
        return {**self.unknown, **data}

    @property
    def fatal_problems(self) -> list[SettingProblem]:
        return [p for p in self.problems if p.fatal]

    def save(self, path: Path) -> None:
        """Write atomically: a crash mid-write leaves the old file intact.

        An existing file that is not valid JSON is kept beside it (``settings-unreadable-*.json``)
        rather than overwritten: it may hold the only copy of a hand-written server address.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        _keep_unreadable(path)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.to_dict(), fh, indent=2, ensure_ascii=False)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _unreadable(why: str) -> SettingProblem:
    return SettingProblem("settings.json", f"the file {why}. All defaults are used.")


def _checked_extra(value: object, problems: list[SettingProblem]) -> dict[str, Any]:
    if not isinstance(value, dict):
        problems.append(
            SettingProblem(
                "extra",
                f"must be a JSON object {{ … }}, not {json.dumps(value, default=str)[:60]}. "
                "All its settings (logo, backups, idle lock) use their defaults.",
            )
        )
        return {}
    extra: dict[str, Any] = {}
    for key, item in value.items():
        check = EXTRA_CHECKS.get(key)
        if check is None:
            extra[key] = item  # another version's key: keep it untouched
            continue
        try:
            extra[key] = check(item)
        except SettingValueError as exc:
            problems.append(SettingProblem(f"extra.{key}", f"{exc}. The default is used."))
    return extra


def _keep_unreadable(path: Path) -> None:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        # On failure the atomic replace below still leaves one whole file either way.
        with contextlib.suppress(OSError):
            os.replace(path, path.with_name(f"settings-unreadable-{stamp}.json"))
