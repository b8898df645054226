"""Marking while another program holds the database: no freeze, nothing lost, closing asks."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from app.analysis.events import EventType, Foot
from app.records.patients import PatientData, create_patient
from app.records.recordings import events_of, import_recording
from app.records.visits import VisitData, create_visit
from app.video.synthetic import write_clip


@pytest.fixture
def recording(clinic, tmp_path: Path) -> int:  # type: ignore[no-untyped-def]
    clip = write_clip(tmp_path / "lock.mp4", n_frames=60, width=160, height=120, fps=30)
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Lock Runner")).id
        vid = create_visit(s, pid, VisitData(visit_date="2026-11-01")).id
    return import_recording(clinic.db, clinic.videos_root, vid, clip, capture_fps=120.0)


def _stored(clinic, rid: int) -> int:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        return len(events_of(s, rid))


def _lock(clinic) -> sqlite3.Connection:  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(clinic.folder.database, isolation_level=None, timeout=0.1)
    conn.execute("BEGIN EXCLUSIVE")
    return conn


class _GapMeter:
    """The longest time the GUI thread went without running its event loop."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.longest = 0.0
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last)
        self.last = now


def test_a_locked_database_neither_freezes_marking_nor_loses_a_mark(
    qtbot, clinic, recording
) -> None:
    from ui.annotation_panel import AnnotationPanel

    panel = AnnotationPanel(clinic)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.open_recording(recording)
    for f in (3, 17):
        panel.go_to(f)
        panel.mark(Foot.LEFT, EventType.INITIAL_CONTACT)
    qtbot.waitUntil(lambda: panel.unsaved_edits() == 0, timeout=10000)
    assert _stored(clinic, recording) == 2

    lock = _lock(clinic)
    meter = _GapMeter()
    try:
        for f in (31, 45):
            panel.go_to(f)
            panel.mark(Foot.RIGHT, EventType.INITIAL_CONTACT)
            qtbot.wait(300)
        qtbot.waitUntil(lambda: not panel.banner.isHidden(), timeout=8000)
        assert "not yet saved" in panel.banner.text()
        qtbot.wait(600)
        assert meter.longest < 0.5, f"the GUI thread froze for {meter.longest:.2f} s"
        assert panel.unsaved_edits() == 2
        assert _stored(clinic, recording) == 2
    finally:
        lock.execute("COMMIT")
        lock.close()
    qtbot.waitUntil(lambda: _stored(clinic, recording) == 4, timeout=15000)
    qtbot.waitUntil(lambda: panel.banner.isHidden(), timeout=5000)
    assert meter.longest < 0.5
    print(f"longest GUI-thread gap during the lock: {meter.longest * 1000:.0f} ms")
    assert panel.unsaved_edits() == 0
    panel.shutdown()


def test_closing_with_unsaved_marks_asks_and_the_next_start_saves_them(
    qtbot, clinic, recording, monkeypatch
) -> None:
    from ui.annotation_panel import AnnotationPanel
    from ui.main_window import MainWindow

    w = MainWindow(clinic)
    qtbot.addWidget(w)
    w.show()
    w.open_recording(recording)
    panel = w.annotation
    lock = _lock(clinic)
    asked: list[int] = []
    answers = iter(["wait", "leave"])
    monkeypatch.setattr(
        AnnotationPanel, "ask_unsaved", lambda self, n, what: asked.append(n) or next(answers)
    )
    try:
        panel.go_to(9)
        panel.mark(Foot.LEFT, EventType.TOE_OFF)
        assert not w.close()  # "Wait": the window stays open
        assert w.isVisible() and asked == [1]
        assert w.close()  # "Close anyway"
        assert asked == [1, 1]
    finally:
        lock.execute("COMMIT")
        lock.close()
    assert _stored(clinic, recording) == 0  # not saved yet: only in the journal

    w2 = MainWindow(clinic)  # the next start replays the journal
    qtbot.addWidget(w2)
    qtbot.waitUntil(lambda: _stored(clinic, recording) == 1, timeout=15000)
    w2.close()


def test_wait_closes_the_window_once_the_marks_are_saved(
    qtbot, clinic, recording, monkeypatch
) -> None:
    from ui.annotation_panel import AnnotationPanel
    from ui.main_window import MainWindow

    w = MainWindow(clinic)
    qtbot.addWidget(w)
    w.show()
    w.open_recording(recording)
    monkeypatch.setattr(AnnotationPanel, "ask_unsaved", lambda self, n, what: "wait")
    lock = _lock(clinic)
    try:
        w.annotation.go_to(5)
        w.annotation.mark(Foot.RIGHT, EventType.INITIAL_CONTACT)
        assert not w.close()
    finally:
        lock.execute("COMMIT")
        lock.close()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=15000)
    assert _stored(clinic, recording) == 1


def test_switching_recording_with_unsaved_marks_asks(
    qtbot, clinic, recording, tmp_path, monkeypatch
) -> None:
    from app.annotation.journal import replay_pending
    from app.db.models import Recording
    from ui.annotation_panel import AnnotationPanel

    with clinic.db.session() as s:
        vid = s.get(Recording, recording).visit_id
    clip = write_clip(tmp_path / "second.mp4", n_frames=30, width=160, height=120, fps=30)
    other = import_recording(clinic.db, clinic.videos_root, vid, clip, capture_fps=120.0)
    panel = AnnotationPanel(clinic)
    qtbot.addWidget(panel)
    assert panel.open_recording(recording)
    answers = iter(["wait", "leave"])
    asked: list[str] = []
    monkeypatch.setattr(
        AnnotationPanel, "ask_unsaved", lambda self, n, what: asked.append(what) or next(answers)
    )
    lock = _lock(clinic)
    try:
        panel.go_to(4)
        panel.mark(Foot.LEFT, EventType.INITIAL_CONTACT)
        assert not panel.open_recording(other)  # "Wait": stays on this video
        assert panel.recording_id == recording
        assert panel.open_recording(other)  # "Open another video anyway"
        assert asked == ["open another video", "open another video"]
    finally:
        lock.execute("COMMIT")
        lock.close()
    assert _stored(clinic, recording) == 0
    # "already saved" when the closed recording's saver, still waiting on the lock, got there
    # first: either way the mark is stored once and no conflict is reported.
    outcomes = [o.status for o in replay_pending(clinic.db, clinic.folder.root)]
    assert outcomes in (["saved"], ["already saved"], [])
    assert _stored(clinic, recording) == 1
    panel.shutdown()
