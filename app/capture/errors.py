"""Capture problems a physiotherapist can act on, each with a plain-language message.

Every exception carries a :class:`CameraProblem` value so the UI can pick an icon or a
Retry button without parsing text, and a ``message`` written for the clinician.
"""

from __future__ import annotations

from enum import Enum

from app.errors import ClinicError


class CameraProblem(str, Enum):
    """Why the camera cannot deliver pictures (a state value the UI can show)."""

    NO_CAMERA = "no_camera"
    BUSY = "busy"
    DISCONNECTED = "disconnected"
    FORMAT_UNSUPPORTED = "format_unsupported"
    FILE_UNREADABLE = "file_unreadable"


class CaptureError(ClinicError):
    """Base class of every capture error; ``str(err)`` is the user-facing message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CameraError(CaptureError):
    """The camera cannot be used right now; ``problem`` says why, ``retry`` whether retrying may help."""

    problem: CameraProblem = CameraProblem.NO_CAMERA
    retry: bool = True

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message())

    @classmethod
    def default_message(cls) -> str:  # pragma: no cover - overridden
        return "The camera cannot be used."


class NoCameraError(CameraError):
    """No camera is connected (or the chosen one is not there)."""

    problem = CameraProblem.NO_CAMERA

    @classmethod
    def default_message(cls) -> str:
        return (
            "No camera connected. Check the cable and that the camera is on; that no other "
            "program is using it (a video call: close it); and that this computer lets programs "
            "use the camera (privacy settings ▸ Camera; on Linux the “video” group). "
            "Then press Retry."
        )


class CameraBusyError(CameraError):
    """The camera exists but another program is using it."""

    problem = CameraProblem.BUSY

    @classmethod
    def default_message(cls) -> str:
        return (
            "The camera is being used by another program (for example a video call). "
            "Close that program, then press Retry."
        )


class CameraDisconnectedError(CameraError):
    """The camera stopped delivering pictures (unplugged, cable fault, power)."""

    problem = CameraProblem.DISCONNECTED

    @classmethod
    def default_message(cls) -> str:
        return (
            "The camera stopped sending pictures; it may have been unplugged. "
            "Check the cable, then press Retry."
        )


class FormatUnsupportedError(CameraError):
    """The camera refused the requested resolution / frame rate."""

    problem = CameraProblem.FORMAT_UNSUPPORTED

    @classmethod
    def default_message(cls) -> str:
        return "The camera does not offer this picture size or speed. Choose another format."


class VideoFileError(CameraError):
    """A video file used as a (developer) camera cannot be read."""

    problem = CameraProblem.FILE_UNREADABLE
    retry = False

    @classmethod
    def default_message(cls) -> str:
        return "The video file cannot be opened. It may be damaged or in an unknown format."


class DestinationError(CaptureError):
    """The recording folder cannot be written (missing, read-only, no permission)."""


class DiskFullError(CaptureError):
    """Too little free disk space to start or continue recording."""
