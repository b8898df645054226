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


def test_start_up_heap_is_frozen_and_full_collections_follow_the_long_lived_rule(qapp) -> None:  # type: ignore[no-untyped-def]
    collector = gc_pin.install(qapp)
    assert gc.get_freeze_count() > 10_000  # modules, classes, Qt wrappers: never scanned again
    collector.long_lived = 1_000_000  # pretend the oldest generation holds a million objects
    assert not collector.full_due()  # a handful of new survivors: no full collection

    class _Fake:  # the counts a long-running program reaches: every generation past threshold
        def __init__(self) -> None:
            self.collected: list[int] = []

        def get_count(self) -> tuple[int, int, int]:
            return (10_000, 100, 100)

        def collect(self, generation: int) -> int:
            self.collected.append(generation)
            return 0

        def get_objects(self, generation: int) -> list[object]:
            return [None] * 10

    real = gc_pin.gc
    fake = _Fake()
    gc_pin.gc = fake  # type: ignore[assignment]
    try:
        before = collector.full_collections
        collector.check()
        assert fake.collected == [0, 1]  # young generations only: the full one is not due
        collector.long_lived = 4  # 10 in the oldest generation now: 6 survivors > 4 / 4
        collector.check()
        assert fake.collected[-1] == 2 and collector.full_collections == before + 1
        assert collector.long_lived == 10
    finally:
        gc_pin.gc = real
        collector.long_lived = len(gc.get_objects(2))


def test_postponing_moves_the_next_check_once_between_checks(qapp) -> None:  # type: ignore[no-untyped-def]
    collector = gc_pin.install(qapp)
    collector.check()  # a check clears any earlier postponement
    timer = collector._timer
    assert collector.postpone()
    assert timer.remainingTime() > timer.interval() - 100  # a whole interval from now
    assert not collector.postpone()  # not again before the next check: never starved
    collector.check()
    assert collector.postpone()
    collector.check()


def test_the_history_postpones_collection_past_its_first_paint(
    qtbot, qapp, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from app.clinic import open_clinic
    from ui.history_view import HistoryView

    clinic = open_clinic()
    collector = gc_pin.install(qapp)
    try:
        view = HistoryView(clinic)
        qtbot.addWidget(view)
        collector.check()
        view.set_patient(None)
        assert not collector.postpone()  # the view's refresh has postponed the next check
    finally:
        collector.check()
        clinic.close()
