"""Reference cycles are collected on the GUI thread, never on a worker thread."""

from __future__ import annotations

import gc
import threading

from ui import gc_pin


class _Cycle:
    seen: list[str] = []

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        _Cycle.seen.append(threading.current_thread().name)


def test_a_worker_thread_never_runs_the_collector_and_the_gui_timer_does(qtbot, qapp) -> None:  # type: ignore[no-untyped-def]
    from ui.application import make_application

    collector = gc_pin.install(make_application())
    assert gc_pin.install(qapp) is collector  # one per application
    assert not gc.isenabled()
    gc.collect()
    _Cycle.seen.clear()
    _Cycle()  # unreachable at once, but only the cycle collector can free it

    def churn() -> None:  # cycles far past every threshold: collected here if it were automatic
        for _ in range(50_000):
            x: list[object] = []
            x.append(x)

    worker = threading.Thread(target=churn, name="worker")
    worker.start()
    worker.join()
    assert _Cycle.seen == []  # the worker collected nothing
    qtbot.waitUntil(lambda: _Cycle.seen != [], timeout=5000)  # the GUI timer did
    assert _Cycle.seen == [threading.main_thread().name]
