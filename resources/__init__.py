"""Icons, exercise pictures, templates and sounds shipped with Stride Clinic."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent


def resource_path(relative: str) -> Path:
    """Absolute path of a shipped resource (works from a source tree, a wheel or a bundle)."""
    return ROOT / relative
