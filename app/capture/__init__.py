"""Camera capture engine (no Qt): camera sources, device listing, crash-safe recording.

Typical use::

    rec = Recorder(SyntheticSource(1280, 720, 120))
    rec.start(); rec.wait_live()
    path = rec.start_recording(session_folder)
    ...                       # poll rec.stats(), rec.latest_preview() on a UI timer
    result = rec.stop_recording()
    rec.close()
"""

from __future__ import annotations

from .devices import DeviceInfo, list_devices, open_device
from .errors import (
    CameraBusyError,
    CameraDisconnectedError,
    CameraError,
    CameraProblem,
    CaptureError,
    DestinationError,
    DiskFullError,
    FormatUnsupportedError,
    NoCameraError,
    VideoFileError,
)
from .multi import MultiRecorder
from .packets import MJPEG, CameraFormat, FramePacket, clock_ns
from .preview import PreviewFrame
from .recorder import (
    DEFAULT_MIN_FREE_BYTES,
    Recorder,
    RecorderState,
    RecorderStats,
    RecordingResult,
    StopReason,
    disk_free_bytes,
)
from .sources import CameraSource, FileSource, OpenCVCameraSource, SyntheticSource, best_format
from .writer import read_sidecar, repair_recording, sidecar_path

__all__ = [
    "DEFAULT_MIN_FREE_BYTES",
    "MJPEG",
    "CameraBusyError",
    "CameraDisconnectedError",
    "CameraError",
    "CameraFormat",
    "CameraProblem",
    "CameraSource",
    "CaptureError",
    "DestinationError",
    "DeviceInfo",
    "DiskFullError",
    "FileSource",
    "FormatUnsupportedError",
    "FramePacket",
    "MultiRecorder",
    "NoCameraError",
    "OpenCVCameraSource",
    "PreviewFrame",
    "Recorder",
    "RecorderState",
    "RecorderStats",
    "RecordingResult",
    "StopReason",
    "SyntheticSource",
    "VideoFileError",
    "best_format",
    "clock_ns",
    "disk_free_bytes",
    "list_devices",
    "open_device",
    "read_sidecar",
    "repair_recording",
    "sidecar_path",
]
