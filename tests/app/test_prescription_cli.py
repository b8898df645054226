"""``stride-clinic metronome`` sub-command: files written, one-line errors, exit code 2."""

from __future__ import annotations

import argparse
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from app.prescription import cli


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="stride-clinic metronome")
    cli.add_arguments(parser)
    return cli.run(parser.parse_args(argv))


def test_writes_wav(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.wav"
    rc = run_cli(
        [
            "--spm",
            "172",
            "--minutes",
            "0.1",
            "--out",
            str(out),
            "--accent-every",
            "4",
            "--volume",
            "0.5",
        ]
    )
    assert rc == 0
    with wave.open(str(out)) as w:
        assert w.getnframes() == 6 * 44100
    assert "172" in capsys.readouterr().out


def test_writes_mp3(tmp_path: Path) -> None:
    out = tmp_path / "m.mp3"
    assert run_cli(["--spm", "165", "--minutes", "0.1", "--out", str(out)]) == 0
    assert out.stat().st_size > 1000


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--spm", "abc", "--minutes", "1"], "number"),
        (["--spm", "1000", "--minutes", "1"], "not possible"),
        (["--spm", "0", "--minutes", "1"], "more than zero"),
        (["--spm", "nan", "--minutes", "1"], "ordinary number"),
        (["--spm", "172", "--minutes", "-1"], "duration"),
        (["--spm", "172", "--minutes", "1", "--volume", "5"], "volume"),
        (["--spm", "172", "--minutes", "1", "--accent-every", "1.5"], "whole number"),
    ],
)
def test_bad_values_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expect: str
) -> None:
    rc = run_cli([*args, "--out", str(tmp_path / "m.wav")])
    err = capsys.readouterr().err
    assert rc == 2
    assert expect in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "m.wav").exists()


def test_unknown_extension_and_unwritable_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["--spm", "172", "--minutes", "1", "--out", str(tmp_path / "m.ogg")]) == 2
    assert ".wav" in capsys.readouterr().err
    assert run_cli(["--spm", "172", "--minutes", "1", "--out", str(tmp_path / "no" / "m.wav")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_module_entry_point_no_traceback(tmp_path: Path) -> None:
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.prescription.cli",
            "--spm",
            "172",
            "--minutes",
            "1",
            "--out",
            "/proc/x.wav",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr and bad.stderr.strip().count("\n") == 0
    missing = subprocess.run(
        [sys.executable, "-m", "app.prescription.cli", "--spm", "172"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "required" in missing.stderr
