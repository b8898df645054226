"""The metronome export runs on the one background helper (ui.tasks.BackgroundTask)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QThread

from ui.metronome_widget import ExportThread
from ui.tasks import BackgroundTask


def test_export_is_a_background_task_and_cancel_wins(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert not issubclass(ExportThread, QThread)
    out = tmp_path / "long.wav"
    job = ExportThread(str(out), 170, 30.0, 0, 0.8)
    assert isinstance(job._task, BackgroundTask)
    messages: list[str] = []
    job.failed.connect(messages.append)
    job.start()
    job.requestInterruption()
    assert job.wait(20000)
    qtbot.waitUntil(lambda: messages == ["Export cancelled."], timeout=5000)
    assert not out.exists()  # the partial file is removed


def test_export_progress_reaches_100(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "short.wav"
    job = ExportThread(str(out), 170, 0.1, 0, 0.8)
    seen: list[int] = []
    job.progress.connect(seen.append)
    with qtbot.waitSignal(job.succeeded, timeout=20000) as sig:
        job.start()
    assert sig.args == [str(out)] and seen and seen[-1] == 100 and out.is_file()
