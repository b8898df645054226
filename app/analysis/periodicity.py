"""Step-period estimation from leg signals that do not depend on which leg is which."""

from __future__ import annotations

import numpy as np

#: Physiological step periods (s): 240 down to 60 steps per minute (sprinting to slow walking).
MIN_STEP_S = 0.25
MAX_STEP_S = 1.0


def fill_gaps(x: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaNs (edges take the nearest value); all-NaN gives zeros."""
    x = np.asarray(x, float)
    ok = np.isfinite(x)
    if ok.sum() == 0:
        return np.zeros_like(x)
    if ok.all():
        return x.copy()
    idx = np.arange(len(x))
    return np.interp(idx, idx[ok], x[ok])


def moving_average(x: np.ndarray, n: int) -> np.ndarray:
    """Centred moving average over ``n`` samples (NaN-aware, same length)."""
    x = np.asarray(x, float)
    n = min(n, len(x))  # np.convolve "same" returns the longer length otherwise
    if n <= 1:
        return x.copy()
    ok = np.isfinite(x)
    kernel = np.ones(n)
    num = np.convolve(np.where(ok, x, 0.0), kernel, mode="same")
    den = np.convolve(ok.astype(float), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    out[~ok] = np.nan
    return out


def _acf(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Normalised autocorrelation (lags 0..max_lag) via FFT."""
    x = x - x.mean()
    n = len(x)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(x, size)
    r = np.fft.irfft(f * np.conj(f), size)[: max_lag + 1]
    if r[0] <= 0:
        return np.zeros(max_lag + 1)
    # Unbiased: divide by the overlap length so long lags are not penalised.
    r = r / (n - np.arange(max_lag + 1))
    return r / r[0]


def estimate_step_period(
    signals: list[np.ndarray],
    fps: float,
    weights: list[float] | None = None,
    *,
    min_s: float = MIN_STEP_S,
    max_s: float = MAX_STEP_S,
) -> tuple[float, float]:
    """Return (step period in s, periodicity strength in [0, 1]) from leg-identity-free signals.

    Each signal (NaNs allowed) is gap-filled, high-passed (slow drifts such as walking towards the
    camera removed) and autocorrelated; the weighted mean autocorrelation is searched between
    :data:`MIN_STEP_S` and :data:`MAX_STEP_S` (or ``min_s``-``max_s``). The shortest lag whose peak reaches 80 % of the best
    peak wins, so a stride-periodic component (left/right asymmetry) cannot double the period.
    """
    n = min(len(s) for s in signals)
    max_lag = min(int(max_s * 2.2 * fps), n - 2)
    min_lag = max(2, int(np.floor(min_s * fps)))
    if max_lag <= min_lag + 2:
        return float("nan"), 0.0
    weights = weights or [1.0] * len(signals)
    hp = max(3, int(round(1.5 * max_s / MAX_STEP_S * fps)) | 1)  # drifts slower than steps
    total = np.zeros(max_lag + 1)
    wsum = 0.0
    for s, w in zip(signals, weights, strict=False):
        s = np.asarray(s, float)[:n]
        valid = np.isfinite(s).mean()
        if valid < 0.3 or w <= 0:
            continue
        x = fill_gaps(s)
        x = x - moving_average(x, hp)
        if np.std(x) < 1e-12:
            continue
        total += w * valid * _acf(x, max_lag)
        wsum += w * valid
    if wsum == 0:
        return float("nan"), 0.0
    r = total / wsum
    search_hi = min(int(np.ceil(max_s * fps)), max_lag - 1)
    peaks = [
        k
        for k in range(min_lag, search_hi + 1)
        if r[k] >= r[k - 1] and r[k] >= r[k + 1] and r[k] > 0
    ]
    if not peaks:
        return float("nan"), 0.0
    best = max(r[k] for k in peaks)
    lag = next(k for k in peaks if r[k] >= 0.8 * best)
    # Parabolic interpolation for a sub-frame period.
    a, b, c = r[lag - 1], r[lag], r[lag + 1]
    denom = a - 2 * b + c
    shift = 0.5 * (a - c) / denom if denom < 0 else 0.0
    period = (lag + float(np.clip(shift, -0.5, 0.5))) / fps
    return float(period), float(np.clip(r[lag], 0.0, 1.0))
