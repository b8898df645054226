"""The marking panel's clock: frame -> real time for the marks, the sidebar and the keypoints.

One :class:`app.video.timebase.Timebase` for the open recording: the video's own (its
timestamps and the editable capture rate) when the file is open, else the clock stored with the
recording (so marks on a missing video keep the times every other figure uses). Opening a video
whose row has no stored clock yet stores it (:func:`app.annotation.loading.store_clock`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.video.timebase import Timebase


class MarkingClock:
    """Real time of frames of the recording open for marking."""

    def __init__(self, stored: Timebase, server: Any = None) -> None:
        self._stored = stored
        self._server = server  # app.video.FrameServer or None
        self.timebase = server.timebase() if server is not None else stored

    @property
    def times_s(self) -> np.ndarray:
        return self.timebase.times_s

    def time_of(self, frame: int) -> float:
        """Real time of ``frame``; frames past the readable end keep the end's frame spacing."""
        return float(self.timebase.times_of(frame))

    def set_capture_fps(self, fps: float | None) -> None:
        """The clinician changed the capture rate (slow-motion files): every time follows."""
        if self._server is not None:
            self._server.capture_fps = fps
            self.timebase = self._server.timebase()
        else:
            self._stored = self._stored.with_capture_fps(fps if self._stored.container_fps else None)
            if self._stored.container_fps is None and fps:
                n = self._stored.n_frames
                self._stored = Timebase.uniform(n, float(fps))
            self.timebase = self._stored

    def refresh(self) -> None:
        """Re-read the open video's clock (a damaged file turned out shorter)."""
        if self._server is not None:
            self.timebase = self._server.timebase()

    def retime(self, track: Any) -> Any:
        """A keypoint track decoded from this file, on this clock (once: ``meta["retimed"]``)."""
        if track is None or track.meta.get("retimed"):
            return track
        return self.timebase.retime(track)
