"""The exercise library: a starter set shipped with the program plus the clinic's own.

The starter set lives in ``resources/exercises/library.json`` (pictures beside it, SVG line
drawings) and is never written to. The clinic's additions, edits and hidden starter entries are
stored in ``<data folder>/exercises/library.json`` with any pictures the clinic imports copied
beside it, so the library travels with the data folder and its backups. An edited starter
exercise is stored as a clinic entry with the same id (it shadows the shipped one); removing a
starter exercise hides it, and :meth:`ExerciseLibrary.restore_starter` brings it back.

Evidence for specific stretches is weak (clinical reference), so nothing here is fixed: doses
are starting suggestions and every text can be changed per clinic and per patient.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from app.errors import ClinicError
from resources import resource_path

SCHEMA_VERSION = 1
STARTER_DIR = resource_path("exercises")
PICTURE_SUFFIXES = (".svg", ".png", ".jpg", ".jpeg")


class ExerciseLibraryError(ClinicError):
    """The library cannot be read or changed. ``str(err)`` is a sentence for the clinician."""


@dataclass
class Dose:
    """How much of an exercise: sets × reps, or a hold time, or a duration; and how often."""

    sets: int | None = None
    reps: int | None = None
    hold_s: int | None = None
    hold_max_s: int | None = None
    """Upper end of a hold range (e.g. 30–60 s); None for a single hold time."""
    duration: str = ""
    """Free text for timed drills, e.g. "1 minute"."""
    per_side: bool = False
    frequency: str = ""

    def validate(self) -> None:
        """Raise :class:`ExerciseLibraryError` for impossible numbers (typing errors)."""
        limits = {"sets": 20, "reps": 200, "hold_s": 600, "hold_max_s": 600}
        for name, top in limits.items():
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int) or v < 1 or v > top:
                label = {"hold_s": "hold time", "hold_max_s": "longest hold"}.get(name, name)
                raise ExerciseLibraryError(
                    f"The {label} must be a whole number between 1 and {top} (got {v!r})."
                )
        if self.hold_max_s is not None and (self.hold_s is None or self.hold_max_s < self.hold_s):
            raise ExerciseLibraryError("The longest hold must not be shorter than the hold time.")

    @property
    def text(self) -> str:
        """Patient wording, e.g. "Hold 30 s, each side · 2 times · daily"."""
        side = ", each side" if self.per_side else ""
        parts: list[str] = []
        if self.hold_s:
            hold = f"{self.hold_s}–{self.hold_max_s} s" if self.hold_max_s else f"{self.hold_s} s"
            parts.append(f"Hold {hold}{side}")
            if self.sets:
                parts.append(f"{self.sets} time{'s' if self.sets != 1 else ''}")
        elif self.reps:
            sets = f"{self.sets} sets × " if self.sets and self.sets > 1 else ""
            parts.append(f"{sets}{self.reps} repetitions{side}")
        elif self.duration:
            sets = f"{self.sets} × " if self.sets and self.sets > 1 else ""
            parts.append(f"{sets}{self.duration}{side}")
        elif self.sets:
            parts.append(f"{self.sets} sets{side}")
        if self.frequency.strip():
            parts.append(self.frequency.strip())
        return " · ".join(parts)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Dose:
        data = data or {}

        def _int(key: str) -> int | None:
            v = data.get(key)
            if v is None or v == "":
                return None
            try:
                return int(v)
            except (TypeError, ValueError):
                raise ExerciseLibraryError(
                    f"An exercise dose is damaged ({key} = {v!r})."
                ) from None

        return cls(
            sets=_int("sets"),
            reps=_int("reps"),
            hold_s=_int("hold_s"),
            hold_max_s=_int("hold_max_s"),
            duration=str(data.get("duration") or ""),
            per_side=bool(data.get("per_side", False)),
            frequency=str(data.get("frequency") or ""),
        )


@dataclass
class Exercise:
    """One library entry. ``picture`` is a file name in the starter or clinic folder."""

    id: str
    name: str
    instructions: str = ""
    picture: str = ""
    dose: Dose = field(default_factory=Dose)
    category: str = "other"
    source: str = ""
    builtin: bool = False
    """True for a shipped starter entry (possibly shadowed by a clinic edit)."""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("builtin")
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, builtin: bool = False) -> Exercise:
        if not isinstance(data, dict) or not str(data.get("id") or "").strip():
            raise ExerciseLibraryError("An exercise in the library has no identifier.")
        name = str(data.get("name") or "").strip()
        if not name:
            raise ExerciseLibraryError(f"The exercise {data.get('id')!r} has no name.")
        return cls(
            id=str(data["id"]).strip(),
            name=name,
            instructions=str(data.get("instructions") or ""),
            picture=str(data.get("picture") or ""),
            dose=Dose.from_dict(data.get("dose")),
            category=str(data.get("category") or "other"),
            source=str(data.get("source") or ""),
            builtin=builtin,
        )


def slugify(name: str) -> str:
    """A file- and JSON-safe id from an exercise name (accents folded, other scripts kept)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", folded.lower()).strip("_")
    return slug or "exercise"


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ExerciseLibraryError(
            f"The {what} ({path}) cannot be read: {exc}. Restore it from a backup or delete it "
            "to start again from the starter exercises."
        ) from exc
    if not isinstance(raw, dict):
        raise ExerciseLibraryError(f"The {what} ({path}) is not a valid exercise list.")
    return raw


