"""The History draws before the landing figures are computed: DeferredLanding answers only what
is remembered, collects the rest, computes it apart, and apply_landing then gives the very history
load_history gives with the provider itself."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from app.clinic import open_clinic
from app.db.models import Patient
from app.demo import ensure_demo_data
from app.history import landing as landing_mod
from app.history.landing import DeferredLanding
from app.history.trends import SERIES_ORDER, apply_landing, load_history, pose_cache_landing


@pytest.fixture
def demo():  # type: ignore[no-untyped-def]
    c = open_clinic(demo=True)
    ensure_demo_data(c)
    yield c
    c.close()


def _jonas(demo) -> int:  # type: ignore[no-untyped-def]
    with demo.db.session() as s:
        return s.scalar(select(Patient.id).where(Patient.full_name.like("Jonas%")))


def test_deferred_landing_then_applied_equals_the_direct_load(demo) -> None:  # type: ignore[no-untyped-def]
    pid = _jonas(demo)
    landing_mod._MEMO.clear()
    deferred = DeferredLanding(pose_cache_landing(demo.folder.cache, demo.videos_root))
    with demo.db.session() as s:
        first = load_history(s, pid, landing=deferred)
    # First paint: cadence is there, the landing series wait (nothing was remembered).
    assert first.series["cadence"].has_data
    assert not first.series["overstride"].has_data and first.landing_units is None
    assert len(deferred.pending) == 4  # one measured recording a visit
    assert list(first.series) == list(SERIES_ORDER)
    assert deferred.compute_pending()
    assert deferred.pending == []
    done = apply_landing(first, deferred)
    landing_mod._MEMO.clear()
    with demo.db.session() as s:
        direct = load_history(s, pid, landing=pose_cache_landing(demo.folder.cache,
                                                                  demo.videos_root))  # fmt: skip
    assert done.landing_units == direct.landing_units == "leg_pct"
    assert list(done.series) == list(direct.series) == list(SERIES_ORDER)
    for key in SERIES_ORDER:
        a, b = done.series[key], direct.series[key]
        np.testing.assert_array_equal(a.mean, b.mean)
        np.testing.assert_array_equal(a.sd, b.sd)
        np.testing.assert_array_equal(a.n, b.n)
        assert a.band == b.band or (a.band is None and b.band is None)
    assert done.series["cadence"] is first.series["cadence"]  # shared, not recomputed
    # Reopening: everything is remembered now, nothing is pending.
    again = DeferredLanding(pose_cache_landing(demo.folder.cache, demo.videos_root))
    with demo.db.session() as s:
        reopened = load_history(s, pid, landing=again)
    assert again.pending == [] and reopened.series["overstride"].has_data


def test_deferred_landing_stops_when_cancelled(demo) -> None:  # type: ignore[no-untyped-def]
    landing_mod._MEMO.clear()
    deferred = DeferredLanding(pose_cache_landing(demo.folder.cache, demo.videos_root))
    with demo.db.session() as s:
        load_history(s, _jonas(demo), landing=deferred)
    seen: list[float] = []
    calls = iter([False, True])  # cancelled before the second recording
    assert not deferred.compute_pending(seen.append, lambda: next(calls))
    assert seen == [0.25] and len(deferred.results) == 1
