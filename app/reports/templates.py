"""Home-program templates per complaint: the advice lines and default exercises that follow the
patient's complaint (low back pain, patellofemoral pain, Achilles tendinopathy, MTSS/bone stress,
ITB syndrome, general).

Where they live: the starter set is shipped in ``resources/programs/templates.json`` and never
written; the clinic's edited templates go to ``<data folder>/programs/templates.json`` (the
folder the printed programs already live in, so they travel with the data folder and its
backups), written atomically (temporary file + ``os.replace``). No database migration is needed.
A clinic entry with the id of a starter template replaces it; :meth:`TemplateStore.reset`
brings the starter back.

Choosing a template: :func:`match_complaint` maps the free-text complaint on the patient's
record to a template by keywords (case- and accent-insensitive); nothing matches → ``general``.
The dialog shows the choice and lets the clinician pick another.

Every template names its sources (``sources``) from ``docs/clinical.md``; where clinical.md has
nothing for a complaint the text says it is a clinic default (a clinical heuristic to review).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.errors import ClinicError
from resources import resource_path

SCHEMA_VERSION = 1
STARTER_FILE = resource_path("programs/templates.json")
CLINIC_FILE_NAME = "templates.json"
DEFAULT_TEMPLATE = "general"


class TemplateError(ClinicError):
    """Templates cannot be read or saved. ``str(err)`` is a sentence for the clinician."""


@dataclass
class ProgramTemplate:
    """Advice and default exercises for one complaint."""

    id: str
    name: str
    keywords: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    exercises: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    builtin: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, builtin: bool = False) -> ProgramTemplate:
        def strings(key: str) -> list[str]:
            value = data.get(key) or []
            if not isinstance(value, list):
                raise TemplateError(f"The template {data.get('id')!r} has a damaged {key!r} list.")
            return [str(x) for x in value if str(x).strip()]

        tid, name = str(data.get("id") or "").strip(), str(data.get("name") or "").strip()
        if not tid or not name:
            raise TemplateError("A home-program template has no id or name.")
        return cls(
            tid, name, strings("keywords"), strings("advice"), strings("exercises"),
            strings("sources"), builtin,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("builtin")
        return d


def _fold(text: str) -> str:
    """Lower case without accents, so "Tendinopatía aquílea" style input still matches."""
    nfkd = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in nfkd if not unicodedata.combining(c))


def _read(path: Path, what: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise TemplateError(f"The {what} ({path}) could not be read: {exc}.") from exc
    if not isinstance(data, dict):
        raise TemplateError(f"The {what} ({path}) is damaged.")
    if int(data.get("schema_version", SCHEMA_VERSION)) > SCHEMA_VERSION:
        raise TemplateError(f"The {what} was saved by a newer Stride Clinic.")
    return data


class TemplateStore:
    """Starter templates merged with the clinic's edits."""

    def __init__(self, clinic_dir: Path | None, *, starter_file: Path = STARTER_FILE) -> None:
        """``clinic_dir`` is ``<data folder>/programs``; None gives the read-only starter set."""
        self.clinic_dir = Path(clinic_dir) if clinic_dir is not None else None
        starter = _read(Path(starter_file), "starter home-program templates")
        self._starter = {
            t.id: t
            for t in (
                ProgramTemplate.from_dict(x, builtin=True) for x in starter.get("templates", [])
            )
        }
        self.default_id = str(starter.get("default") or DEFAULT_TEMPLATE)
        self._own: dict[str, ProgramTemplate] = {}
        if self.clinic_dir is not None:
            own = _read(self.clinic_dir / CLINIC_FILE_NAME, "clinic's home-program templates")
            for x in own.get("templates", []):
                t = ProgramTemplate.from_dict(x)
                t.builtin = t.id in self._starter
                self._own[t.id] = t

    @classmethod
    def for_data_folder(cls, root: Path) -> TemplateStore:
        """The templates of a data folder (``<root>/programs``)."""
        from app.reports.home_program import PROGRAMS_SUBFOLDER

        return cls(Path(root) / PROGRAMS_SUBFOLDER)

    def templates(self) -> list[ProgramTemplate]:
        """Starter order first (clinic edits in place), then the clinic's own templates."""
        out = [self._own.get(tid, t) for tid, t in self._starter.items()]
        return out + [t for tid, t in self._own.items() if tid not in self._starter]

    def get(self, template_id: str) -> ProgramTemplate | None:
        return self._own.get(template_id) or self._starter.get(template_id)

    def default(self) -> ProgramTemplate:
        t = self.get(self.default_id) or next(iter(self.templates()), None)
        if t is None:
            raise TemplateError("No home-program template is installed.")
        return t

    def match_complaint(self, complaint: str | None) -> ProgramTemplate:
        """The template with a keyword earliest in ``complaint``; else the default (``general``).

        Keywords match at the start of a word, ignoring case and accents. The earliest mention
        wins, so "Achilles pain, came back after a break" is Achilles, not low back pain."""
        text = _fold(complaint or "")
        best: tuple[int, int, ProgramTemplate] | None = None
        for order, t in enumerate(self.templates()):
            for k in t.keywords:
                if not k.strip():
                    continue
                m = re.search(r"(?<!\w)" + re.escape(_fold(k.strip())), text)
                if m and (best is None or (m.start(), order) < best[:2]):
                    best = (m.start(), order, t)
        return best[2] if best is not None else self.default()

    def update(self, template: ProgramTemplate) -> None:
        """Keep the clinic's version of ``template`` (call :meth:`save` to write it)."""
        template.builtin = template.id in self._starter
        self._own[template.id] = template

    def reset(self, template_id: str) -> None:
        """Drop the clinic's edit of a starter template (the shipped text comes back)."""
        self._own.pop(template_id, None)

    def save(self) -> None:
        """Write the clinic's templates atomically (the starter file is never written)."""
        if self.clinic_dir is None:
            raise TemplateError("These templates are read-only (no data folder).")
        data = {
            "schema_version": SCHEMA_VERSION,
            "templates": [t.to_dict() for t in self._own.values()],
        }
        folder = self.clinic_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".templates-", suffix=".tmp", dir=folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(data, fh, indent=2, ensure_ascii=False)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, folder / CLINIC_FILE_NAME)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise TemplateError(
                f"The home-program templates could not be saved in {folder}: {exc.strerror or exc}."
            ) from exc
