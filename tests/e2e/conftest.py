"""Qt fixtures for these tests live in tests/qt_fixtures.py (shared with the other Qt folder)."""

from tests.qt_fixtures import (  # noqa: F401
    _isolated_qsettings,
    _modal_watchdog,
    _no_unanswered_modal,
    _unsaved_question_answers_discard,
    clinic,
    demo_clinic,
    main_window,
)
