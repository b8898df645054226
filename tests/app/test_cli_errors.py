"""The CLI's one top-level handler: our errors print their message, anything else one line; never
a traceback, always a non-zero exit."""

from __future__ import annotations

import argparse

import pytest

from app import cli
from app.video.errors import CorruptVideo


def _run(fn) -> argparse.Namespace:  # type: ignore[no-untyped-def]
    return argparse.Namespace(_run=fn, command="analyze")


def test_clinic_error_prints_its_message(capsys: pytest.CaptureFixture[str]) -> None:
    def run(_args):  # type: ignore[no-untyped-def]
        raise CorruptVideo("The video file is damaged.", detail="moov atom not found")

    assert cli._run_handled(_run(run)) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err == "stride-clinic analyze: error: The video file is damaged.\n"


def test_unexpected_error_is_one_line_and_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    def run(_args):  # type: ignore[no-untyped-def]
        return {}["missing"]

    assert cli._run_handled(_run(run)) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1 and "KeyError" in err


def test_success_and_interrupt(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli._run_handled(_run(lambda a: 0)) == 0

    def run(_args):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    assert cli._run_handled(_run(run)) == 130
