"""The one exception type of the analysis package: a plain-language message for the clinician."""

from __future__ import annotations


class AnalysisError(Exception):
    """Bad or unusable input. ``str(error)`` says what is wrong and what to do about it."""
