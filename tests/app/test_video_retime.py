"""A re-timed copy keeps every frame and scales every timestamp (no re-encode)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from app.demo import DEMO_CLIP
from app.video.errors import VideoError
from app.video.probe import scan_index
from app.video.retime import retimed_copy
from app.video.timebase import Timebase, timestamp_map
from resources import resource_path


def _frames(path: Path, n: int) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        out = []
        for frame in c.decode(video=0):
            out.append(frame.to_ndarray(format="gray"))
            if len(out) == n:
                break
        return out


def test_same_frames_faster_clock(tmp_path: Path) -> None:
    src = resource_path(DEMO_CLIP)
    done = retimed_copy(src, tmp_path / "fast.mp4", 1.25)
    assert done.path == tmp_path / "fast.mp4" and not list(tmp_path.glob(".*"))  # no temp left
    (info0, index0), (info1, index1) = scan_index(src), scan_index(done.path)
    assert len(index1.pts) == len(index0.pts)
    a, b = Timebase.from_index(info0, index0, None), Timebase.from_index(info1, index1, None)
    # every frame's time divided by the factor (within a tick of the stream's time base)
    np.testing.assert_allclose(b.times_s, a.times_s / 1.25, atol=float(index1.time_base))
    # what the copy says it wrote is what the program's probe reads back
    assert timestamp_map(info1, index1) == timestamp_map(info1, done.frame_index())
    # the packets were copied, not re-encoded: the pictures are bit-identical
    for x, y in zip(_frames(src, 5), _frames(done.path, 5), strict=True):
        assert np.array_equal(x, y)


def test_bad_factor_and_unreadable_source(tmp_path: Path) -> None:
    src = resource_path(DEMO_CLIP)
    for factor in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            retimed_copy(src, tmp_path / "x.mp4", factor)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video")
    with pytest.raises(VideoError):
        retimed_copy(junk, tmp_path / "y.mp4", 1.1)
    assert not (tmp_path / "y.mp4").exists() and not list(tmp_path.glob(".*"))
