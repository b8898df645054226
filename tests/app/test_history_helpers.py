"""Shared builders for the history tests: patients, visits and marked runs with known cadence."""

from __future__ import annotations

import numpy as np

from app.analysis.events import EventType, Foot, FootEvent
from app.records.patients import PatientData, create_patient
from app.records.recordings import add_recording, replace_events
from app.records.visits import VisitData, create_visit


def run_events(
    cadence: float, contacts: int = 30, fps: float = 240.0, jitter_s: float = 0.004, seed: int = 0
) -> list[FootEvent]:
    """Alternating contacts at ``cadence`` with toe-offs 0.25 s later, jittered by ``jitter_s``."""
    rng = np.random.default_rng(seed)
    step = 60.0 / cadence
    out = []
    for i in range(contacts):
        t = 0.2 + i * step + rng.normal(0, jitter_s)
        foot = Foot.LEFT if i % 2 == 0 else Foot.RIGHT
        ic = round(t * fps)
        out.append(FootEvent(foot, EventType.INITIAL_CONTACT, ic, ic / fps))
        to = ic + round(0.25 * fps)
        out.append(FootEvent(foot, EventType.TOE_OFF, to, to / fps))
    return out


def make_patient(session, name: str = "Ana Ruiz", dob: str | None = "1985-04-23") -> int:  # type: ignore[no-untyped-def]
    return create_patient(session, PatientData(full_name=name, date_of_birth=dob)).id


def add_visit(  # type: ignore[no-untyped-def]
    session,
    patient_id: int,
    date: str,
    cadence: float | None = None,
    *,
    pain: tuple[int | None, int | None, int | None] = (None, None, None),
    seed: int = 0,
    jitter_s: float = 0.004,
    contacts: int = 30,
) -> int:
    """A visit; with ``cadence`` also a 240 fps recording with marked events."""
    vid = create_visit(
        session,
        patient_id,
        VisitData(visit_date=date, pain_now=pain[0], pain_worst_24h=pain[1], pain_running=pain[2]),
    ).id
    if cadence is not None:
        rec = add_recording(session, vid, video_path=f"v{vid}.mp4", capture_fps=240.0)
        replace_events(session, rec.id, run_events(cadence, contacts, jitter_s=jitter_s, seed=seed))
    return vid


def test_run_events_have_the_asked_cadence() -> None:
    from app.analysis.metrics import temporal_metrics

    m = temporal_metrics(run_events(170.0, jitter_s=0.0))
    assert abs(m.cadence_spm - 170.0) < 1.0
