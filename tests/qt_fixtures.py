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


def _answer_discard(_parent, what: str, _can_stay: bool):  # type: ignore[no-untyped-def]
    from ui import unsaved

    return unsaved.Leave.DISCARD


@pytest.fixture(autouse=True, scope="session")
def _unsaved_question_answers_discard():  # type: ignore[no-untyped-def]
    """A form left with changes must not open a modal box that nobody answers: pytest-qt closes
    leftover widgets after the test's own fixtures are undone, and the question hung the suite.
    For the whole session the "unsaved changes" question answers Discard; a test that checks
    the question sets its own asker with monkeypatch (tests/e2e/test_nothing_typed_is_lost.py)."""
    from ui import unsaved

    unsaved.asker = _answer_discard
    yield


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
