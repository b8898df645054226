"""Python's cyclic garbage collector runs on the GUI thread only.

CPython collects reference cycles in whichever thread crosses the allocation threshold: the
autosave writer, a frame-server decoder, a camera or analysis thread. A cycle that holds Qt
objects (a widget and its slots, a plot item) is then destroyed off the GUI thread. Qt forbids
that, and with PySide it can deadlock: seen here as a test hung for good with the GUI thread in
a pyqtgraph label's ``setHtml``, a decoder in PyAV and the autosave thread inside a SQLAlchemy
flush, all idle (the 90-minute CI timeout of 2026-12-01 stopped at that test's file). The cure
pyqtgraph, calibre and others use: turn automatic collection off and collect from a GUI-thread
timer, generation by generation, with the interpreter's own thresholds.

Full (oldest-generation) collections are what costs: about 100 ms for the ~150,000 objects a
started program holds (modules, classes, Qt wrappers), long enough to stall a frame step or a
keystroke. Two rules keep them cheap, as CPython's own collector does: the start-up heap is
frozen once (``gc.freeze``: never scanned again; cycles in it are not collected, which for
modules and classes is what one wants), and a full collection runs only when the objects that
have survived into the oldest generation since the last one exceed a quarter of those it kept
(CPython's ``long_lived_pending > long_lived_total / 4``), so its cost stays proportional to
what was allocated.

Installed by :func:`ui.application.make_application` (the program and the Qt tests). The
command line, which has no event loop, keeps automatic collection.

A view that has just built a large picture (the History: ~100,000 new objects, nearly all kept)
calls :func:`postpone`, so the timer's next check comes a whole interval later, after the first
paint, not between the build and the paint (young collections of those objects took 5-13 ms of
the History's opening in its benchmark). At most once between checks: collection is delayed,
never starved, however often views redraw.
"""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

INTERVAL_MS = 500


class MainThreadCollector(QObject):
    """Collects garbage on a GUI-thread timer; automatic collection stays off meanwhile."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        gc.collect()  # once, at start-up: what is garbage now is not frozen for ever
        gc.freeze()
        #: Objects in the oldest generation after the last full collection.
        self.long_lived = len(gc.get_objects(2))
        self.full_collections = 0
        self._postponed = False
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> int:
        """Collect what the thresholds call for (as automatic collection would); returns the
        number of objects found unreachable."""
        if threading.current_thread() is not threading.main_thread():  # pragma: no cover
            return 0
        self._postponed = False
        c0, c1, c2 = gc.get_count()
        found = 0
        if c0 > self.threshold[0]:
            found += gc.collect(0)
            if c1 > self.threshold[1]:
                if c2 > self.threshold[2] and self.full_due():
                    found += gc.collect(2)
                    self.long_lived = len(gc.get_objects(2))
                    self.full_collections += 1
                else:
                    found += gc.collect(1)
        return found

    def full_due(self) -> bool:
        """CPython's rule: a full collection once the survivors since the last one exceed a
        quarter of the long-lived objects (an unfrozen oldest generation costs ~0.1 µs an
        object to count)."""
        pending = len(gc.get_objects(2)) - self.long_lived
        return pending > self.long_lived / 4

    def postpone(self) -> bool:
        """Move the next check a whole interval away (once between checks); True if moved."""
        if self._postponed:
            return False
        self._postponed = True
        self._timer.start()  # restarts the interval
        return True


def postpone() -> None:
    """Postpone the collector's next check (:meth:`MainThreadCollector.postpone`), if installed."""
    app = QApplication.instance()
    collector = app.findChild(MainThreadCollector) if app is not None else None
    if collector is not None:
        collector.postpone()


def install(app: QApplication) -> MainThreadCollector:
    """Pin collection to the GUI thread for ``app`` (once; later calls return the same one)."""
    existing = app.findChild(MainThreadCollector)
    if existing is not None:
        return existing
    return MainThreadCollector(app)
