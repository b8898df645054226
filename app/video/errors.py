"""Video errors with plain-language messages a physiotherapist can act on.

Every exception raised by the video engine is a :class:`VideoError`. ``str(err)`` and
``err.message`` give the clinician-facing sentence; ``err.detail`` keeps the technical cause
(PyAV/OpenCV text) for logs. Nothing from PyAV or OpenCV escapes untranslated.
"""

from __future__ import annotations

from pathlib import Path

from app.errors import ClinicError


class VideoError(ClinicError):
    """Base class: ``message`` is for the clinician, ``detail`` for the log."""

    default_message = "This video could not be used."

    def __init__(
        self, message: str | None = None, *, path: str | Path | None = None, detail: str = ""
    ) -> None:
        super().__init__(message or self.default_message, detail)
        self.path = Path(path) if path is not None else None


class VideoNotFound(VideoError):
    """The file does not exist (moved, renamed, on an unplugged drive)."""

    default_message = (
        "The video file could not be found. It may have been moved, renamed or be on a drive "
        "that is not connected."
    )


class NotAVideo(VideoError):
    """The file is empty, holds no picture (audio only), or is not a video at all."""

    default_message = (
        "This file is not a video the program can open (it is empty, has no picture, or is "
        "another kind of file)."
    )


class UnsupportedCodec(VideoError):
    """A video stream exists but no decoder for its compression format is available."""

    default_message = (
        "This video uses a compression format the program cannot read. Export it from the "
        "phone or camera as H.264 (MP4) and try again."
    )


class CorruptVideo(VideoError):
    """The file is damaged or was cut short; ``frames_readable`` says how much decodes."""

    default_message = (
        "This video is damaged or incomplete (for example the recording was interrupted or "
        "the copy did not finish)."
    )

    def __init__(
        self,
        message: str | None = None,
        *,
        path: str | Path | None = None,
        detail: str = "",
        frames_readable: int = 0,
    ) -> None:
        super().__init__(message, path=path, detail=detail)
        self.frames_readable = frames_readable


class AbsurdFrameRate(VideoError):
    """Frame-rate metadata is missing or impossible and timestamps cannot replace it."""

    default_message = (
        "The video does not say how many frames it holds per second, so times cannot be "
        "computed. Please enter the recording frame rate (for example 240 for slow motion)."
    )


class DiskFull(VideoError):
    """Not enough free space in the data folder to import a video."""

    default_message = "There is not enough free disk space to import this video."


class Cancelled(VideoError):
    """A long operation (import, caching) was cancelled by the user."""

    default_message = "The operation was cancelled."
