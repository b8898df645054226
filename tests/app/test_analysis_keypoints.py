from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.analysis.errors import AnalysisError
from app.analysis.keypoints import (
    KeypointTrack,
    cache_key,
    column_names,
    load_npz,
    read_csv,
    save_npz,
    write_csv,
)


def _track(n: int = 50, fps: float = 100.0) -> KeypointTrack:
    rng = np.random.default_rng(1)
    return KeypointTrack(np.arange(n) / fps, rng.normal(500, 50, (n, 2, 5, 2)))


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.write_text(
        ",".join(header) + "\n" + "\n".join(",".join(str(v) for v in r) for r in rows) + "\n"
    )
    return path


def test_round_trip_with_confidence_and_nan(tmp_path: Path) -> None:
    tr = _track()
    tr.xy[3, 1, 2] = np.nan
    tr.conf[:] = 0.8
    tr.conf[3, 1, 2] = 0.0
    write_csv(tr, tmp_path / "t.csv")
    back = read_csv(tmp_path / "t.csv")
    assert back.n_frames == tr.n_frames
    np.testing.assert_allclose(back.xy, tr.xy, atol=1e-3)
    assert np.isnan(back.xy[3, 1, 2]).all()
    assert back.conf[3, 1, 2] == 0.0 and back.conf[0, 0, 0] == pytest.approx(0.8)
    assert back.fps == pytest.approx(100.0)


def test_missing_columns_are_named(tmp_path: Path) -> None:
    header = [c for c in column_names() if c != "left_heel_y"]
    p = _write(
        tmp_path / "m.csv", header, [[0.0] * len(header), [0.01] + [1.0] * (len(header) - 1)]
    )
    with pytest.raises(AnalysisError, match="left_heel_y"):
        read_csv(p)


def test_non_monotonic_times(tmp_path: Path) -> None:
    header = column_names()
    rows = [[t] + [1.0] * (len(header) - 1) for t in (0.0, 0.01, 0.02, 0.015, 0.03)]
    with pytest.raises(AnalysisError, match="increase"):
        read_csv(_write(tmp_path / "t.csv", header, rows))


def test_absurd_fps(tmp_path: Path) -> None:
    header = column_names()
    rows = [[t * 2.0] + [1.0] * (len(header) - 1) for t in range(10)]  # 0.5 fps
    with pytest.raises(AnalysisError, match="frames per second"):
        read_csv(_write(tmp_path / "t.csv", header, rows))


def test_nan_time_and_all_nan_positions(tmp_path: Path) -> None:
    header = column_names()
    rows = [[t] + [1.0] * (len(header) - 1) for t in ("0.0", "", "0.02")]
    with pytest.raises(AnalysisError, match="time column"):
        read_csv(_write(tmp_path / "a.csv", header, rows))
    rows = [[t / 100] + ["nan"] * (len(header) - 1) for t in range(5)]
    with pytest.raises(AnalysisError, match="no positions"):
        read_csv(_write(tmp_path / "b.csv", header, rows))


def test_text_in_numbers_and_missing_file(tmp_path: Path) -> None:
    header = column_names()
    rows = [[0.0] + [1.0] * (len(header) - 1), [0.01, "abc"] + [1.0] * (len(header) - 2)]
    with pytest.raises(AnalysisError, match="non-number"):
        read_csv(_write(tmp_path / "c.csv", header, rows))
    with pytest.raises(AnalysisError, match="not found"):
        read_csv(tmp_path / "nope.csv")


def test_npz_cache_is_keyed(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x" * 100)
    key = cache_key(video, "m1")
    tr = _track()
    save_npz(tr, tmp_path / "c.npz", key)
    back = load_npz(tmp_path / "c.npz", key)
    assert back is not None
    np.testing.assert_allclose(back.xy, tr.xy)
    assert load_npz(tmp_path / "c.npz", cache_key(video, "m2")) is None
    video.write_bytes(b"x" * 101)  # the video changed: a new key
    assert cache_key(video, "m1") != key


def test_sample_marker_csv_reads(shared_data: Path) -> None:
    tr = read_csv(shared_data / "rbds_S001_treadmill_run_2p5ms_keypoints.csv")
    assert tr.n_frames == 4500
    assert tr.fps == pytest.approx(150.0, rel=1e-3)
