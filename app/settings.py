"""Workstation settings stored as JSON in the data folder (not in the database).

The database URL is one setting so a clinic can later point several workstations at one
PostgreSQL server; everything else has safe defaults.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass
class Settings:
    database_url: str = ""  # empty: the embedded SQLite file in the data folder
    videos_dir: str = ""  # empty: <data folder>/videos
    video_memory_budget_mb: int = 1500
    shank_angle_heuristic_deg: float = 10.0  # clinical heuristic, not a validated cut-off
    clinic_name: str = "Stride Clinic"
    clinic_contact: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Settings:
        """Read settings; a missing or unreadable file gives defaults (never blocks start-up)."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def save(self, path: Path) -> None:
        """Write atomically: a crash mid-write leaves the old file intact."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(asdict(self), fh, indent=2, ensure_ascii=False)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
