"""Metronome audio: beat timing measured from the generated samples, live tempo change, export."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from app.prescription.metronome import (
    ExportCancelled,
    MetronomeError,
    MetronomeStream,
    beat_timing_error,
    detect_onsets,
    export,
    measure_file_timing,
    read_audio,
    render,
)

SR = 44100


def onsets_samples(x: np.ndarray, sr: int = SR) -> np.ndarray:
    return np.rint(detect_onsets(x, sr) * sr).astype(int)


def test_render_ten_minutes_beats_on_ideal_grid_within_1ms() -> None:
    x = render(172, 600, SR)
    assert x.dtype == np.int16 and len(x) == 600 * SR
    on = detect_onsets(x, SR)
    assert len(on) == 1720  # 172 beats a minute for 10 minutes (beat 0 at t = 0)
    err = beat_timing_error(on, 172)
    assert err["missing_beats"] == 0
    assert err["max_abs_ms"] < 1.0
    # the grid does not drift: the spread of errors (detection latency removed) is sub-sample
    rel = on - np.arange(1720) * 60 / 172
    assert np.ptp(rel) * 1000 < 1000 / SR + 1e-9


def test_block_size_does_not_change_the_signal() -> None:
    whole = render(163, 7, SR, accent_every=3)
    s = MetronomeStream(163, SR, accent_every=3)
    rng = np.random.default_rng(0)
    parts, n = [], 0
    while n < len(whole):
        k = int(min(rng.integers(1, 5000), len(whole) - n))
        parts.append(s.read(k))
        n += k
    assert np.array_equal(np.concatenate(parts), whole)


def test_accent_has_distinct_pitch() -> None:
    x = render(120, 2.0, SR, accent_every=2).astype(float)
    clen = int(0.025 * SR)

    def peak_hz(seg: np.ndarray) -> float:
        spec = np.abs(np.fft.rfft(seg, 8192))
        return float(np.fft.rfftfreq(8192, 1 / SR)[np.argmax(spec)])

    accent, normal = x[:clen], x[SR // 2 : SR // 2 + clen]
    assert peak_hz(accent) > peak_hz(normal) + 500
    assert np.max(np.abs(x)) > 0.5 * 32767 * 0.8


def test_volume_scales_and_zero_is_silent() -> None:
    loud = render(170, 1, SR, volume=1.0)
    soft = render(170, 1, SR, volume=0.25)
    assert np.max(np.abs(soft)) == pytest.approx(np.max(np.abs(loud)) / 4, rel=0.01)
    assert not render(170, 1, SR, volume=0).any()


def test_live_bpm_change_keeps_phase() -> None:
    s = MetronomeStream(120, SR)  # beats at 0, 22050, 44100, ...
    a = s.read(30000)
    s.set_bpm(180)  # new interval 14700 from the last beat (22050)
    b = s.read(60000)
    on = onsets_samples(np.r_[a, b])
    latency = on[0]
    assert latency < 0.5e-3 * SR
    assert list(on - latency) == [
        0,
        22050,
        22050 + 14700,
        22050 + 2 * 14700,
        22050 + 3 * 14700,
        22050 + 4 * 14700,
    ]


def test_live_bpm_change_to_slower_and_late_speedup() -> None:
    s = MetronomeStream(180, SR)  # 14700 samples
    s.read(14700 + 14000)  # just before beat 2 at 29400
    s.set_bpm(60)  # slower: next beat one second after beat 1
    assert s.next_beat().sample == 14700 + SR
    s2 = MetronomeStream(60, SR)
    s2.read(30000)  # last beat at 0, now at 30000
    s2.set_bpm(180)  # the new interval (14700) already passed: click now, not skip
    nb = s2.next_beat()
    assert nb.sample == 30000 and nb.number == 1
    x = s2.read(100)
    assert np.abs(x[:20]).max() > 0


def test_beat_at_maps_sample_to_beat_and_accent() -> None:
    s = MetronomeStream(120, SR, accent_every=4)
    s.read(SR * 3)
    b = s.beat_at(SR * 2 + 10)
    assert b is not None and b.number == 4 and b.sample == SR * 2 and b.accent
    assert s.beat_at(SR // 2 - 1).number == 0
    s2 = MetronomeStream(120, SR)
    s2.skip(SR)
    assert s2.beat_at(SR - 1).number == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bpm": 0},
        {"bpm": "x"},
        {"bpm": float("nan")},
        {"bpm": 500},
        {"volume": 2},
        {"accent_every": -1},
        {"accent_every": 1.5},
    ],
)
def test_stream_validation(kwargs) -> None:
    args = {"bpm": 170, **kwargs}
    with pytest.raises(MetronomeError):
        MetronomeStream(**args)


def test_export_wav_read_back(tmp_path: Path) -> None:
    path = export(tmp_path / "m.wav", 172, 0.5, accent_every=4)
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, SR)
        assert w.getnframes() == 30 * SR
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    on = detect_onsets(x, SR)
    assert len(on) == 86
    assert beat_timing_error(on, 172)["max_abs_ms"] < 1.0


@pytest.mark.parametrize("ext", [".m4a", ".mp3"])
def test_export_compressed_read_back(tmp_path: Path, ext: str) -> None:
    path = export(tmp_path / f"m{ext}", 170, 0.25)
    x, sr = read_audio(path)
    assert sr == SR
    assert abs(len(x) / sr - 15.0) < 0.1
    on = detect_onsets(x, sr)
    assert len(on) == 43  # beats at k * 60/170 s for k = 0..42 within 15 s
    # encoder delay (if any) is a constant offset; the spacing must stay on the grid
    err = beat_timing_error(on, 170, offset_s=on[0])
    assert err["max_abs_ms"] < 1.0


def test_export_progress_and_cancel(tmp_path: Path) -> None:
    seen: list[float] = []
    export(tmp_path / "p.wav", 170, 0.5, progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen)
    target = tmp_path / "c.wav"
    with pytest.raises(ExportCancelled):
        export(target, 170, 1, cancelled=lambda: True)
    assert not target.exists()


@pytest.mark.parametrize(
    ("name", "bpm", "minutes", "msg"),
    [
        ("m.ogg", 170, 1, ".wav"),
        ("noext", 170, 1, ".wav"),
        ("missing/m.wav", 170, 1, "does not exist"),
        ("m.wav", 1000, 1, "tempo"),
        ("m.wav", 170, 0, "duration"),
        ("m.wav", 170, float("inf"), "duration"),
    ],
)
def test_export_errors(tmp_path: Path, name: str, bpm, minutes, msg: str) -> None:
    with pytest.raises(MetronomeError, match=msg):
        export(tmp_path / name, bpm, minutes)


def test_export_to_a_folder_name_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "d.wav").mkdir()
    with pytest.raises(MetronomeError, match="folder"):
        export(tmp_path / "d.wav", 170, 1)


def test_measure_file_timing_reports_grid_error(tmp_path: Path) -> None:
    path = export(tmp_path / "t.wav", 172, 1.0)
    m = measure_file_timing(path, 172)
    assert m["n_onsets"] == 172 and m["missing_beats"] == 0
    assert m["max_abs_ms"] < 1.0 and m["spread_ms"] < 1000 / SR + 1e-9
    # against a wrong tempo the same file must fail the 1 ms target
    assert measure_file_timing(path, 171)["max_abs_ms"] > 1.0
