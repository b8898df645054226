"""The metronome's sound writer (ui.metronome_audio._Writer) without a sound device: it renders
ahead of the read position into the file, and at the file's end says so instead of going
silent."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np

from app.prescription.click_track import ClickTrack
from ui import metronome_audio
from ui.metronome_audio import _Writer

SR = 8000


class _File:
    def __init__(self) -> None:
        self.at = 0

    def pos(self) -> int:
        return self.at * 2


class _Sink:
    def __init__(self) -> None:
        self.file = _File()


class _Owner:
    def __init__(self) -> None:
        self._sink = _Sink()


def _writer(tmp_path: Path) -> tuple[_Writer, _Owner, int]:
    owner = _Owner()
    fd = os.open(tmp_path / "track.pcm", os.O_RDWR | os.O_CREAT)
    w = _Writer(owner, fd, ClickTrack(120, SR), threading.Lock())  # type: ignore[arg-type]
    return w, owner, fd


def test_writer_renders_ahead_of_the_read_position(tmp_path: Path) -> None:
    w, owner, fd = _writer(tmp_path)
    w.prime()
    owner._sink.file.at = SR  # one second read
    w.start()
    try:
        deadline = time.monotonic() + 5
        while w.end < SR + int(metronome_audio.AHEAD_S * SR) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert w.end >= SR + int(metronome_audio.AHEAD_S * SR)
    finally:
        w.changes.put(None)
        w.join(5)
        os.close(fd)
    data = np.frombuffer((tmp_path / "track.pcm").read_bytes(), dtype="<i2")
    # 120 bpm: a click every half second, at the same samples as the track renders them
    assert np.array_equal(data[: w.end], ClickTrack(120, SR).render(0, w.end))
    assert not w.failed


def test_writer_says_when_the_file_ends_instead_of_going_silent(tmp_path: Path) -> None:
    w, owner, fd = _writer(tmp_path)
    w.limit = 10 * SR  # a 10 s file stands in for the 3-hour one
    w.prime()
    w.start()
    try:
        owner._sink.file.at = 5 * SR
        time.sleep(3 * metronome_audio.REFILL_S)
        assert not w.failed and w.end <= w.limit  # never rendered past the file's end
        owner._sink.file.at = 10 * SR
        w.join(5)
        assert not w.is_alive()
        assert "hours" in w.failed and "start it again" in w.failed
    finally:
        w.changes.put(None)
        w.join(5)
        os.close(fd)
