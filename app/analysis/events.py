"""Foot events: the shared vocabulary of annotation, detection and metrics."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Foot(str, Enum):
    LEFT = "left"
    RIGHT = "right"

    @property
    def other(self) -> Foot:
        return Foot.RIGHT if self is Foot.LEFT else Foot.LEFT


class EventType(str, Enum):
    INITIAL_CONTACT = "initial_contact"
    TOE_OFF = "toe_off"


class EventSource(str, Enum):
    MANUAL = "manual"
    AUTOMATIC = "automatic"


@dataclass(frozen=True)
class FootEvent:
    """One gait event on one video frame.

    ``frame`` is the 0-based frame index in the recording; ``time_s`` is real (capture) time in
    seconds from the first frame, so slow-motion files give true durations. ``confidence`` is in
    [0, 1] (1.0 for events a clinician placed or confirmed).
    """

    foot: Foot
    type: EventType
    frame: int
    time_s: float
    source: EventSource = EventSource.MANUAL
    confidence: float = 1.0

    def to_json(self) -> dict[str, object]:
        return {
            "foot": self.foot.value,
            "type": self.type.value,
            "frame": int(self.frame),
            "time_s": round(float(self.time_s), 6),
            "confidence": round(float(self.confidence), 4),
        }