class ExerciseLibrary:
    """Starter exercises merged with the clinic's own; edits are saved with :meth:`save`."""

    def __init__(self, clinic_dir: Path | None, *, starter_dir: Path = STARTER_DIR) -> None:
        """``clinic_dir`` is ``<data folder>/exercises``; None gives a read-only starter set."""
        self.clinic_dir = Path(clinic_dir) if clinic_dir is not None else None
        self.starter_dir = Path(starter_dir)
        starter = _read_json(self.starter_dir / "library.json", "starter exercise library")
        self._starter = {
            e.id: e
            for e in (Exercise.from_dict(x, builtin=True) for x in starter.get("exercises", []))
        }
        self._own: dict[str, Exercise] = {}
        self._hidden: set[str] = set()
        if self.clinic_dir is not None:
            own = _read_json(self.clinic_dir / "library.json", "clinic's exercise library")
            for x in own.get("exercises", []):
                ex = Exercise.from_dict(x)
                ex.builtin = ex.id in self._starter
                self._own[ex.id] = ex
            self._hidden = {str(h) for h in own.get("hidden", [])}

    @classmethod
    def for_data_folder(cls, root: Path) -> ExerciseLibrary:
        """The library of a data folder (``<root>/exercises``)."""
        return cls(Path(root) / "exercises")

    # --- reading -------------------------------------------------------------------------------

    def exercises(self) -> list[Exercise]:
        """All visible exercises: starter order first, then the clinic's own in added order."""
        out = [self._own.get(i, e) for i, e in self._starter.items() if i not in self._hidden]
        out += [e for i, e in self._own.items() if i not in self._starter]
        return [replace(e, dose=replace(e.dose)) for e in out]

    def get(self, exercise_id: str) -> Exercise | None:
        """One exercise by id (a copy), or None if unknown or hidden."""
        return next((e for e in self.exercises() if e.id == exercise_id), None)

    def hidden_starters(self) -> list[Exercise]:
        return [e for i, e in self._starter.items() if i in self._hidden]

    def picture_path(self, exercise: Exercise) -> Path | None:
        """The picture file on disk (clinic folder first, then the starter folder), or None."""
        name = exercise.picture.strip()
        if not name:
            return None
        candidate = Path(name)
        if candidate.is_absolute():
            return candidate if candidate.is_file() else None
        folders = [self.clinic_dir] if self.clinic_dir is not None else []
        folders.append(self.starter_dir)
        for folder in folders:
            p = folder / candidate.name
            if p.is_file():
                return p
        return None

    # --- changing ------------------------------------------------------------------------------

    def _require_writable(self) -> Path:
        if self.clinic_dir is None:
            raise ExerciseLibraryError("This exercise library is read-only (no data folder).")
        return self.clinic_dir

    def add(self, exercise: Exercise) -> Exercise:
        """Add a new exercise; a unique id is made from the name when missing or taken."""
        self._require_writable()
        exercise.dose.validate()
        if not exercise.name.strip():
            raise ExerciseLibraryError("Please give the exercise a name.")
        base = exercise.id.strip() or slugify(exercise.name)
        new_id, n = base, 2
        while new_id in self._own or new_id in self._starter:
            new_id, n = f"{base}_{n}", n + 1
        ex = replace(exercise, id=new_id, builtin=False, name=exercise.name.strip())
        self._own[new_id] = ex
        return ex

    def update(self, exercise: Exercise) -> None:
        """Save changes to an existing exercise (a starter entry becomes a clinic edit)."""
        self._require_writable()
        exercise.dose.validate()
        if not exercise.name.strip():
            raise ExerciseLibraryError("Please give the exercise a name.")
        if exercise.id not in self._own and exercise.id not in self._starter:
            raise ExerciseLibraryError(f"There is no exercise {exercise.name!r} to change.")
        self._own[exercise.id] = replace(exercise, builtin=exercise.id in self._starter)

    def remove(self, exercise_id: str) -> None:
        """Remove a clinic exercise, or hide a starter one (it can be restored)."""
        self._require_writable()
        if exercise_id in self._starter:
            self._hidden.add(exercise_id)
            self._own.pop(exercise_id, None)
        elif self._own.pop(exercise_id, None) is None:
            raise ExerciseLibraryError("That exercise is not in the library.")

    def restore_starter(self, exercise_id: str) -> None:
        """Undo the clinic's edit or removal of a shipped exercise."""
        self._require_writable()
        self._hidden.discard(exercise_id)
        if exercise_id in self._starter:
            self._own.pop(exercise_id, None)

    def import_picture(self, source: Path | str) -> str:
        """Copy a picture file into the clinic folder and return the name to store."""
        folder = self._require_writable()
        src = Path(source)
        if src.suffix.lower() not in PICTURE_SUFFIXES:
            raise ExerciseLibraryError(
                "Pictures must be SVG, PNG or JPEG files (" + src.name + " is not)."
            )
        if not src.is_file():
            raise ExerciseLibraryError(f"The picture {src} does not exist.")
        folder.mkdir(parents=True, exist_ok=True)
        stem, n = slugify(src.stem), 1
        dest = folder / f"{stem}{src.suffix.lower()}"
        while dest.exists() and dest.resolve() != src.resolve():
            n += 1
            dest = folder / f"{stem}_{n}{src.suffix.lower()}"
        try:
            if dest.resolve() != src.resolve():
                shutil.copy2(src, dest)
        except OSError as exc:
            raise ExerciseLibraryError(f"The picture could not be copied: {exc}.") from exc
        return dest.name

    def save(self) -> None:
        """Write the clinic's part atomically (the starter set is never written)."""
        folder = self._require_writable()
        data = {
            "schema_version": SCHEMA_VERSION,
            "exercises": [e.to_dict() for e in self._own.values()],
            "hidden": sorted(self._hidden),
        }
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".library-", dir=folder)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2, ensure_ascii=False)
            os.replace(tmp, folder / "library.json")
        except OSError as exc:
            raise ExerciseLibraryError(
                f"The exercise library could not be saved in {folder}: {exc.strerror or exc}."
            ) from exc


@dataclass
class SelectedExercise:
    """An exercise chosen for one patient, copied with its dose so a reprint is unchanged."""

    exercise_id: str
    name: str
    instructions: str
    dose: Dose
    picture_path: str = ""
    """Absolute path of the picture when the program was made ("" = none)."""

    @property
    def dose_text(self) -> str:
        return self.dose.text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SelectedExercise:
        return cls(
            exercise_id=str(data.get("exercise_id") or ""),
            name=str(data.get("name") or ""),
            instructions=str(data.get("instructions") or ""),
            dose=Dose.from_dict(data.get("dose")),
            picture_path=str(data.get("picture_path") or ""),
        )

    @classmethod
    def from_exercise(cls, library: ExerciseLibrary, exercise: Exercise) -> SelectedExercise:
        pic = library.picture_path(exercise)
        return cls(
            exercise_id=exercise.id,
            name=exercise.name,
            instructions=exercise.instructions,
            dose=replace(exercise.dose),
            picture_path=str(pic) if pic else "",
        )
