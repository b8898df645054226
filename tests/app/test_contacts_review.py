"""The review threshold of the marking session is the detector's "high confidence" line, so the
timeline's highlighted proposals and the U key's jumps are the ones the benchmark calibrates."""

from __future__ import annotations

from app.analysis.contacts import HIGH_CONFIDENCE
from app.annotation.session import LOW_CONFIDENCE


def test_session_low_confidence_is_the_detectors_high_confidence_line() -> None:
    assert LOW_CONFIDENCE == HIGH_CONFIDENCE
