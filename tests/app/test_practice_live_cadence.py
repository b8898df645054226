"""The live cadence estimator: synthetic periodic pictures and signals, and the real clip."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from app.capture.errors import CameraDisconnectedError
from app.capture.fakes import RealRateFileSource
from app.practice.live import small_grey
from app.practice.live_cadence import LiveCadenceEstimator, Status


def _leg_x(phase: float) -> float:
    """Foot position over one stride: smooth, quicker forward (swing) than back (stance).
    Smooth like real motion seen through a shutter: a sharp-cornered path would alias."""
    return math.cos(2 * math.pi * phase) + 0.3 * math.sin(4 * math.pi * phase)


def _runner_frames(cadence_spm: float, seconds: float, fps: float = 30.0, *, seed: int = 0):
    """A dark picture with two legs stepping, the near one bright and the far one dimmer."""
    rng = np.random.default_rng(seed)
    f_stride = cadence_spm / 120.0
    far = 110
    for k in range(int(seconds * fps)):
        t = k / fps
        big = np.full((640, 384), 40, np.float32)  # drawn 4× larger, then shrunk: sub-pixel
        for shade, offset in ((far, 0.5), (200, 0.0)):
            x = int(192 + 100 * _leg_x(f_stride * t + offset))
            big[360:600, x - 16 : x + 16] = shade
        big[120:360, 176:208] = 180  # the body, still
        img = cv2.resize(big, (96, 160), interpolation=cv2.INTER_AREA)
        yield t, np.clip(img + rng.normal(0, 2, img.shape).astype(np.float32), 0, 255)


def _run(est, frames):
    return [e for e in (est.push(t, f) for t, f in frames) if e is not None]


@pytest.mark.parametrize("cadence", [150.0, 168.9, 185.0, 205.0])
def test_synthetic_runner_cadence(cadence: float) -> None:
    out = _run(LiveCadenceEstimator(), _runner_frames(cadence, 12))
    settled = [e for e in out if e.time_s > 6]
    assert settled and all(e.ok for e in settled)
    assert max(abs(e.cadence_spm - cadence) for e in settled) < 1.0


def test_updates_once_per_step_after_warm_up() -> None:
    out = _run(LiveCadenceEstimator(), _runner_frames(170.0, 12))
    ok = [e.time_s for e in out if e.ok]
    gaps = np.diff(ok)
    assert np.all(np.abs(gaps - 60 / 170) < 0.05)  # one update every step period (±1 frame)
    first = next(e for e in out if e.ok)
    assert first.time_s <= 3.6  # the warm-up is the 3 s minimum window


def test_cadence_change_is_followed_within_five_seconds() -> None:
    est = LiveCadenceEstimator()
    a = list(_runner_frames(168.9, 12))
    b = [(12.0 + t, f) for t, f in _runner_frames(180.7, 12, seed=1)]
    out = _run(est, a + b)
    late = [e for e in out if e.time_s > 17.0]
    assert late and all(abs(e.cadence_spm - 180.7) < 1.5 for e in late)


def test_nobody_in_view_then_runner_arrives() -> None:
    rng = np.random.default_rng(3)
    still = [(k / 30, rng.normal(60, 1.0, (160, 96)).astype(np.float32)) for k in range(150)]
    est = LiveCadenceEstimator()
    out = _run(est, still)
    assert out and all(e.status is Status.NOBODY and e.cadence_spm is None for e in out[1:])
    assert "Nobody" in out[-1].message
    runner = [(5.0 + t, f) for t, f in _runner_frames(170.0, 10)]
    out = _run(est, runner)
    assert out[-1].ok and abs(out[-1].cadence_spm - 170) < 1.0


def test_random_motion_is_not_a_cadence() -> None:
    rng = np.random.default_rng(5)
    frames = [(k / 30, rng.uniform(0, 255, (160, 96)).astype(np.float32)) for k in range(300)]
    out = _run(LiveCadenceEstimator(), frames)
    assert out and not any(e.ok for e in out[-5:])


@pytest.mark.parametrize("cadence", [130.0, 170.0, 190.0, 215.0])
@pytest.mark.parametrize("per_step", [False, True])
def test_signal_repeating_per_stride_or_per_step(cadence: float, per_step: bool) -> None:
    """Whether the picture repeats per stride (near leg dominant) or per step (both legs alike,
    or the body's bounce), the cadence is the same: no halving, no doubling, no 2/3."""
    est = LiveCadenceEstimator()
    f = cadence / 120
    rng = np.random.default_rng(int(cadence))
    last = None
    for k in range(12 * 30):
        t = k / 30
        step = math.sin(4 * math.pi * f * t) + 0.4 * math.sin(8 * math.pi * f * t + 1)
        stride = 0.0 if per_step else 1.2 * math.sin(2 * math.pi * f * t)
        e = est.push_value(t, 10 + step + stride + rng.normal(0, 0.1), 5.0)
        last = e or last
    assert last is not None and last.ok
    assert abs(last.cadence_spm - cadence) < 1.0


def test_signal_api_and_out_of_order_times() -> None:
    est = LiveCadenceEstimator()
    f = 172.0 / 120
    out = []
    for k in range(400):
        t = k / 30 + (0.004 if k % 3 == 0 else 0.0)  # camera jitter
        e = est.push_value(t, 5 + math.sin(2 * math.pi * f * t), 5.0)
        out.append(e)
    assert est.push_value(1.0, 1.0, 5.0) is None  # an old time is ignored
    ok = [e for e in out if e is not None and e.ok]
    assert ok and abs(ok[-1].cadence_spm - 172.0) < 1.0


def test_bad_settings_refused() -> None:
    with pytest.raises(ValueError):
        LiveCadenceEstimator(min_spm=200, max_spm=150)
    with pytest.raises(ValueError):
        LiveCadenceEstimator(window_steps=2)


def test_real_clip_matches_its_known_cadence(shared_data) -> None:
    """The sample treadmill clip: 168.9 ± 0.5 spm (README). Played at its own times."""
    src = RealRateFileSource(shared_data / "treadmill_run_side_30fps.mp4", realtime=False)
    src.open()
    est = LiveCadenceEstimator()
    out = []
    while True:
        try:
            p = src.read()
        except CameraDisconnectedError:
            break
        e = est.push(p.timestamp_ns / 1e9, small_grey(p))
        if e is not None:
            out.append(e)
    src.close()
    assert src.delivered == 360
    ok = [e for e in out if e.ok]
    assert len(ok) >= 20
    errors = [abs(e.cadence_spm - 168.9) for e in ok]
    assert max(errors) < 2.0 and float(np.median(errors)) < 1.0


def test_real_clip_then_the_same_clip_faster(shared_data) -> None:
    """The clip, then its frames again 1.07× faster (168.9 → 180.7 spm at 12 s): the display
    follows within 5 s and stays within ±1.5 spm of the new cadence."""
    src = RealRateFileSource(shared_data / "treadmill_run_side_30fps.mp4", realtime=False)
    src.open()
    frames = []
    while True:
        try:
            p = src.read()
        except CameraDisconnectedError:
            break
        frames.append(small_grey(p))
    src.close()
    n = len(frames)
    times = [k / 30 for k in range(n)] + [n / 30 + k / (30 * 1.07) for k in range(n)]
    est = LiveCadenceEstimator()
    out = [e for e in (est.push(t, f) for t, f in zip(times, frames + frames, strict=True)) if e]
    before = [e for e in out if e.ok and 6 < e.time_s < 12]
    after = [e for e in out if e.ok and e.time_s > 12 + 5]
    assert before and max(abs(e.cadence_spm - 168.9) for e in before) < 1.5
    assert after and max(abs(e.cadence_spm - 168.9 * 1.07) for e in after) < 1.5


def _clip_frames(shared_data):  # type: ignore[no-untyped-def]
    src = RealRateFileSource(shared_data / "treadmill_run_side_30fps.mp4", realtime=False)
    src.open()
    frames = []
    while True:
        try:
            frames.append(small_grey(src.read()))
        except CameraDisconnectedError:
            break
    src.close()
    return frames


def test_someone_walking_past_the_treadmill(shared_data) -> None:
    """A dark figure crosses the whole picture in 1.5 s in front of the runner: the cadence is
    not thrown off (the window holds many steps), the periodicity shows the disturbance."""
    frames = _clip_frames(shared_data)
    h, w = frames[0].shape
    est = LiveCadenceEstimator()
    out = []
    for k, f in enumerate(frames):
        t = k / 30
        if 6.0 <= t < 7.5:
            f = f.copy()
            x = int(w - (t - 6.0) / 1.5 * (w + 60))
            f[int(h * 0.2) :, max(0, x) : max(0, x + 50)] = 30
        e = est.push(t, f)
        if e is not None:
            out.append(e)
    steady = [e for e in out if 4 < e.time_s < 6]
    during = [e for e in out if 6.5 < e.time_s < 10]
    assert all(e.ok for e in steady + during)
    assert max(abs(e.cadence_spm - 168.9) for e in during) < 2.0
    assert min(e.confidence for e in during) < min(e.confidence for e in steady)


def test_two_people_walking_outdoors_is_no_running_cadence(shared_data) -> None:
    """The outdoor clip (a woman walking across, a second person jumping, small in the
    picture): never reported as a steady running cadence."""
    src = RealRateFileSource(shared_data / "overground_walk_side_30fps.mp4", realtime=False)
    src.open()
    est = LiveCadenceEstimator()
    out = []
    while True:
        try:
            p = src.read()
        except CameraDisconnectedError:
            break
        e = est.push(p.timestamp_ns / 1e9, small_grey(p))
        if e is not None:
            out.append(e)
    assert out and not any(e.ok for e in out)
