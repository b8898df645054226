from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from app.analysis import analyze
from app.analysis.keypoints import write_csv

from ._analysis_helpers import load_trial


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    analyze.add_arguments(parser)
    return parser.parse_args(argv)


def test_keypoints_json_shape(shared_data: Path, tmp_path: Path) -> None:
    track, truth = load_trial(shared_data, "rearfoot", seconds=10.0)
    csv = tmp_path / "t.csv"
    write_csv(track, csv)
    out = tmp_path / "o.json"
    assert analyze.run(_args(["--keypoints", str(csv), "--fps", "150", "--json", str(out)])) == 0
    data = json.loads(out.read_text())
    for key in ("fps", "capture_fps", "frames", "direction", "events", "metrics", "warnings"):
        assert key in data
    # Which part was analysed and how many glitches were dropped reach the JSON too.
    assert data["analysed_frames"] == [0, track.n_frames - 1]
    assert data["analysed_reason"] == "" and data["outliers_rejected"] >= 0
    assert data["capture_fps"] == pytest.approx(150.0)
    ev = data["events"][0]
    assert set(ev) == {"foot", "type", "frame", "time_s", "confidence"}
    assert ev["foot"] in ("left", "right") and ev["type"] in ("initial_contact", "toe_off")
    m = data["metrics"]
    truth_cad = 60 * (len(truth["side"]) - 1) / np.ptp(truth["strike_time_s"])
    assert m["cadence_spm"] == pytest.approx(truth_cad, rel=0.01)
    for key in ("contact_time_s", "overstride_leg_pct", "shank_angle_deg", "knee_flexion_deg",
                "foot_strike_angle_deg"):  # fmt: skip
        assert m[key]["left"]["n"] >= 7 and m[key]["right"]["mean"] is not None


def test_capture_fps_rescales_time(shared_data: Path, tmp_path: Path, capsys) -> None:
    track, _ = load_trial(shared_data, "rearfoot", seconds=10.0)
    csv = tmp_path / "t.csv"
    write_csv(track, csv)
    # Pretend the 150 Hz track was played back at 75: cadence halves.
    assert analyze.run(_args(["--keypoints", str(csv), "--capture-fps", "75", "--json", "-"])) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["metrics"]["cadence_spm"] == pytest.approx(157.5 / 2, rel=0.02)
    assert any("outside the usual running range" in w for w in data["warnings"])


def test_summary_without_json(shared_data: Path, tmp_path: Path, capsys) -> None:
    track, _ = load_trial(shared_data, "forefoot", seconds=8.0)
    csv = tmp_path / "t.csv"
    write_csv(track, csv)
    assert analyze.run(_args(["--keypoints", str(csv)])) == 0
    text = capsys.readouterr().out
    assert "Cadence:" in text and "Shank angle" in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--keypoints", "/nonexistent/t.csv"], "not found"),
        ([], "exactly one"),
    ],
)
def test_bad_input_exit_2(argv: list[str], message: str, capsys) -> None:
    assert analyze.run(_args(argv)) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_broken_csv_and_video(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "b.csv"
    bad.write_text("time_s,foo\n0,1\n")
    assert analyze.main(["--keypoints", str(bad)]) == 2
    assert "lacks" in capsys.readouterr().err
    video = tmp_path / "v.mp4"
    video.write_bytes(b"not a video")
    assert analyze.main([str(video)]) == 2
    err = capsys.readouterr().err
    assert "not a video" in err and "Errno" not in err and "avcodec" not in err
