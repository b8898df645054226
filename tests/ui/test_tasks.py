from __future__ import annotations

import time

from app.errors import ClinicError
from ui.tasks import BackgroundTask, user_message


def test_result_arrives_on_gui_thread(qtbot) -> None:
    task = BackgroundTask(lambda progress, cancelled: (progress(0.5), 42)[1], title="t")
    with qtbot.waitSignal(task.finished, timeout=5000) as sig:
        task.start()
    assert sig.args == [42]


def test_cancel_stops_cooperatively(qtbot) -> None:
    def job(progress, cancelled):  # type: ignore[no-untyped-def]
        for i in range(500):
            if cancelled():
                return "stopped early"
            progress(i / 500)
            time.sleep(0.01)
        return "ran to the end"

    task = BackgroundTask(job, title="t")
    finished: list[object] = []
    task.finished.connect(finished.append)
    with qtbot.waitSignal(task.cancelled, timeout=5000):
        task.start()
        qtbot.wait(50)
        task.cancel()
    assert finished == []


def test_errors_are_delivered_with_their_message(qtbot) -> None:
    class Problem(ClinicError):
        pass

    def job(progress, cancelled):  # type: ignore[no-untyped-def]
        raise Problem("The video file is damaged.")

    task = BackgroundTask(job, title="t", show_dialog=False)
    with qtbot.waitSignal(task.failed, timeout=5000) as sig:
        task.start()
    assert user_message(sig.args[0]) == "The video file is damaged."
    assert "Something went wrong" in user_message(RuntimeError("x"))

    class LooksLikeOurs(Exception):  # a message attribute alone no longer makes it ours
        message = "secret internals"

    assert "secret internals" not in user_message(LooksLikeOurs())
