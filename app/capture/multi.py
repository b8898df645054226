"""Recording two (or more) cameras together on one time line."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import CaptureError
from .packets import clock_ns
from .recorder import Recorder, RecordingResult
from .sources import CameraSource


class MultiRecorder:
    """Runs one :class:`.Recorder` per source and starts/stops their recordings together.

    All sources stamp frames with the same clock (:data:`.packets.clock_ns`) and every file gets
    the same ``t0``, so a pts or sidecar time in one file means the same instant in the other.
    """

    def __init__(self, sources: Sequence[CameraSource], **recorder_options: Any) -> None:
        if not sources:
            raise ValueError("MultiRecorder needs at least one camera source")
        self.recorders = [Recorder(s, **recorder_options) for s in sources]
        self.t0_ns: int | None = None

    def start(self) -> None:
        for r in self.recorders:
            r.start()

    def wait_live(self, timeout: float = 5.0) -> bool:
        return all(r.wait_live(timeout) for r in self.recorders)

    def start_recording(self, folder: Path, name: str | None = None) -> list[Path]:
        """Start all recordings with one shared t0; files are ``<name>_cam1.mkv``, ``_cam2``…"""
        stem = name or datetime.now().strftime("capture_%Y%m%d_%H%M%S")
        paths: list[Path] = []
        try:
            # Prepare every file first (opening files can take a while on a busy disk), then
            # start them all at one instant: each records from its first frame after t0.
            for i, r in enumerate(self.recorders, start=1):
                paths.append(r.start_recording(folder, f"{stem}_cam{i}", hold=True))
        except CaptureError:
            for r in self.recorders:
                if r.is_recording:
                    r.stop_recording()
            raise
        self.t0_ns = clock_ns()
        for r in self.recorders:
            r.release_recording(self.t0_ns)
        return paths

    def stop_recording(self, timeout: float = 10.0) -> list[RecordingResult | None]:
        for r in self.recorders:
            r.request_stop_recording()
        return [r.stop_recording(timeout) for r in self.recorders]

    def close(self) -> None:
        for r in self.recorders:
            r.close()
