"""A re-timed copy of a video: the same frames, presented ``factor`` times faster.

The packets are copied as they are (no decoding, no re-encoding); only their presentation and
decoding timestamps are divided by ``factor``. Frame ``i`` of the copy is frame ``i`` of the
original, so marks made on frame numbers and a pose result stored per frame stay valid, while
every duration read from the copy's own timestamps (:mod:`app.video.timebase`) is ``1 /
factor`` of the original's: a cadence measured on the copy is ``factor`` times the original's.

Used for the demo clinic's follow-up visits (:mod:`app.demo`), which show the same real run
re-timed so their cadence rises as the demo's story intends.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
import numpy as np

from app.video.errors import VideoError

if TYPE_CHECKING:
    from app.video.probe import FrameIndex


@dataclass(frozen=True)
class Retimed:
    """A written copy and the presentation timestamps written for its frames."""

    path: Path
    pts: np.ndarray
    """Presentation timestamps of the frames, display order, in ``time_base`` units."""
    time_base: Fraction

    def frame_index(self) -> FrameIndex:
        """The copy's :class:`app.video.probe.FrameIndex` (what a probe of the file reads)."""
        from app.video.probe import FrameIndex

        return FrameIndex(self.pts, self.time_base, keyframe_pts=self.pts[:1])


def retimed_copy(src: str | Path, dst: str | Path, factor: float) -> Retimed:
    """Write ``dst``: the video stream of ``src`` with its timestamps divided by ``factor``.

    Only the first video stream is copied (the demo clip has no sound; sound would no longer
    match). Written to a temporary name and renamed when complete, so ``dst`` is never a half
    file. Raises :class:`ValueError` for a factor that is not positive and finite, and
    :class:`app.video.errors.VideoError` when the source cannot be read or the copy written.
    """
    if not (math.isfinite(factor) and factor > 0):
        raise ValueError(f"a re-timing factor must be positive and finite (got {factor})")
    src, dst = Path(src), Path(dst)
    tmp = dst.with_name(f".{dst.stem}.retiming{dst.suffix}")
    try:
        with av.open(str(src)) as inp, av.open(str(tmp), "w", format="mp4") as out:
            ist = inp.streams.video[0]
            ost = out.add_stream_from_template(ist)
            ost.time_base = time_base = ist.time_base
            written: list[int] = []
            for pkt in inp.demux(ist):
                if pkt.dts is None:  # the demuxer's end-of-stream flush packet
                    continue
                pkt.dts = round(pkt.dts / factor)
                if pkt.pts is not None:
                    pkt.pts = round(pkt.pts / factor)
                    written.append(pkt.pts)
                if pkt.duration:
                    pkt.duration = max(1, round(pkt.duration / factor))
                pkt.stream = ost
                out.mux(pkt)
        os.replace(tmp, dst)
    except (av.error.FFmpegError, OSError, IndexError) as exc:
        tmp.unlink(missing_ok=True)
        raise VideoError(
            f"A re-timed copy of {src.name} could not be written.", path=src, detail=str(exc)
        ) from exc
    return Retimed(dst, np.sort(np.asarray(written, dtype=np.int64)), Fraction(time_base))
