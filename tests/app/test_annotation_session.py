"""The marking session without Qt: edits, review, merging, one undo history for marks and drawings."""

from __future__ import annotations

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.annotation.session import (
    ALL_FRAMES,
    REVIEW_RULE,
    Drawing,
    MarkingSession,
    merge_proposals,
)

IC, TO = EventType.INITIAL_CONTACT, EventType.TOE_OFF
L, R = Foot.LEFT, Foot.RIGHT


def _p(foot: Foot, frame: int, conf: float, etype: EventType = IC) -> FootEvent:
    return FootEvent(foot, etype, frame, frame / 100, EventSource.AUTOMATIC, conf)


def _session() -> MarkingSession:
    return MarkingSession(frame_count=500, time_of=lambda f: f / 100)


def test_merge_never_touches_reviewed_marks() -> None:
    s = _session()
    s.mark(L, IC, 40)
    s.mark(R, TO, 90)
    mine = s.reviewed_events()
    added = s.merge_proposals([_p(L, 41, 0.9), _p(R, 55, 0.3), _p(R, 90, 0.8, TO)])
    assert added == 1  # 41 and 90 clash with the clinician's marks and are dropped
    assert s.reviewed_events() == mine
    assert [(e.frame, e.source) for e in s.events] == [
        (40, EventSource.MANUAL),
        (55, EventSource.AUTOMATIC),
        (90, EventSource.MANUAL),
    ]
    # A second run replaces earlier proposals, still without touching reviewed marks.
    s.merge_proposals([_p(R, 60, 0.7)])
    assert [e.frame for e in s.events] == [40, 60, 90]


def test_merge_function_alone() -> None:
    manual = FootEvent(L, IC, 10, 0.1)
    old = _p(R, 20, 0.9)
    merged = merge_proposals([manual, old], [_p(L, 11, 0.9), _p(R, 30, 0.9)])
    assert manual in merged and old not in merged and [e.frame for e in merged] == [10, 30]


def test_review_state_rule_and_accepting() -> None:
    s = _session()
    s.mark(L, IC, 5)
    s.merge_proposals([_p(R, 20, 0.9), _p(L, 40, 0.2), _p(R, 60, 0.8), _p(L, 80, 0.4)])
    r = s.review_state()
    assert (r.total, r.reviewed, r.proposals, r.low_confidence) == (5, 1, 4, 2)
    assert r.text.startswith("1 of 5 reviewed")
    assert "not counted" in REVIEW_RULE
    assert [e.frame for e in s.reviewed_events()] == [5]  # figures exclude the proposals
    assert s.accept_high_confidence() == 2
    assert s.review_state().reviewed == 3 and s.review_state().low_confidence == 2
    assert s.history.undo_label == "accept 2 high-confidence proposals"
    assert s.accept_all() == 2
    assert s.review_state().proposals == 0


def test_navigation_selects_and_accept_reject_the_selection() -> None:
    s = _session()
    s.mark(L, IC, 10)
    s.merge_proposals([_p(R, 30, 0.9), _p(L, 50, 0.2), _p(R, 70, 0.3)])
    assert s.next_mark(10).frame == 30
    assert s.next_mark(30, -1).frame == 10
    assert s.next_proposal(0).frame == 30
    assert s.next_proposal(70, -1).frame == 50
    low = s.next_low_confidence(50)
    assert low.frame == 70 and s.selected == low
    assert s.next_low_confidence(70).frame == 50  # wraps to the first
    assert s.reject(s.selected)
    assert [e.frame for e in s.events] == [10, 30, 70]
    assert s.history.undo_label == "reject proposal: left contact at frame 50"
    s.next_proposal(0)
    assert s.accept(s.selected)
    assert [e.source for e in s.at(30)] == [EventSource.MANUAL]
    assert not s.reject(s.at(10)[0])  # R never removes a reviewed mark


def test_one_history_for_marks_and_drawings() -> None:
    s = _session()
    s.mark(L, IC, 3)
    line = Drawing("vline", ((10.0, 20.0),), 3, label="hip")
    s.add_drawing(line)
    s.merge_proposals([_p(R, 9, 0.9)])
    s.accept_all()
    assert s.history.undo_label == "accept all 1 proposals"
    assert s.undo() == "accept all 1 proposals"  # undo undoes the newest step, not another
    assert s.review_state().proposals == 1
    assert s.undo() == "automatic proposals (1)"
    assert s.undo() == "draw vertical line"
    assert s.drawings == []
    assert s.last_message == "Undone: draw vertical line."
    assert s.redo() == "draw vertical line"
    assert s.drawings == [line]
    s.delete_drawing(line)
    assert s.drawings == [] and s.history.redo_label is None  # a new edit ends the redo chain
    assert s.undo() == "delete vertical line"
    assert s.drawings_on(3) == [line] and s.drawings_on(4) == []
    s.set_drawing_span(line, ALL_FRAMES)
    assert s.drawings_on(4)[0].on_all_frames
    s.undo()
    assert s.drawings_on(4) == []


def test_every_change_reaches_the_saver_with_only_its_parts() -> None:
    class Saver:
        def __init__(self) -> None:
            self.parts: list[set[str]] = []

        def submit(self, parts, *, edits: int = 1) -> None:  # type: ignore[no-untyped-def]
            self.parts.append(set(parts))

    saver = Saver()
    s = MarkingSession(frame_count=100, saver=saver)  # type: ignore[arg-type]
    s.mark(L, IC, 1)
    s.add_drawing(Drawing("distance", ((0.0, 0.0), (3.0, 4.0)), 1))
    s.undo()
    s.undo()
    assert saver.parts == [{"events"}, {"overlays"}, {"overlays"}, {"events"}]
    assert not s.delete_at(50)  # nothing there: no step, no save
    assert len(saver.parts) == 4


def test_nudge_and_move_make_a_mark_reviewed() -> None:
    s = _session()
    s.merge_proposals([_p(L, 20, 0.3)])
    assert s.nudge(20, 1) == 21
    assert s.at(21)[0].source is EventSource.MANUAL
    s.move(s.at(21)[0], 25)
    assert [e.frame for e in s.events] == [25]
    assert s.history.undo_label == "move left contact at frame 21 to 25"
