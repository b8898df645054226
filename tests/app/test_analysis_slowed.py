"""Slow-motion clips without a capture-rate tag: detected, a capture rate suggested, asked for."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from app.analysis import analyze
from app.analysis.contacts import detect_contacts
from app.analysis.errors import AnalysisError, SlowedClipError
from app.analysis.keypoints import write_csv
from app.analysis.periodicity import estimate_step_period

from ._analysis_helpers import load_trial, resample


def _slowed(shared_data: Path, capture: float, playback: float = 30.0, seconds: float = 30.0):
    track, _ = load_trial(shared_data, "rearfoot", seconds=seconds)
    r = resample(track, capture)
    return r.with_times(np.arange(r.n_frames) / playback)


def test_long_periods_found_only_when_asked() -> None:
    fps, period = 30.0, 2.8  # a 0.35 s step played 8x slower
    t = np.arange(int(60 * fps)) / fps
    x = np.sin(2 * np.pi * t / period)
    normal, weak = estimate_step_period([x], fps)  # the human range: nothing regular in it
    assert not (np.isfinite(normal) and weak >= 0.15)
    found, strength = estimate_step_period([x], fps, min_s=1.0, max_s=16.0)
    assert found == pytest.approx(period, rel=0.02) and strength > 0.8


@pytest.mark.parametrize("capture", [120.0, 240.0])
def test_slowed_clip_names_the_likely_capture_rate(shared_data: Path, capture: float) -> None:
    with pytest.raises(SlowedClipError) as info:
        detect_contacts(_slowed(shared_data, capture))
    err = info.value
    assert err.suggested_capture_fps == capture
    assert err.found_spm == pytest.approx(157.5 * 30.0 / capture, rel=0.03)
    text = str(err)
    assert "slowed down" in text and f"{capture:g} frames per second" in text
    assert "No regular stepping" not in text


def test_slowed_clip_then_right_rate_works(shared_data: Path) -> None:
    slowed = _slowed(shared_data, 240.0, seconds=12.0)
    res = detect_contacts(slowed.with_times(np.arange(slowed.n_frames) / 240.0))
    assert 150 < 60.0 / res.step_period_s < 165


def test_random_noise_is_still_no_regular_stepping() -> None:
    rng = np.random.default_rng(2)
    n = 900
    base = np.array([[0, 0], [20, 400], [0, 800], [-40, 850], [150, 850]], float)
    xy = np.stack([base, base + [300, 0]])[None].repeat(n, axis=0) + rng.normal(0, 40, (n, 2, 5, 2))
    from app.analysis.keypoints import KeypointTrack

    with pytest.raises(AnalysisError) as info:
        detect_contacts(KeypointTrack(np.arange(n) / 30.0, xy))
    assert not isinstance(info.value, SlowedClipError)


def test_cli_says_slowed_and_exits_2(shared_data: Path, tmp_path: Path, capsys) -> None:
    csv = tmp_path / "slow.csv"
    write_csv(_slowed(shared_data, 240.0), csv)
    parser = argparse.ArgumentParser()
    analyze.add_arguments(parser)
    assert analyze.run(parser.parse_args(["--keypoints", str(csv)])) == analyze.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "slowed down" in err and "240 frames per second" in err and "Traceback" not in err
    # With the capture rate given, it analyses.
    assert analyze.run(parser.parse_args(["--keypoints", str(csv), "--capture-fps", "240"])) == 0
