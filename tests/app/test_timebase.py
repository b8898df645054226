"""app.video.timebase and its use in ``analyze``: variable frame rate and slow-motion tags.

The pose model is replaced by the RBDS marker track sampled at each frame's real time, so the
tests measure the time handling alone (a real video gives the same: see the lead's report).
"""

from __future__ import annotations

import argparse
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from app.analysis import analyze
from app.analysis.keypoints import KeypointTrack
from app.video.synthetic import write_clip
from app.video.timebase import Timebase

from ._analysis_helpers import load_trial

TB = Fraction(1, 1200)


def _vfr_times(seconds_60: float, seconds_30: float) -> np.ndarray:
    first = np.arange(0.0, seconds_60, 1 / 60)
    second = seconds_60 + np.arange(0.0, seconds_30, 1 / 30)
    return np.concatenate([first, second])


def _vfr_clip(path: Path, times: np.ndarray) -> Path:
    pts = np.round(times / float(TB)).astype(int)
    return write_clip(
        path, n_frames=len(pts), width=160, height=120, fps=45, pts=list(pts), time_base=TB
    )


def test_timebase_of_a_vfr_clip(tmp_path: Path) -> None:
    times = _vfr_times(1.0, 1.0)
    tb = Timebase.from_file(_vfr_clip(tmp_path / "vfr.mp4", times))
    assert tb.n_frames == len(times) == 90
    assert tb.is_variable
    np.testing.assert_allclose(tb.times_s, times, atol=1e-3)
    assert tb.peak_fps == pytest.approx(60, rel=0.02)
    # frame 60 is the first 30 fps frame, at 1.0 s; frame/mean-fps would say 60/45 = 1.33 s
    assert tb.time_of(60) == pytest.approx(1.0, abs=1e-3)
    assert tb.frame_at(1.0) == 60 and tb.frame_at(1.5) == 75
    assert all(tb.frame_at(tb.time_of(i)) == i for i in range(tb.n_frames))
    assert tb.time_of(59.5) == pytest.approx((tb.time_of(59) + tb.time_of(60)) / 2)
    with pytest.raises(IndexError):
        tb.time_of(90)


def test_timebase_reads_the_android_slow_motion_tag(tmp_path: Path) -> None:
    clip = write_clip(
        tmp_path / "slomo.mp4",
        n_frames=48,
        width=160,
        height=120,
        fps=30,
        container_metadata={"com.android.capture.fps": "240.000000"},
    )
    tb = Timebase.from_file(clip)
    assert tb.capture_fps == pytest.approx(240) and "com.android.capture.fps" in tb.capture_source
    assert tb.time_of(47) == pytest.approx(47 / 240, abs=1e-4)  # real time, not playback
    assert tb.real_fps == pytest.approx(240)
    assert Timebase.from_file(clip, capture_fps=120).time_of(47) == pytest.approx(
        47 / 120, abs=1e-4
    )
    assert not tb.is_variable


def test_uniform_and_bad_times() -> None:
    tb = Timebase.uniform(10, 50.0)
    assert tb.time_of(5) == pytest.approx(0.1) and tb.frame_at(0.1) == 5 and not tb.is_variable
    with pytest.raises(ValueError):
        Timebase(np.array([0.0, 0.1, 0.1]), 30.0, None)
    with pytest.raises(ValueError):
        Timebase(np.array([0.0, 0.1]), 30.0, 0.0)


def _markers_at(track: KeypointTrack, real_times: np.ndarray) -> np.ndarray:
    t = track.times - track.times[0]
    flat = track.xy.reshape(track.n_frames, -1)
    out = np.stack([np.interp(real_times, t, flat[:, k]) for k in range(flat.shape[1])], axis=1)
    return out.reshape(len(real_times), *track.xy.shape[1:])


def _fake_pose(monkeypatch: pytest.MonkeyPatch, xy: np.ndarray, decoder_fps: float) -> None:
    """Pose 'model' returning the markers, with times a naive decoder would give (i / fps)."""

    def run_pose(video, **_kw):  # type: ignore[no-untyped-def]
        track = KeypointTrack(np.arange(len(xy)) / decoder_fps, xy.copy())
        track.meta.update({"fps": decoder_fps, "detected_fraction": 1.0, "jumps": 0})
        return track

    monkeypatch.setattr("app.analysis.pose.run_pose", run_pose)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    parser = argparse.ArgumentParser()
    analyze.add_arguments(parser)
    assert analyze.run(parser.parse_args([*argv, "--json", "-"])) == 0
    return json.loads(capsys.readouterr().out)


def _truth_cadence(truth: dict[str, np.ndarray]) -> float:
    return 60 * (len(truth["side"]) - 1) / float(np.ptp(truth["strike_time_s"]))


def test_analyze_uses_the_files_frame_times_for_vfr(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    track, truth = load_trial(shared_data, "rearfoot", seconds=10.0)
    times = _vfr_times(5.0, 4.9)
    _fake_pose(monkeypatch, _markers_at(track, times), decoder_fps=45.0)
    clip = _vfr_clip(tmp_path / "vfr.mp4", times)
    out = _run([str(clip), "--cache-dir", str(tmp_path)], capsys)
    assert out["variable_frame_rate"] is True
    assert out["metrics"]["cadence_spm"] == pytest.approx(_truth_cadence(truth), rel=0.02)
    assert any("Variable frame rate" in w for w in out["warnings"])
    # events carry the file's frame numbers: frame f is shown at the event's time
    tb = Timebase.from_file(clip)
    for e in out["events"]:
        assert abs(tb.time_of(e["frame"]) - e["time_s"]) <= 1 / 30


def test_analyze_reads_the_slow_motion_tag_like_import(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    track, truth = load_trial(shared_data, "rearfoot", seconds=6.0)
    real = np.arange(0.0, 5.9, 1 / 240)
    _fake_pose(monkeypatch, _markers_at(track, real), decoder_fps=30.0)
    clip = write_clip(
        tmp_path / "slomo.mp4",
        n_frames=len(real),
        width=160,
        height=120,
        fps=30,
        codec="mjpeg",
        container_metadata={"com.android.capture.fps": "240"},
    )
    out = _run([str(clip), "--cache-dir", str(tmp_path)], capsys)
    assert out["capture_fps"] == pytest.approx(240)
    assert out["metrics"]["cadence_spm"] == pytest.approx(_truth_cadence(truth), rel=0.02)
    assert any("Slow-motion" in w for w in out["warnings"])
