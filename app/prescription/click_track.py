"""The metronome as a click track that is known ahead: rendered seconds before it is played.

:class:`app.prescription.metronome.MetronomeStream` produces the clicks block by block as the sound
card asks for them, so the program must run at every beat. A :class:`ClickTrack` instead says,
for *any* sample range, what is to be heard there: the beat grid (tempo segments), which beats
sound (the cue switched on and off, e.g. by a faded-feedback schedule that is known ahead), the
volume and the accent. The audio output renders it seconds ahead into a plain byte buffer that
the sound system reads without the program (``ui.metronome_audio``); when the tempo, the cue,
the volume or the accent changes, the part not yet taken by the sound system is rendered again
from the first sample not yet taken (``at``).

Timing as in :class:`MetronomeStream`: within a tempo segment, beat ``j`` starts at sample
``anchor + round(j × sample_rate × 60 / bpm)``, never accumulated; a tempo change at ``at``
starts a new segment one *new* interval after the last beat before ``at`` (or at ``at`` if that
moment has passed). A beat sounds when the cue is on at its first sample; a click already begun
is never cut. Pure logic (numpy), no Qt; not thread-safe (the caller holds a lock).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from app.prescription.metronome import (
    ACCENT_HZ,
    CLICK_HZ,
    DEFAULT_SAMPLE_RATE,
    FULL_SCALE,
    MetronomeError,
    _check_accent,
    _check_bpm,
    _check_volume,
    make_click,
)


@dataclass(frozen=True)
class TrackBeat:
    number: int
    """Beat count since the start of the track (0 is the first beat, sounding or not)."""
    sample: int
    accent: bool
    audible: bool


@dataclass
class _Segment:
    anchor: int  # sample of beat j = 0
    number: int  # global number of beat j = 0
    bpm: float
    end: int | None  # beats of this segment start before this sample (None: open-ended)


class ClickTrack:
    """What is heard at every sample: beat grid, cue on/off, volume and accent (mono int16)."""

    def __init__(self, bpm: float, sample_rate: int = DEFAULT_SAMPLE_RATE, accent_every: int = 0,
                 volume: float = 0.8, cue: bool = True) -> None:  # fmt: skip
        if not isinstance(sample_rate, int) or not 8000 <= sample_rate <= 192000:
            raise MetronomeError("The sample rate must be a whole number between 8000 and 192000 Hz.")
        self.sample_rate = sample_rate
        self._segments = [_Segment(0, 0, _check_bpm(bpm), None)]
        # switch lists: (from_sample, value), sorted, the first at sample 0
        self._gate: list[tuple[int, bool]] = [(0, bool(cue))]
        self._volume: list[tuple[int, float]] = [(0, _check_volume(volume))]
        self._accent: list[tuple[int, int]] = [(0, _check_accent(accent_every))]
        self._click = make_click(sample_rate, CLICK_HZ)
        self._accent_click = make_click(sample_rate, ACCENT_HZ)

    # -- reading ---------------------------------------------------------------------------
    @property
    def click_length(self) -> int:
        return len(self._click)

    @property
    def bpm(self) -> float:
        """The tempo of the last segment (the one that is or will be playing)."""
        return self._segments[-1].bpm

    def bpm_at(self, sample: int) -> float:
        return self._segment_for(sample).bpm

    @staticmethod
    def _value_at(switches: list, sample: int):  # type: ignore[no-untyped-def]
        i = bisect.bisect_right(switches, sample, key=lambda sw: sw[0]) - 1
        return switches[max(0, i)][1]

    def cue_at(self, sample: int) -> bool:
        return bool(self._value_at(self._gate, sample))

    def volume_at(self, sample: int) -> float:
        return float(self._value_at(self._volume, sample))

    def accent_every_at(self, sample: int) -> int:
        return int(self._value_at(self._accent, sample))

    def _segment_for(self, sample: int) -> _Segment:
        i = bisect.bisect_right(self._segments, sample, key=lambda s: s.anchor) - 1
        return self._segments[max(0, i)]

    def _beat(self, seg: _Segment, j: int) -> TrackBeat:
        s = seg.anchor + int(round(j * self.sample_rate * 60.0 / seg.bpm))
        n = seg.number + j
        every = self.accent_every_at(s)
        return TrackBeat(n, s, every > 0 and n % every == 0, self.cue_at(s))

    def beats(self, start: int, end: int) -> list[TrackBeat]:
        """Every beat (sounding or not) starting in ``[start, end)``, in order."""
        out: list[TrackBeat] = []
        for seg in self._segments:
            seg_end = end if seg.end is None else min(end, seg.end)
            if seg_end <= max(start, seg.anchor):
                continue
            period = self.sample_rate * 60.0 / seg.bpm
            j = max(0, int((max(start, seg.anchor) - seg.anchor) / period) - 1)
            while True:
                b = self._beat(seg, j)
                if b.sample >= seg_end:
                    break
                if b.sample >= start:
                    out.append(b)
                j += 1
        return out

    def beat_at(self, sample: int) -> TrackBeat | None:
        """The latest beat (sounding or not) starting at or before ``sample``."""
        seg = self._segment_for(sample)
        if sample < seg.anchor:
            return None
        period = self.sample_rate * 60.0 / seg.bpm
        j = int((sample - seg.anchor) / period) + 1
        while j >= 0:
            b = self._beat(seg, j)
            if b.sample <= sample and (seg.end is None or b.sample < seg.end):
                return b
            j -= 1
        return None

    def render(self, start: int, end: int) -> np.ndarray:
        """Samples ``[start, end)`` as int16; the same range always renders the same samples."""
        n = max(0, end - start)
        out = np.zeros(n, dtype=np.float64)
        clen = self.click_length
        for b in self.beats(max(0, start - clen + 1), end):
            if not b.audible:
                continue
            click = self._accent_click if b.accent else self._click
            a, z = max(start, b.sample), min(end, b.sample + clen)
            if z > a:
                out[a - start : z - start] += click[a - b.sample : z - b.sample] * (
                    self.volume_at(b.sample) * FULL_SCALE
                )
        return np.clip(np.rint(out), -32768, 32767).astype(np.int16)

    # -- changes from sample ``at`` on -------------------------------------------------------
    def set_bpm(self, bpm: float, at: int) -> None:
        """New tempo from ``at``: the next beat one new interval after the last beat before it."""
        new = _check_bpm(bpm)
        last = self.beat_at(at - 1) if at > 0 else None
        self._segments = [s for s in self._segments if s.anchor < at]
        if last is None or not self._segments:
            self._segments = [_Segment(0, 0, new, None)]
            return
        self._segments[-1].end = at
        nxt = max(last.sample + int(round(self.sample_rate * 60.0 / new)), at)
        self._segments.append(_Segment(nxt, last.number + 1, new, None))

    @staticmethod
    def _switch(switches: list, at: int, changes: list) -> list:  # type: ignore[no-untyped-def]
        kept = [sw for sw in switches if sw[0] < at] or [(0, changes[0][1])]
        for sample, value in changes:
            if sample >= at and value != kept[-1][1]:
                kept.append((int(sample), value))
        return kept

    def set_cue(self, on: bool, at: int, then: list[tuple[int, bool]] | tuple = ()) -> None:
        """The cue is ``on`` from ``at``, then switches at the given later samples (replacing
        any switches planned after ``at``)."""
        changes = [(at, bool(on))] + sorted((int(s), bool(v)) for s, v in then if s > at)
        self._gate = self._switch(self._gate, at, changes)

    def set_volume(self, volume: float, at: int) -> None:
        self._volume = self._switch(self._volume, at, [(at, _check_volume(volume))])

    def set_accent_every(self, accent_every: int, at: int) -> None:
        self._accent = self._switch(self._accent, at, [(at, _check_accent(accent_every))])

    def forget_before(self, sample: int) -> None:
        """Drop what only concerns samples before ``sample`` (keeps long sessions small)."""
        keep = max(0, sample - 4 * self.sample_rate)  # the beat lookups look back a little
        while len(self._segments) > 1 and self._segments[1].anchor <= keep:
            self._segments.pop(0)
        for name in ("_gate", "_volume", "_accent"):
            sw = getattr(self, name)
            i = bisect.bisect_right(sw, keep, key=lambda x: x[0]) - 1
            if i > 0:
                setattr(self, name, sw[i:])
