"""The History's array timing (app.history.timing) gives exactly temporal_metrics' figures, and
leaves every case temporal_metrics warns about to temporal_metrics."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.analysis.events import EventType, Foot, FootEvent
from app.analysis.metrics import temporal_metrics
from app.history.timing import visit_timing
from tests.app.test_history_helpers import run_events
from tests.synthetic_gait import alternating_events

IC, TO = EventType.INITIAL_CONTACT, EventType.TOE_OFF


def _arrays(events: list[FootEvent]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.array([e.time_s for e in events], float),
        np.array([e.foot is Foot.LEFT for e in events]),
        np.array([e.type is IC for e in events]),
    )


def _check(events: list[FootEvent]) -> bool:
    """Equal figures, or None exactly where temporal_metrics warns or has no cadence; True when
    the fast path answered."""
    fast = visit_timing(*_arrays(events))
    ref = temporal_metrics(events, uncertainty=False)
    if fast is None:
        assert ref.warnings or ref.cadence_spm is None
        return False
    assert not ref.warnings
    assert fast.cadence_spm == ref.cadence_spm and fast.steps == ref.steps
    assert fast.contacts == ref.contacts
    for side in ("left", "right"):
        for mine, theirs in ((fast.step_time_s, ref.step_time_s),
                             (fast.contact_time_s, ref.contact_time_s)):  # fmt: skip
            a, b = mine[side], theirs[side]
            assert (a.mean, a.sd, a.n) == (b.mean, b.sd, b.n)
    return True


def test_regular_runs_match() -> None:
    for cadence in (150.0, 163.0, 178.5, 196.0):
        for seed in range(5):
            assert _check(run_events(cadence, contacts=40, seed=seed))
    assert _check(alternating_events(240.0, n_steps=30))


def test_missing_contacts_toe_offs_and_repeats_match() -> None:
    events = run_events(170.0, contacts=40, seed=3)
    ics = [i for i, e in enumerate(events) if e.type is IC]
    # A hidden foot (two steps in one gap), toe-offs not marked, the same instant marked twice
    # and a right-after-right pair.
    gone = {ics[9], ics[10] + 1, ics[21], ics[22] + 1, ics[30] + 1}
    edited = [e for i, e in enumerate(events) if i not in gone]
    edited.append(FootEvent(Foot.LEFT, IC, edited[4].frame, edited[4].time_s))
    edited.append(FootEvent(Foot.RIGHT, IC, edited[40].frame + 3, edited[40].time_s + 0.0125))
    assert _check(edited)
    assert _check(list(reversed(edited)))  # marks in any order


def test_warned_cases_are_left_to_temporal_metrics() -> None:
    assert not _check(run_events(170.0, contacts=12))  # fewer than 7 contacts per side
    assert not _check(run_events(120.0, contacts=40))  # walking: outside the running range
    assert not _check([])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 600),  # frame at 120 fps
            st.booleans(),  # left
            st.booleans(),  # initial contact
        ),
        max_size=60,
    ),
    st.floats(0.30, 0.42),
)
def test_random_marks_match(marks: list[tuple[int, bool, bool]], step: float) -> None:
    events = [
        FootEvent(Foot.LEFT if lf else Foot.RIGHT, IC if ic else TO, f, f / 120.0)
        for f, lf, ic in marks
    ]
    # Plus a plausible alternating run, so many examples get past the warnings.
    for k in range(16):
        f = int(round((k * step + 5.5) * 120))
        events.append(FootEvent(Foot.LEFT if k % 2 else Foot.RIGHT, IC, f, f / 120.0))
        events.append(FootEvent(Foot.LEFT if k % 2 else Foot.RIGHT, TO, f + 30, (f + 30) / 120))
    _check(events)


def test_history_series_are_those_of_temporal_metrics(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """load_history with the array timing draws what it drew with temporal_metrics for every
    visit (a run with too few contacts per side goes to temporal_metrics, warning and all)."""
    from app.clinic import open_clinic
    from app.history import trends

    from .test_history_helpers import add_visit, make_patient

    clinic = open_clinic()
    try:
        with clinic.db.session() as s:
            pid = make_patient(s)
            for k, cadence in enumerate((158.0, 163.5, 171.0, 177.0)):
                add_visit(s, pid, f"2026-0{k + 1}-05", cadence, seed=k, contacts=30 + k)
            add_visit(s, pid, "2026-06-05", 170.0, contacts=10)  # 5 per side: warned
        calls: list[int] = []
        real = trends.visit_timing
        monkeypatch.setattr(trends, "visit_timing", lambda *a: calls.append(1) or real(*a))
        trends._METRICS_CACHE.clear()
        with clinic.db.session() as s:
            fast = trends.load_history(s, pid)
        assert len(calls) == 5  # every visit went through the array timing first
        monkeypatch.setattr(trends, "visit_timing", lambda *a: None)
        trends._METRICS_CACHE.clear()
        with clinic.db.session() as s:
            ref = trends.load_history(s, pid)
    finally:
        clinic.close()
        trends._METRICS_CACHE.clear()
    for key in ("cadence", "contact_time"):
        a, b = fast.series[key], ref.series[key]
        for name in ("mean", "sd", "n", "resolution"):
            assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), (key, name)
        assert a.band == b.band
    assert [v.warnings for v in fast.visits] == [v.warnings for v in ref.visits]
    assert fast.visits[-1].warnings and [v.measured for v in fast.visits] == [
        v.measured for v in ref.visits
    ]
