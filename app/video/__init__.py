"""Video engine: probe, import and frame-exact stepping of clinic recordings (no Qt).

Typical use from the UI::

    from app import video

    server = video.open(path, capture_fps=None, memory_budget_mb=1500)
    server.info.width, server.frame_count, server.capture_fps
    rgb = server.try_get(n)          # None -> scheduled; a listener fires when ready
    t = server.time_s(n)             # real seconds, capture-rate corrected
    server.close()

See :mod:`app.video.frame_server` for the design and thread-safety notes.
"""

from __future__ import annotations

from app.video.errors import (
    AbsurdFrameRate,
    Cancelled,
    CorruptVideo,
    DiskFull,
    NotAVideo,
    UnsupportedCodec,
    VideoError,
    VideoNotFound,
)
from app.video.frame_server import DEFAULT_BUDGET_MB, FrameServer, open, real_time_s
from app.video.importing import ImportedVideo, import_video
from app.video.probe import VideoInfo, guess_capture_fps, probe

__all__ = [
    "DEFAULT_BUDGET_MB",
    "AbsurdFrameRate",
    "Cancelled",
    "CorruptVideo",
    "DiskFull",
    "FrameServer",
    "ImportedVideo",
    "NotAVideo",
    "UnsupportedCodec",
    "VideoError",
    "VideoInfo",
    "VideoNotFound",
    "guess_capture_fps",
    "import_video",
    "open",
    "probe",
    "real_time_s",
]
