"""Two recordings in step: which frame of each shows the same instant (no Qt).

A link is one number, ``offset_s``: the real (capture) time in B that goes with real time ``t``
in A is ``t + offset_s``. Times come from each file's own :class:`~app.video.timebase.Timebase`
(timestamps, slow-motion capture rate), so a 240 fps and a 120 fps (or 30 fps) recording stay
aligned in *seconds*, never in frame counts.

Ways to link:

* :func:`offset_from_events` – at an event: by default the first confident initial contact of
  the same foot in both (a reviewed mark, or a detected one that is not low-confidence).
* :func:`offset_from_time_zero` – side and rear cameras filmed together share one time zero
  (:class:`app.capture.multi.MultiRecorder`): each file's first frame was taken a known time
  after it (the ``time_s`` of its timestamp sidecar, else its first presentation timestamp).
* :meth:`DualSync.relink` – by hand: whatever the two sides show now is the same instant.

:class:`DualSync` holds the two positions. Linked, a step moves the *leader* (by default the
recording with more frames per real second, the finest steps) by whole frames and puts the
other on the frame nearest the same instant; unlinked, each side steps alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.analysis.events import EventSource, EventType, FootEvent
from app.video.timebase import Timebase

#: A detected contact below this confidence is not used to link (the review rule's threshold).
CONFIDENT = 0.5

A, B = 0, 1


@dataclass(frozen=True)
class Link:
    """How the two recordings were put in step (for the status line and the export caption)."""

    offset_s: float
    how: str  # "event", "time zero", "by hand", "start"
    note: str = ""


def is_confident(event: FootEvent) -> bool:
    return event.source is EventSource.MANUAL or event.confidence >= CONFIDENT


def first_contacts(events: Iterable[FootEvent]) -> dict[str, FootEvent]:
    """The first confident initial contact of each foot (``"left"``/``"right"``)."""
    out: dict[str, FootEvent] = {}
    for e in sorted(events, key=lambda e: e.frame):
        if e.type is EventType.INITIAL_CONTACT and is_confident(e):
            out.setdefault(e.foot.value, e)
    return out


def offset_from_events(
    tb_a: Timebase,
    events_a: Sequence[FootEvent],
    tb_b: Timebase,
    events_b: Sequence[FootEvent],
) -> Link:
    """Link at the first confident initial contact of the same foot in both recordings.

    A's earliest such contact chooses the foot; if B has no contact of that foot, the other
    foot is tried. Without a common foot the two first frames are put together, and the note
    says why.
    """
    first_a, first_b = first_contacts(events_a), first_contacts(events_b)
    feet = sorted(first_a, key=lambda f: first_a[f].frame)
    for foot in feet:
        if foot in first_b:
            ea, eb = first_a[foot], first_b[foot]
            if not (0 <= ea.frame < tb_a.n_frames and 0 <= eb.frame < tb_b.n_frames):
                continue
            offset = tb_b.time_of(eb.frame) - tb_a.time_of(ea.frame)
            return Link(offset, "event", f"aligned at the first {foot} initial contact")
    missing = "either recording" if not first_a and not first_b else (
        "the first recording" if not first_a else "the second recording" if not first_b
        else "both recordings for the same foot"
    )  # fmt: skip
    return Link(0.0, "start", f"no confident initial contact in {missing}: aligned at the start")


def first_frame_offset_s(path: str | Path) -> float | None:
    """Seconds from the shared time zero to this file's first frame, or None if unknown.

    The capture sidecar (``<name>.timestamps.csv``) has it exactly; otherwise the first
    presentation timestamp of a file written by the recorder (pts 0 = time zero).
    """
    path = Path(path)
    try:
        from app.capture.writer import read_sidecar

        rows = read_sidecar(path)
        if rows:
            return float(rows[0][3])
    except (OSError, ValueError, IndexError):
        pass
    try:
        from app.video.probe import scan_index

        _info, index = scan_index(path)
    except Exception:  # an unreadable file: the player says so when it opens it
        return None
    if index.synthetic or not len(index.pts):
        return None
    return float(index.pts[0] * index.time_base)


def offset_from_time_zero(start_a_s: float | None, start_b_s: float | None) -> Link:
    """Link two files of one capture (shared time zero) by their first frames' times."""
    if start_a_s is None or start_b_s is None:
        return Link(0.0, "start", "the cameras' common start time is unknown: aligned at the start")
    return Link(float(start_a_s) - float(start_b_s), "time zero", "aligned by the cameras' clock")


