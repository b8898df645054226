"""Stride Clinic domain logic: records, video, analysis, prescription and reports.

Nothing in this package may import Qt, pyqtgraph or the ``ui`` package; a test enforces it.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("stride-clinic")
except (
    PackageNotFoundError
):  # running from a source tree without installation (e.g. a frozen bundle)
    __version__ = "0.1.0"

APP_NAME = "Stride Clinic"
