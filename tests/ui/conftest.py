"""Qt fixtures for these tests live in tests/qt_fixtures.py (shared with the other Qt folder)."""

from tests.qt_fixtures import _isolated_qsettings, clinic, demo_clinic, main_window  # noqa: F401
