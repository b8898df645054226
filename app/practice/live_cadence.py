"""Live cadence from the camera picture, frame by frame, without a pose model.

Fed ``(time, frame)`` as the camera delivers them, :class:`LiveCadenceEstimator` keeps one
cheap number per frame and, once per step, a cadence over the last steps:

1. **Signal** (:class:`MotionSignal`, ~0.3 ms a frame): the frame is shrunk to a small grey
   picture (96 px wide) and differenced with the previous one. A slowly decaying *activity map*
   (4 s) shows where things keep moving: on a treadmill, the runner. The per-frame value is the
   mean change in the lower half of that region (legs and feet), which rises and falls with
   every stride; the mean change in the whole region says whether anyone is moving at all.
2. **Period**: over a rolling window of the last ``window_steps`` steps (default 24, about
   8 s; at least ``min_window_s``, 3 s) *since the cadence last changed*, the signal is put on a uniform time grid, slow drifts removed
   (:func:`app.analysis.periodicity.moving_average`), and the *stride* frequency found where
   the weighted power of its first three harmonics peaks (:func:`stride_frequency`), within
   the running cadence range (``min_spm``–``max_spm``, default 120–220 spm). The stride is
   searched, not the step, because side-on the near leg dominates the picture and the signal
   repeats per stride; a signal that repeats per step has its power at the stride's 2nd
   harmonic. Cadence = 120 × stride frequency. (The autocorrelation peak, tried first, read
   about 1 % slow: its overlap normalisation favours longer lags.)
   A change is detected by measuring the last ``min_window_s`` too: when that short window
   differs from the long one by more than ``change_spm`` (4 spm, or 2.5 %) at two updates in a
   row, the window restarts from the middle of the short one and grows again. A long window
   when the runner is steady (±1 spm), a short one right after a change (settles in ~3 s).
3. **Updates**: a step clock runs at the measured cadence; at every step (every ``60 /
   cadence`` seconds of camera time) the period is measured again and an estimate published.
   Before the first estimate (the warm-up, ``min_window_s``) and while nobody is in view, an
   estimate with a status and no cadence is published once a second.

Confidence is the signal's correlation with itself one stride later (1 = perfectly periodic). Below
``min_confidence`` the estimate is kept but its status says the stepping is not steady (someone
walking past, the runner stepping off). Nothing here knows about Qt, threads or cameras; the
thread that feeds it lives in :mod:`app.practice.live`.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import Enum

import cv2
import numpy as np

from app.analysis.periodicity import moving_average

DEFAULT_MIN_SPM = 120.0
DEFAULT_MAX_SPM = 220.0
DEFAULT_WINDOW_STEPS = 24
#: Short-window updates in a row that must disagree with the long window to call a change.
CHANGE_CONFIRM = 2
#: The signal is put on a grid of at most this rate (the stride's 3rd harmonic is < 6 Hz).
MAX_GRID_HZ = 40.0
ANALYSIS_WIDTH = 96
ACTIVITY_TAU_S = 4.0
#: Mean change (grey levels per frame, 0–255) in the moving region below which nobody is
#: taken to be moving: camera noise on a still scene stays well under one level once the
#: picture is shrunk to 96 px.
STILL_LEVEL = 1.0


class Status(str, Enum):
    """What the live cadence can say now."""

    WARMING_UP = "warming_up"
    OK = "ok"
    IRREGULAR = "irregular"
    NOBODY = "nobody"


MESSAGES = {
    Status.WARMING_UP: "Measuring… (a few seconds of running are needed)",
    Status.OK: "",
    Status.IRREGULAR: "No steady stepping in view (someone walking past, or the runner stopped?)",
    Status.NOBODY: "Nobody is moving in view of the camera.",
}


@dataclass(frozen=True)
class CadenceEstimate:
    """One published estimate (camera time ``time_s``, seconds since the first frame)."""

    time_s: float
    cadence_spm: float | None
    confidence: float
    status: Status
    window_s: float = 0.0
    frames: int = 0
    """Frames analysed up to this estimate."""

    @property
    def ok(self) -> bool:
        return self.status is Status.OK and self.cadence_spm is not None

    @property
    def message(self) -> str:
        return MESSAGES[self.status]


def to_small_grey(frame: np.ndarray, width: int = ANALYSIS_WIDTH) -> np.ndarray:
    """``frame`` (grey or BGR, any size) as a float32 grey picture ``width`` pixels wide."""
    if frame.ndim == 3:
        step = max(1, frame.shape[1] // (width * 2))  # cheap pre-shrink of large frames
        if step > 1:
            frame = frame[::step, ::step]
        frame = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_BGR2GRAY)
    h, w = frame.shape[:2]
    if w != width:
        height = max(2, int(round(h * width / w)))
        frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    return frame.astype(np.float32)


class MotionSignal:
    """Per-frame motion of the lower body, from frame differencing (see the module docstring)."""

    def __init__(self, activity_tau_s: float = ACTIVITY_TAU_S, width: int = ANALYSIS_WIDTH) -> None:
        self.tau = activity_tau_s
        self.width = width
        self._prev: np.ndarray | None = None
        self._prev_t = 0.0
        self._activity: np.ndarray | None = None
        self._mask: np.ndarray | None = None
        self._lower: np.ndarray | None = None
        self._mask_t = -math.inf

    def reset(self) -> None:
        self.__init__(self.tau, self.width)  # type: ignore[misc]

    def update(self, t: float, frame: np.ndarray) -> tuple[float, float] | None:
        """``(lower-body motion, overall motion level)`` for this frame; None for the first
        frame or a frame of another size (the camera changed format: start again)."""
        small = frame if frame.dtype == np.float32 and frame.ndim == 2 else to_small_grey(frame, self.width)
        prev, self._prev = self._prev, small
        dt, self._prev_t = t - self._prev_t, t
        if prev is None or prev.shape != small.shape or dt <= 0:
            self._activity = None
            return None
        diff = cv2.absdiff(small, prev)
        if self._activity is None:
            self._activity = diff.copy()
        else:
            a = min(1.0, dt / self.tau)
            cv2.addWeighted(diff, a, self._activity, 1.0 - a, 0.0, dst=self._activity)
        if t - self._mask_t >= 0.5 or self._mask is None:
            self._mask_t = t
            self._mask, self._lower = self._region(self._activity)
        mask, lower = self._mask, self._lower
        assert mask is not None and lower is not None
        # Above the picture's noise floor (the median pixel change: most of the picture is still)
        level = float(diff[mask].mean()) - float(np.median(diff)) if mask.any() else 0.0
        value = float(diff[lower].mean()) if lower.any() else 0.0
        return value, level

    @staticmethod
    def _region(activity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The box around where things keep moving (above a quarter of the busiest place), and
        its lower half. A box, not the patchy thresholded map itself, so the region does not
        flicker with where the legs happened to be."""
        top = float(np.percentile(activity, 99.5))
        mask = activity > 0.25 * top if top > 0 else np.zeros(activity.shape, bool)
        box = np.zeros_like(mask)
        lower = np.zeros_like(mask)
        rows = np.flatnonzero(mask.sum(axis=1) >= max(1, mask.shape[1] // 50))
        cols = np.flatnonzero(mask.sum(axis=0) >= max(1, mask.shape[0] // 50))
        if rows.size and cols.size:
            r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
            box[r0:r1, c0:c1] = True
            lower[(r0 + r1) // 2 : r1, c0:c1] = True
        return box, lower


#: Weights of the stride's 1st, 2nd and 3rd harmonics. Falling weights settle the one real
#: ambiguity: a signal repeating per *step* has its power at twice the stride frequency, which
#: a candidate at the true stride reaches as its 2nd harmonic and one at 2/3 of it as its 3rd;
#: the lower weight of the 3rd picks the true one.
HARMONIC_WEIGHTS = (1.0, 0.8, 0.6)


def harmonic_power(t: np.ndarray, x: np.ndarray, freqs: np.ndarray,
                   weights: tuple[float, ...] = HARMONIC_WEIGHTS) -> np.ndarray:  # fmt: skip
    """Weighted power of the harmonics of each candidate stride frequency (Hz) in ``x(t)``."""
    power = np.zeros(len(freqs))
    for h, w in enumerate(weights, start=1):
        power += w * np.abs(np.exp(-2j * np.pi * h * np.outer(freqs, t)) @ x) ** 2
    return power


def _peak(freqs: np.ndarray, power: np.ndarray) -> float | None:
    """The highest local maximum inside the range (a rise towards an edge is no peak)."""
    inner = np.flatnonzero((power[1:-1] >= power[:-2]) & (power[1:-1] >= power[2:])) + 1
    if inner.size == 0:
        return None
    k = int(inner[np.argmax(power[inner])])
    a, b, c = power[k - 1], power[k], power[k + 1]
    denom = a - 2 * b + c
    shift = 0.5 * (a - c) / denom if denom < 0 else 0.0
    return float(freqs[k] + np.clip(shift, -0.5, 0.5) * (freqs[1] - freqs[0]))


def stride_frequency(t: np.ndarray, x: np.ndarray, lo_hz: float, hi_hz: float) -> float | None:
    """The stride frequency (Hz) of ``x`` sampled at times ``t`` (any spacing), or None.

    Linear trend removed, Hann window, then the weighted harmonic power
    (:func:`harmonic_power`) on a coarse grid over ``lo_hz``–``hi_hz`` (steps of 0.25 spm) and a
    fine one (0.02 spm) around the best, with parabolic interpolation. The spectrum, unlike
    the autocorrelation peak normalised by overlap, does not lean towards longer periods.
    """
    t = t - t[0]
    dur = float(t[-1]) if len(t) > 1 else 0.0
    if dur <= 0:
        return None
    x = x - np.polyval(np.polyfit(t, x, 1), t)
    x = x * (0.5 - 0.5 * np.cos(2 * np.pi * t / dur))
    coarse = np.arange(lo_hz, hi_hz + 1e-9, 0.25 / 120)
    f = _peak(coarse, harmonic_power(t, x, coarse))
    if f is None:
        return None
    fine = np.linspace(f - 0.5 / 120, f + 0.5 / 120, 51)
    return _peak(fine, harmonic_power(t, x, fine)) or f


def periodicity(x: np.ndarray, lag: float) -> float:
    """Correlation of ``x`` with itself ``lag`` samples later (fractional lags interpolated)."""
    n = len(x)
    if lag <= 0 or lag >= n - 4:
        return 0.0
    idx = np.arange(n - int(np.ceil(lag)))
    later = np.interp(idx + lag, np.arange(n), x)
    a, b = x[idx], later
    sa, sb = a.std(), b.std()
    if sa < 1e-12 or sb < 1e-12:
        return 0.0
    return float(np.clip(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb), 0.0, 1.0))


class LiveCadenceEstimator:
    """Streaming cadence: ``push(t, frame)`` per frame, an estimate at every step."""

    def __init__(
        self,
        *,
        window_steps: int = DEFAULT_WINDOW_STEPS,
        min_window_s: float = 3.0,
        max_window_s: float = 10.0,
        change_spm: float = 4.0,
        min_spm: float = DEFAULT_MIN_SPM,
        max_spm: float = DEFAULT_MAX_SPM,
        min_confidence: float = 0.3,
        still_level: float = STILL_LEVEL,
    ) -> None:
        if not (30 <= min_spm < max_spm <= 300):
            raise ValueError("cadence range must lie within 30-300 spm")
        if window_steps < 4:
            raise ValueError("the window needs at least 4 steps")
        self.window_steps = window_steps
        self.min_window_s = min_window_s
        self.max_window_s = max_window_s
        self.change_spm = change_spm
        self.min_spm, self.max_spm = min_spm, max_spm
        self.min_confidence = min_confidence
        self.still_level = still_level
        self.motion = MotionSignal()
        self.reset()

    def reset(self) -> None:
        """Forget everything (a new session, or the camera came back)."""
        self.motion.reset()
        keep = self.max_window_s + 1.0
        self._keep_s = keep
        self._t: deque[float] = deque()
        self._v: deque[float] = deque()
        self._level: deque[tuple[float, float]] = deque()
        self._t0: float | None = None
        self._next_update = 0.0
        self._cadence: float | None = None
        self._since = -math.inf  # when the current cadence began (a detected change)
        self._disagree = 0
        self.frames = 0
        self.latest: CadenceEstimate | None = None

    # -- feeding ---------------------------------------------------------------------------
    def push(self, t: float, frame: np.ndarray) -> CadenceEstimate | None:
        """Add one frame captured at ``t`` seconds (any origin); returns a new estimate when
        one is due (at every step), else None."""
        if self._t0 is None:
            self._t0 = t
        rel = t - self._t0
        self.frames += 1
        out = self.motion.update(rel, frame)
        if out is None:
            return None
        return self.push_value(rel, *out)

    def push_value(self, t: float, value: float, level: float) -> CadenceEstimate | None:
        """Add one sample of the per-frame signal directly (time in seconds, increasing)."""
        if self._t and t <= self._t[-1]:
            return None  # out of order or duplicated frame time
        self._t.append(t)
        self._v.append(value)
        self._level.append((t, level))
        while self._t and t - self._t[0] > self._keep_s:
            self._t.popleft()
            self._v.popleft()
        while self._level and t - self._level[0][0] > 1.0:
            self._level.popleft()
        if t < self._next_update:
            return None
        est = self._estimate(t)
        step = 60.0 / est.cadence_spm if est.cadence_spm else 1.0
        self._next_update = t + step
        self.latest = est
        return est

    # -- estimating ------------------------------------------------------------------------
    def _measure(self, t: float, start: float) -> tuple[float | None, float, float]:
        """(cadence or None, periodicity, window length) over the samples from ``start`` to ``t``."""
        times = np.fromiter(self._t, float)
        values = np.fromiter(self._v, float)
        keep = times >= start
        times, values = times[keep], values[keep]
        if len(times) < 8:
            return None, 0.0, 0.0
        fs = min(MAX_GRID_HZ, 1.0 / float(np.median(np.diff(times))))
        grid = np.arange(times[0], times[-1] + 0.5 / fs, 1.0 / fs)
        signal = np.interp(grid, times, values)
        signal = signal - moving_average(signal, max(3, int(round(2 * fs * 120.0 / self.min_spm)) | 1))
        f = stride_frequency(grid, signal, self.min_spm / 120.0, self.max_spm / 120.0)
        if f is None or f <= 0:
            return None, 0.0, float(times[-1] - times[0])
        return 120.0 * f, periodicity(signal, fs / f), float(times[-1] - times[0])

    def _estimate(self, t: float) -> CadenceEstimate:
        levels = [lv for _t, lv in self._level]
        if levels and float(np.mean(levels)) < self.still_level:
            self._cadence = None
            self._since = t
            return CadenceEstimate(t, None, 0.0, Status.NOBODY, frames=self.frames)
        span = self._t[-1] - self._t[0]
        if span < self.min_window_s:
            return CadenceEstimate(t, None, 0.0, Status.WARMING_UP, frames=self.frames)
        # The window: the last ``window_steps`` steps, but only since the cadence last changed.
        step_s = 60.0 / self._cadence if self._cadence else 60.0 / self.min_spm
        longest = float(np.clip(self.window_steps * step_s, self.min_window_s, self.max_window_s))
        start = min(max(t - longest, self._since), t - self.min_window_s)
        cadence, strength, window = self._measure(t, start)
        if cadence is not None and t - start > self.min_window_s + 1e-9:
            short, short_strength, _w = self._measure(t, t - self.min_window_s)
            differs = (short is not None and short_strength >= self.min_confidence
                       and abs(short - cadence) > max(self.change_spm, 0.025 * cadence))  # fmt: skip
            self._disagree = self._disagree + 1 if differs else 0
            if self._disagree >= CHANGE_CONFIRM:
                # A new cadence: measure from about the middle of the short window, where the
                # short window started to see it, and let the window grow again from there.
                self._since = t - self.min_window_s / 2
                self._disagree = 0
                cadence, strength, window = short, short_strength, self.min_window_s
        if cadence is None:
            self._cadence = None
            return CadenceEstimate(t, None, 0.0, Status.IRREGULAR, window, self.frames)
        if strength < self.min_confidence:
            return CadenceEstimate(t, cadence, strength, Status.IRREGULAR, window, self.frames)
        self._cadence = cadence
        return CadenceEstimate(t, cadence, strength, Status.OK, window, self.frames)
