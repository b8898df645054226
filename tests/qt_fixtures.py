"""Qt fixtures shared by tests/ui and tests/e2e: isolated settings, clinics, a main window."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture(autouse=True)
def _isolated_qsettings(tmp_path: Path, qapp) -> None:  # type: ignore[no-untyped-def]
    from ui.application import make_application

    make_application()
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings")
    )
    QSettings().clear()


@pytest.fixture
def clinic():  # type: ignore[no-untyped-def]
    from app.clinic import open_clinic

    c = open_clinic()
    yield c
    c.close()


@pytest.fixture
def demo_clinic():  # type: ignore[no-untyped-def]
    from app.clinic import open_clinic
    from app.demo import ensure_demo_data

    c = open_clinic(demo=True)
    ensure_demo_data(c)
    yield c
    c.close()


@pytest.fixture
def main_window(qtbot, clinic):  # type: ignore[no-untyped-def]
    from ui.main_window import MainWindow

    w = MainWindow(clinic)
    qtbot.addWidget(w)
    w.show()
    return w
