"""The one exception type of the analysis package: a plain-language message for the clinician."""

from __future__ import annotations

from app.errors import ClinicError


class AnalysisError(ClinicError):
    """Bad or unusable input. ``str(error)`` says what is wrong and what to do about it."""


class SlowedClipError(AnalysisError):
    """The stepping is far slower than anyone runs or walks: the clip looks slowed down.

    ``found_spm`` is the cadence as the file's times say; ``suggested_capture_fps`` the capture
    rate that would make it a plausible cadence (None when no common rate fits), to be confirmed
    by the clinician (the analysis asks for it instead of guessing).
    """

    def __init__(
        self,
        message: str,
        found_spm: float,
        playback_fps: float,
        suggested_capture_fps: float | None,
    ) -> None:
        super().__init__(message)
        self.found_spm = found_spm
        self.playback_fps = playback_fps
        self.suggested_capture_fps = suggested_capture_fps