class DualSync:
    """Positions of two recordings, linked in real time or stepping alone."""

    def __init__(self, tb_a: Timebase, tb_b: Timebase, link: Link | None = None) -> None:
        self.tbs = (tb_a, tb_b)
        self._times = (tb_a.times_s, tb_b.times_s)
        self.link = link or Link(0.0, "start")
        self.linked = True
        self.frames = [0, 0]
        self.leader = A if tb_a.real_fps >= tb_b.real_fps else B
        self.go_to_time(self.start_time())

    # -- the link ---------------------------------------------------------------------------
    @property
    def offset_s(self) -> float:
        return self.link.offset_s

    def set_link(self, link: Link) -> None:
        """Use ``link`` and put the follower in step with the leader."""
        self.link = link
        self.linked = True
        self._follow()

    def unlink(self) -> None:
        """Each side steps on its own (to re-align on another frame)."""
        self.linked = False

    def relink(self) -> Link:
        """The frames shown now are the same instant: link there (re-align by hand)."""
        ta = self.time(A)
        tb = self.time(B)
        self.set_link(Link(tb - ta, "by hand", "aligned by hand"))
        return self.link

    # -- time and frames --------------------------------------------------------------------
    def time(self, side: int) -> float:
        """Real time of the frame shown on ``side`` (seconds since that clip's first frame)."""
        return float(self._times[side][self.frames[side]])

    def instant(self) -> float:
        """The instant shown, on A's clock."""
        t = self.time(self.leader)
        return t if self.leader == A else t - self.offset_s

    def frame_for(self, side: int, t_a: float) -> int:
        """The frame of ``side`` nearest the instant ``t_a`` (A's clock), clamped to the clip."""
        t = t_a if side == A else t_a + self.offset_s
        return self.tbs[side].frame_at(t)

    def in_range(self, side: int, t_a: float | None = None) -> bool:
        """False when the instant is before the first or after the last frame of ``side``."""
        t_a = self.instant() if t_a is None else t_a
        t = t_a if side == A else t_a + self.offset_s
        times = self._times[side]
        half = 0.5 / max(1e-9, self.tbs[side].real_fps)
        return bool(times[0] - half <= t <= times[-1] + half)

    def start_time(self) -> float:
        """The first instant both clips have (A's clock); A's start if they do not overlap."""
        start = max(0.0, -self.offset_s)
        end = min(self._times[A][-1], self._times[B][-1] - self.offset_s)
        return start if start <= end else 0.0

    def end_time(self) -> float:
        """The last instant both clips have (A's clock)."""
        end = min(self._times[A][-1], self._times[B][-1] - self.offset_s)
        return end if end >= self.start_time() else float(self._times[A][-1])

    # -- moving -----------------------------------------------------------------------------
    def step(self, n: int, side: int | None = None) -> tuple[int, int]:
        """Move ``n`` frames. Linked: the leader moves, the follower keeps the instant.
        Unlinked: ``side`` (default the leader) moves alone."""
        side = self.leader if side is None or self.linked else side
        self.frames[side] = self._clamp(side, self.frames[side] + int(n))
        if self.linked:
            if side != self.leader:
                self.leader = side
            self._follow()
        return self.pair()

    def go_to(self, side: int, frame: int) -> tuple[int, int]:
        """Show ``frame`` on ``side`` (and, linked, the frame of the same instant on the other)."""
        self.frames[side] = self._clamp(side, frame)
        if self.linked:
            self.leader = side
            self._follow()
        return self.pair()

    def go_to_time(self, t_a: float) -> tuple[int, int]:
        """Show the instant ``t_a`` (A's clock) on both sides: the leader's nearest frame, and
        the follower's nearest to *that frame's* instant (never two roundings apart)."""
        self.frames[self.leader] = self.frame_for(self.leader, t_a)
        other = B if self.leader == A else A
        if self.linked:
            self.frames[other] = self.frame_for(other, self.instant())
        else:
            self.frames[other] = self.frame_for(other, t_a)
        return self.pair()

    def pair(self) -> tuple[int, int]:
        return self.frames[A], self.frames[B]

    def sync_error_s(self) -> float:
        """How far apart (seconds) the instants of the two frames shown are, when linked."""
        return abs((self.time(B) - self.offset_s) - self.time(A))

    def _follow(self) -> None:
        other = B if self.leader == A else A
        t_a = self.instant()
        self.frames[other] = self.frame_for(other, t_a)

    def _clamp(self, side: int, frame: int) -> int:
        return max(0, min(self.tbs[side].n_frames - 1, int(frame)))


def instants(sync: DualSync, speed: float, out_fps: float, start_a: float, end_a: float) -> np.ndarray:
    """Instants (A's clock) of an exported video's frames: ``speed`` real seconds per second
    (1 real time, 0.25 a quarter), ``out_fps`` frames per second, from ``start_a`` to ``end_a``."""
    if not (speed > 0 and out_fps > 0 and math.isfinite(speed) and math.isfinite(out_fps)):
        raise ValueError("speed and frame rate must be positive")
    step = speed / out_fps
    count = max(1, int(math.floor((end_a - start_a) / step + 1e-9)) + 1)
    return start_a + step * np.arange(count)
