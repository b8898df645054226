"""An unexpected error in a slot or a thread: a plain dialog, the program goes on, a log file
with the code path and no patient data."""

from __future__ import annotations

import logging
import stat
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtWidgets import QPushButton

from app.logs import install_file_log
from ui import crash

PATIENT = "Jane Doe-Smith"
NOTE = "left knee pain after 5 km"


@pytest.fixture
def hooked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    # monkeypatch restores both hooks and the root logger's handlers after the test.
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    log_file = install_file_log(tmp_path)
    shown: list[tuple[str, Path | None]] = []
    monkeypatch.setattr(
        crash, "show_crash_dialog", lambda parent, detail, where: shown.append((detail, where))
    )
    crash.install_excepthook()
    yield shown, log_file
    for h in root.handlers:
        h.flush()


@pytest.mark.qt_no_exception_capture
def test_unexpected_error_in_a_slot_shows_the_dialog_and_the_program_goes_on(
    qtbot, hooked
) -> None:  # type: ignore[no-untyped-def]
    shown, log_file = hooked
    clicks: list[int] = []

    def slot() -> None:
        clicks.append(1)
        if len(clicks) == 1:
            raise RuntimeError(f"could not draw {PATIENT}: {NOTE}")

    button = QPushButton("Save")
    qtbot.addWidget(button)
    button.clicked.connect(slot)
    button.click()
    assert len(shown) == 1
    detail, where = shown[0]
    assert "RuntimeError" in detail and "slot" in detail  # type and code path
    assert where == log_file
    button.click()  # the program is alive and the same button works again
    assert clicks == [1, 1] and len(shown) == 1

    for h in logging.getLogger().handlers:
        h.flush()
    text = log_file.read_text(encoding="utf-8")
    assert "unexpected error" in text and "RuntimeError" in text and "in slot" in text
    assert PATIENT not in text and NOTE not in text and PATIENT not in detail
    if sys.platform != "win32":
        assert stat.S_IMODE(log_file.stat().st_mode) == 0o600


@pytest.mark.qt_no_exception_capture
def test_unexpected_error_in_a_thread_reaches_the_dialog(qtbot, hooked) -> None:  # type: ignore[no-untyped-def]
    shown, _ = hooked

    def work() -> None:
        raise ValueError(PATIENT)

    t = threading.Thread(target=work)
    t.start()
    t.join(5)
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=5000)
    assert "ValueError" in shown[0][0] and PATIENT not in shown[0][0]


@pytest.mark.qt_no_exception_capture
def test_our_own_error_gets_its_message_not_the_crash_dialog(
    qtbot, hooked, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from app.records.validation import ValidationError

    shown, _ = hooked
    told: list[str] = []
    monkeypatch.setattr(crash.QMessageBox, "warning", lambda *a: told.append(a[2]))
    button = QPushButton("Save")
    qtbot.addWidget(button)

    def slot() -> None:
        raise ValidationError("height", "The height must be between 50 and 250 cm.")

    button.clicked.connect(slot)
    button.click()
    assert told == ["The height must be between 50 and 250 cm."] and shown == []


def test_the_real_dialog_opens_with_headline_and_detail(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    seen: list[QMessageBox] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda self: seen.append(self) or 0)
    crash.show_crash_dialog(None, "RuntimeError detail", Path("/x/logs/stride-clinic.log"))
    box = seen[0]
    assert box.text() == crash.HEADLINE and "stride-clinic.log" in box.informativeText()
    assert box.detailedText() == "RuntimeError detail"
