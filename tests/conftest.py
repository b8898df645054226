"""Shared test set-up: offscreen Qt, a private data folder per test, the shared sample data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# Offscreen, with a 1920×1080 screen like a clinic monitor (Qt's default offscreen screen is 800×800).
_SCREEN = Path(__file__).resolve().parent / "data" / "offscreen_screen.json"
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_SCREEN}"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--headed", action="store_true", help="show Qt windows instead of offscreen")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--headed"):
        os.environ["QT_QPA_PLATFORM"] = os.environ.get("STRIDE_HEADED_PLATFORM", "xcb")


@pytest.fixture(autouse=True)
def _private_data_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own empty data folder; the user's real data is never touched."""
    home = tmp_path_factory.mktemp("stride_home")
    monkeypatch.setenv("STRIDE_CLINIC_HOME", str(home))
    return home


@pytest.fixture
def data_home(_private_data_home: Path) -> Path:
    return _private_data_home


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real sample recordings (../shared/data); tests skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"sample data folder not found: {SHARED_DATA}")
    return SHARED_DATA
