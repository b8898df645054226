"""The marking of one recording, without Qt: marks, review, drawings, undo history, saving.

:class:`MarkingSession` is the model the marking panel shows. Every change goes through one of its
edit operations, which records an :class:`Step` (the state before and after, with a name the
clinician reads in Edit ▸ Undo "…") in one history covering marks *and* drawings, and hands the
changed parts to the :class:`~app.annotation.autosave.AutoSaver` (journal first, database in
the background, the other workstation's save detected by the events revision).

Review rule (one rule, applied to every figure; see :data:`REVIEW_RULE`): automatic proposals are
provisional. Figures (cadence, timing, landing, the visits table, the Prescribe baseline, the
History and exports) use reviewed marks only: those a clinician placed or accepted. A proposal
counts once accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from app.analysis.events import EventSource, EventType, Foot, FootEvent

if TYPE_CHECKING:
    from app.annotation.autosave import AutoSaver

LOW_CONFIDENCE = 0.5
REVIEW_RULE = (
    "Figures use reviewed marks only: automatic proposals are not counted until you accept them."
)

_TYPE_WORDS = {EventType.INITIAL_CONTACT: "contact", EventType.TOE_OFF: "toe-off"}


def is_reviewed(event: FootEvent) -> bool:
    """True for a mark a clinician placed or accepted (it counts in figures)."""
    return event.source is EventSource.MANUAL


def reviewed(events: Iterable[FootEvent]) -> list[FootEvent]:
    """The events that figures may use (see :data:`REVIEW_RULE`)."""
    return [e for e in events if is_reviewed(e)]


def describe(event: FootEvent) -> str:
    """ "left contact at frame 12" """
    return f"{event.foot.value} {_TYPE_WORDS[event.type]} at frame {event.frame}"


def _order(events: Iterable[FootEvent]) -> tuple[FootEvent, ...]:
    return tuple(sorted(events, key=lambda e: (e.frame, e.foot.value, e.type.value)))


def merge_proposals(
    existing: Sequence[FootEvent], proposals: Sequence[FootEvent], *, min_gap_frames: int = 2
) -> list[FootEvent]:
    """The events after a detection run: every reviewed mark untouched, the proposals around them.

    Earlier (unreviewed) proposals are replaced by the new ones; a proposal within
    ``min_gap_frames`` of a reviewed mark of the same foot and type is dropped (the clinician's
    mark wins). Reviewed marks are never moved, removed or relabelled.
    """
    kept = [e for e in existing if is_reviewed(e)]
    added = []
    for p in proposals:
        clash = any(
            m.foot is p.foot and m.type is p.type and abs(m.frame - p.frame) <= min_gap_frames
            for m in kept
        )
        if not clash:
            added.append(replace(p, source=EventSource.AUTOMATIC))
    return list(_order([*kept, *added]))


ALL_FRAMES = -1
"""The ``frame`` of a drawing kept on every frame of the recording (stored as such)."""


@dataclass(frozen=True)
class Drawing:
    """A measurement drawn on the video: on ``frame`` only, on every frame (``ALL_FRAMES``), or
    on the frames ``frame`` to ``last_frame`` (both included) when ``last_frame`` is set."""

    kind: str
    points: tuple[tuple[float, float], ...]
    frame: int
    value: float | None = None
    label: str = ""
    last_frame: int | None = None

    @property
    def on_all_frames(self) -> bool:
        return self.frame == ALL_FRAMES

    @property
    def on_range(self) -> bool:
        return not self.on_all_frames and self.last_frame is not None

    def shown_on(self, frame: int) -> bool:
        if self.on_all_frames:
            return True
        if self.last_frame is not None:
            return self.frame <= frame <= self.last_frame
        return self.frame == frame

    @property
    def span_text(self) -> str:
        """ "on all frames", "on frames 10–40" or "on frame 12 only" (the undo step's name)."""
        if self.on_all_frames:
            return "on all frames"
        if self.last_frame is not None:
            return f"on frames {self.frame}–{self.last_frame}"
        return f"on frame {self.frame} only"

    def to_overlay(self) -> dict[str, Any]:
        """The dict the video view draws and the database stores."""
        return {
            "kind": self.kind,
            "points": [[float(x), float(y)] for x, y in self.points],
            "value": None if self.value is None else float(self.value),
            "label": self.label,
            "frame": int(self.frame),
            "last_frame": None if self.last_frame is None else int(self.last_frame),
        }

    @classmethod
    def from_overlay(cls, o: dict[str, Any]) -> Drawing:
        frame = int(o["frame"])
        last = o.get("last_frame")
        last_frame = None if last is None or frame == ALL_FRAMES else int(last)
        if last_frame == frame:
            last_frame = None  # a one-frame range is that frame
        elif last_frame is not None and last_frame < frame:
            frame, last_frame = last_frame, frame  # a reversed range is the same range
        return cls(
            kind=str(o["kind"]),
            points=tuple((float(x), float(y)) for x, y in o["points"]),
            frame=frame,
            value=None if o.get("value") is None else float(o["value"]),
            label=str(o.get("label") or ""),
            last_frame=last_frame,
        )


@dataclass(frozen=True)
class State:
    events: tuple[FootEvent, ...] = ()
    drawings: tuple[Drawing, ...] = ()


@dataclass(frozen=True)
class Step:
    """One undoable edit: what it is called and the state on either side of it."""

    label: str
    before: State
    after: State


@dataclass
class History:
    """Undo and redo as plain data (a list of steps and a cursor into it)."""

    steps: list[Step] = field(default_factory=list)
    index: int = 0  # steps[:index] are done

    def push(self, step: Step) -> None:
        del self.steps[self.index :]
        self.steps.append(step)
        self.index = len(self.steps)

    @property
    def undo_label(self) -> str | None:
        return self.steps[self.index - 1].label if self.index > 0 else None

    @property
    def redo_label(self) -> str | None:
        return self.steps[self.index].label if self.index < len(self.steps) else None

    def clear(self) -> None:
        self.steps.clear()
        self.index = 0


@dataclass(frozen=True)
class ReviewState:
    """How far the review is: ``reviewed`` of ``total`` marks, the rest are proposals."""

    total: int
    reviewed: int
    proposals: int
    low_confidence: int

    @property
    def text(self) -> str:
        """ "12 of 65 reviewed" (the proposals left are listed separately)."""
        if self.total == 0:
            return "No marks yet."
        if self.proposals == 0:
            return f"All {self.total} marks reviewed."
        return f"{self.reviewed} of {self.total} reviewed"


class MarkingSession:
    """The marks, drawings and history of one open recording (see the module docstring).

    ``time_of(frame)`` gives the capture-time seconds of a frame; ``saver`` (optional, so the
    model can be used and tested alone) receives every change.
    """

    def __init__(
        self,
        events: Iterable[FootEvent] = (),
        drawings: Iterable[Drawing] = (),
        *,
        frame_count: int = 0,
        time_of: Callable[[int], float] | None = None,
        saver: AutoSaver | None = None,
    ) -> None:
        self.state = State(_order(events), tuple(drawings))
        self.frame_count = frame_count
        self.time_of = time_of or (lambda f: f / 30.0)
        self.saver = saver
        self.history = History()
        self.selected: FootEvent | None = None
        self.last_message = ""

    # ------------------------------------------------------------------ reading
    @property
    def events(self) -> list[FootEvent]:
        return list(self.state.events)

    @property
    def drawings(self) -> list[Drawing]:
        return list(self.state.drawings)

    def reviewed_events(self) -> list[FootEvent]:
        """The marks figures are computed from (:data:`REVIEW_RULE`)."""
        return reviewed(self.state.events)

    def proposals(self) -> list[FootEvent]:
        return [e for e in self.state.events if not is_reviewed(e)]

    def review_state(self) -> ReviewState:
        props = self.proposals()
        return ReviewState(
            total=len(self.state.events),
            reviewed=len(self.state.events) - len(props),
            proposals=len(props),
            low_confidence=sum(1 for e in props if e.confidence < LOW_CONFIDENCE),
        )

    def drawings_on(self, frame: int) -> list[Drawing]:
        return [d for d in self.state.drawings if d.shown_on(frame)]

    def at(self, frame: int) -> list[FootEvent]:
        return [e for e in self.state.events if e.frame == frame]

    # ------------------------------------------------------------------ navigation
    def _next(
        self, frame: int, direction: int, keep: Callable[[FootEvent], bool]
    ) -> FootEvent | None:
        pool = [e for e in self.state.events if keep(e)]
        if direction > 0:
            after = [e for e in pool if e.frame > frame]
            return min(after, key=lambda e: e.frame) if after else None
        before = [e for e in pool if e.frame < frame]
        return max(before, key=lambda e: e.frame) if before else None

    def next_mark(self, frame: int, direction: int = 1) -> FootEvent | None:
        return self._select(self._next(frame, direction, lambda e: True))

    def next_proposal(self, frame: int, direction: int = 1) -> FootEvent | None:
        return self._select(self._next(frame, direction, lambda e: not is_reviewed(e)))

    def next_low_confidence(self, frame: int) -> FootEvent | None:
        """The next low-confidence proposal after ``frame``, wrapping to the first one."""

        def low(e: FootEvent) -> bool:
            return not is_reviewed(e) and e.confidence < LOW_CONFIDENCE

        return self._select(self._next(frame, 1, low) or self._next(-1, 1, low))

    def _select(self, event: FootEvent | None) -> FootEvent | None:
        if event is not None:
            self.selected = event
        return event

    def select_at(self, frame: int) -> FootEvent | None:
        """Select the proposal (else the mark) on ``frame``."""
        here = self.at(frame)
        pick = next((e for e in here if not is_reviewed(e)), here[0] if here else None)
        self.selected = pick
        return pick

    # ------------------------------------------------------------------ editing
    def _commit(
        self,
        label: str,
        events: Iterable[FootEvent] | None = None,
        drawings: Iterable[Drawing] | None = None,
    ) -> bool:
        after = State(
            _order(events) if events is not None else self.state.events,
            tuple(drawings) if drawings is not None else self.state.drawings,
        )
        if after == self.state:
            return False
        self.history.push(Step(label, self.state, after))
        self._apply(after)
        self.last_message = label[0].upper() + label[1:] + "."
        return True

    def _apply(self, state: State) -> None:
        before, self.state = self.state, state
        if self.selected is not None and self.selected not in state.events:
            self.selected = None
        parts: dict[str, Any] = {}
        if state.events != before.events:
            from app.annotation.journal import events_to_json

            parts["events"] = events_to_json(state.events)
        if state.drawings != before.drawings:
            parts["overlays"] = [d.to_overlay() for d in state.drawings]
        if parts and self.saver is not None:
            self.saver.submit(parts)

    def undo(self) -> str | None:
        """Undo the newest step; returns its name (None when there is nothing to undo)."""
        h = self.history
        if h.index == 0:
            return None
        h.index -= 1
        step = h.steps[h.index]
        self._apply(step.before)
        self.last_message = f"Undone: {step.label}."
        return step.label

    def redo(self) -> str | None:
        h = self.history
        if h.index >= len(h.steps):
            return None
        step = h.steps[h.index]
        h.index += 1
        self._apply(step.after)
        self.last_message = f"Redone: {step.label}."
        return step.label

    def mark(self, foot: Foot, etype: EventType, frame: int) -> bool:
        rest = [
            e
            for e in self.state.events
            if not (e.foot is foot and e.type is etype and e.frame == frame)
        ]
        new = FootEvent(foot, etype, frame, self.time_of(frame), EventSource.MANUAL, 1.0)
        changed = self._commit(f"mark {describe(new)}", [*rest, new])
        self.selected = new
        return changed

    def delete_at(self, frame: int) -> bool:
        here = self.at(frame)
        if not here:
            return False
        what = describe(here[0]) if len(here) == 1 else f"{len(here)} marks at frame {frame}"
        return self._commit(f"delete {what}", [e for e in self.state.events if e.frame != frame])

    def _moved(self, event: FootEvent, frame: int) -> FootEvent:
        # Moving a mark is reviewing it: the clinician put it there.
        return replace(
            event,
            frame=frame,
            time_s=self.time_of(frame),
            source=EventSource.MANUAL,
            confidence=1.0,
        )

    def nudge(self, frame: int, frames: int) -> int | None:
        """Move the marks on ``frame`` by ``frames``; returns the new frame (None if nothing)."""
        here = self.at(frame)
        target = frame + frames
        if not here or not 0 <= target < max(self.frame_count, target + 1):
            return None
        moved = [self._moved(e, target) for e in here]
        keys = {(e.foot, e.type) for e in moved}
        rest = [
            e
            for e in self.state.events
            if e.frame != frame and not (e.frame == target and (e.foot, e.type) in keys)
        ]
        self._commit(f"nudge marks from frame {frame} to {target}", [*rest, *moved])
        return target

    def move(self, event: FootEvent, new_frame: int) -> bool:
        if self.frame_count:
            new_frame = max(0, min(self.frame_count - 1, int(new_frame)))
        rest = [
            e
            for e in self.state.events
            if e != event
            and not (e.foot is event.foot and e.type is event.type and e.frame == new_frame)
        ]
        moved = self._moved(event, new_frame)
        changed = self._commit(f"move {describe(event)} to {new_frame}", [*rest, moved])
        self.selected = moved
        return changed

    def _accept(self, chosen: Iterable[FootEvent], label: str) -> int:
        chosen = set(chosen)
        if not chosen:
            return 0
        after = [
            replace(e, source=EventSource.MANUAL, confidence=1.0) if e in chosen else e
            for e in self.state.events
        ]
        self._commit(label, after)
        return len(chosen)

    def accept(self, event: FootEvent) -> bool:
        if is_reviewed(event) or event not in self.state.events:
            return False
        self._accept([event], f"accept proposal: {describe(event)}")
        self.selected = replace(event, source=EventSource.MANUAL, confidence=1.0)
        return True

    def reject(self, event: FootEvent) -> bool:
        if is_reviewed(event) or event not in self.state.events:
            return False
        return self._commit(
            f"reject proposal: {describe(event)}", [e for e in self.state.events if e != event]
        )

    def accept_at(self, frame: int) -> int:
        return self._accept(
            [e for e in self.at(frame) if not is_reviewed(e)], f"accept proposals at frame {frame}"
        )

    def accept_all(self) -> int:
        props = self.proposals()
        return self._accept(props, f"accept all {len(props)} proposals")

    def accept_high_confidence(self) -> int:
        high = [e for e in self.proposals() if e.confidence >= LOW_CONFIDENCE]
        return self._accept(high, f"accept {len(high)} high-confidence proposals")

    def merge_proposals(self, proposals: Sequence[FootEvent]) -> int:
        """Put a detection run's proposals in (one undoable step); returns how many were added."""
        merged = merge_proposals(self.state.events, proposals)
        added = sum(1 for e in merged if not is_reviewed(e))
        self._commit(f"automatic proposals ({added})", merged)
        return added

    def add_drawing(self, drawing: Drawing) -> bool:
        return self._commit(
            f"draw {_kind_word(drawing.kind)}",
            [*self.state.events],
            [*self.state.drawings, drawing],
        )

    def delete_drawing(self, drawing: Drawing) -> bool:
        if drawing not in self.state.drawings:
            return False
        return self._commit(
            f"delete {_kind_word(drawing.kind)}",
            drawings=[d for d in self.state.drawings if d != drawing],
        )

    def change_drawing(self, old: Drawing, new: Drawing, label: str) -> bool:
        """Replace a drawing (moved points, or kept on all frames / this frame only)."""
        if old not in self.state.drawings:
            return False
        return self._commit(label, drawings=[new if d == old else d for d in self.state.drawings])

    def set_drawing_span(
        self, drawing: Drawing, frame: int, last_frame: int | None = None
    ) -> bool:
        """Keep ``drawing`` on every frame (``ALL_FRAMES``), on ``frame`` only, or on the frames
        ``frame`` to ``last_frame`` (clamped to the recording; a one-frame range is that frame)."""
        if frame != ALL_FRAMES and last_frame is not None:
            top = self.frame_count - 1 if self.frame_count > 0 else max(frame, last_frame)
            lo, hi = sorted((frame, last_frame))
            frame, last_frame = max(0, lo), min(top, hi)
            if last_frame <= frame:
                frame, last_frame = min(frame, top), None
        else:
            last_frame = None
        new = replace(drawing, frame=frame, last_frame=last_frame)
        return self.change_drawing(
            drawing, new, f"show {_kind_word(drawing.kind)} {new.span_text}"
        )

    def move_drawing(
        self,
        drawing: Drawing,
        points: Sequence[Sequence[float]],
        value: float | None,
        label: str | None = None,
    ) -> bool:
        """Drag-move a drawing's points (one undo step); the value and label follow the points."""
        pts = tuple((float(x), float(y)) for x, y in points)
        if len(pts) != len(drawing.points):
            return False
        new = replace(
            drawing, points=pts, value=value, label=drawing.label if label is None else label
        )
        return self.change_drawing(drawing, new, f"move {_kind_word(drawing.kind)}")

    def retime(self, time_of: Callable[[int], float]) -> None:
        """A new capture rate: event times follow (not an edit; the frames are what is stored)."""
        self.time_of = time_of
        events = tuple(replace(e, time_s=time_of(e.frame)) for e in self.state.events)
        self.state = State(events, self.state.drawings)
        self.history.steps = [
            Step(
                s.label,
                State(
                    tuple(replace(e, time_s=time_of(e.frame)) for e in s.before.events),
                    s.before.drawings,
                ),
                State(
                    tuple(replace(e, time_s=time_of(e.frame)) for e in s.after.events),
                    s.after.drawings,
                ),
            )
            for s in self.history.steps
        ]

    def replace_all(self, events: Iterable[FootEvent], drawings: Iterable[Drawing]) -> None:
        """Load another state without an undo step or a save (reload after a conflict)."""
        self.state = State(_order(events), tuple(drawings))
        self.history.clear()
        self.selected = None


def _kind_word(kind: str) -> str:
    return {
        "vline": "vertical line",
        "shank": "shank angle",
        "angle": "knee angle",
        "distance": "distance",
        "pelvic_drop": "pelvic drop",
        "fppa_left": "left knee FPPA",
        "fppa_right": "right knee FPPA",
        "step_width_left": "left step width",
        "step_width_right": "right step width",
    }.get(kind, kind)
