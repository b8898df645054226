"""Issue 18: overstride stays comparable when one visit is calibrated, and one "≥" rule decides
"at least the smallest important change" for every outcome measure."""

from __future__ import annotations

import pytest

from app.analysis.metrics import LandingMetrics, Stat
from app.clinic import open_clinic
from app.history.compare import compare_visits
from app.history.outcomes import (
    IMPORTANT_CHANGE,
    OutcomeData,
    PsfsItem,
    important_change,
    is_important_improvement,
    reaches_important_change,
    save_outcomes,
)
from app.history.trends import load_history

from .test_history_helpers import add_visit, make_patient


@pytest.fixture
def clinic():  # type: ignore[no-untyped-def]
    c = open_clinic()
    yield c
    c.close()


def _landing(pct: float, cm: float | None) -> LandingMetrics:
    st = {"left": Stat(pct, 1.0, 8), "right": Stat(pct, 1.0, 8)}
    ang = {"left": Stat(5.0, 1.0, 8), "right": Stat(5.0, 1.0, 8)}
    over_cm = None if cm is None else {"left": Stat(cm, 0.5, 8), "right": Stat(cm, 0.5, 8)}
    return LandingMetrics([], st, ang, ang, {}, {}, "x", overstride_cm=over_cm)


def test_calibrating_one_visit_keeps_overstride_comparable(clinic) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = make_patient(s)
        a = add_visit(s, pid, "2026-06-01", 160.0)
        b = add_visit(s, pid, "2026-06-15", 168.0, seed=1)
    # Visit a uncalibrated (20 % leg), visit b calibrated (12 % leg = 10 cm).
    by_visit = {a: _landing(20.0, None), b: _landing(12.0, 10.0)}

    def provider(rec, events):  # type: ignore[no-untyped-def]
        return by_visit[rec.visit_id]

    with clinic.db.session() as s:
        h = load_history(s, pid, landing=provider)
    over = h.series["overstride"]
    # Both visits are points on the history plot (the old code dropped the cm visit).
    assert over.unit == "% leg length" and list(over.mean) == [20.0, 12.0]
    rows = {r.key: r for r in compare_visits(h, a, b)}
    assert rows["overstride"].difference == pytest.approx(-8.0)
    assert rows["overstride"].verdict != "not measured at both visits"
    assert rows["overstride"].exceeds_noise is True and rows["overstride"].better is True
    # cm exists at one visit only: not offered as a row that can only say "not measured".
    assert "overstride_cm" not in rows


def test_both_calibrated_compare_in_cm_too(clinic) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = make_patient(s)
        a = add_visit(s, pid, "2026-06-01", 160.0)
        b = add_visit(s, pid, "2026-06-15", 168.0, seed=1)
    by_visit = {a: _landing(20.0, 16.0), b: _landing(12.0, 10.0)}
    with clinic.db.session() as s:
        h = load_history(s, pid, landing=lambda rec, ev: by_visit[rec.visit_id])
    rows = {r.key: r for r in compare_visits(h, a, b)}
    assert (
        rows["overstride_cm"].difference == pytest.approx(-6.0)
        and rows["overstride_cm"].unit == "cm"
    )
    assert rows["overstride"].difference == pytest.approx(-8.0)


# --- one rule for the smallest important change --------------------------------------------------


@pytest.mark.parametrize("measure", sorted(IMPORTANT_CHANGE))
def test_rule_at_the_boundary_for_every_measure(measure: str) -> None:
    top = {"nprs": 10, "rmdq": 24, "odi": 100}[measure]
    base = float(top)  # a baseline where 30 % is larger than the points threshold
    sic = important_change(measure, base)
    assert sic == IMPORTANT_CHANGE[measure]
    assert reaches_important_change(-sic, sic) and reaches_important_change(sic, sic)
    assert not reaches_important_change(sic - 0.5, sic)
    assert is_important_improvement(measure, base, base - sic) is True
    assert is_important_improvement(measure, base, base - sic + 1) is False
    assert is_important_improvement(measure, base, base + sic) is False  # a worsening


def test_thirty_percent_boundary_is_also_at_least() -> None:
    # RMDQ 10: 30 % is 3 points (< 5): 10 → 7 is important, 10 → 8 is not.
    assert important_change("rmdq", 10) == pytest.approx(3.0)
    assert is_important_improvement("rmdq", 10, 7) is True
    assert is_important_improvement("rmdq", 10, 8) is False


def test_psfs_has_no_important_change() -> None:
    assert important_change("psfs", 5.0) is None
    assert is_important_improvement("psfs", 5.0, 9.0) is None


@pytest.mark.parametrize(
    ("key", "a_data", "b_data"),
    [
        ("pain_now", OutcomeData(pain_now=7), OutcomeData(pain_now=5)),
        ("pain_worst_24h", OutcomeData(pain_worst_24h=8), OutcomeData(pain_worst_24h=6)),
        ("pain_running", OutcomeData(pain_running=9), OutcomeData(pain_running=7)),
        ("disability", OutcomeData(rmdq=20), OutcomeData(rmdq=15)),
    ],
)
def test_compare_calls_exactly_the_important_change_important(  # type: ignore[no-untyped-def]
    clinic, key, a_data, b_data
) -> None:
    with clinic.db.session() as s:
        pid = make_patient(s)
        a = add_visit(s, pid, "2026-07-01")
        b = add_visit(s, pid, "2026-07-15")
        save_outcomes(s, a, a_data)
        save_outcomes(s, b, b_data)
    with clinic.db.session() as s:
        h = load_history(s, pid)
    row = {r.key: r for r in compare_visits(h, a, b)}[key]
    # Exactly the smallest important change (the old ">" said "less than ...").
    assert row.verdict == "important improvement"
    assert h.series[key].band == pytest.approx(abs(row.difference))


def test_compare_nprs_4_to_2(clinic) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = make_patient(s)
        a = add_visit(s, pid, "2026-07-01", pain=(4, None, None))
        b = add_visit(s, pid, "2026-07-15", pain=(2, None, None))
    with clinic.db.session() as s:
        h = load_history(s, pid)
    row = {r.key: r for r in compare_visits(h, a, b)}["pain_now"]
    assert row.verdict == "important improvement"


def test_compare_odi_boundary(clinic) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = make_patient(s)
        a = add_visit(s, pid, "2026-07-01")
        b = add_visit(s, pid, "2026-07-15")
        save_outcomes(s, a, OutcomeData(odi=50))
        save_outcomes(s, b, OutcomeData(odi=40))
    with clinic.db.session() as s:
        h = load_history(s, pid, disability_scale="odi")
    row = {r.key: r for r in compare_visits(h, a, b)}["disability"]
    assert row.verdict == "important improvement"


def test_psfs_in_compare_has_no_verdict(clinic) -> None:  # type: ignore[no-untyped-def]
    items = [PsfsItem("run 5 km", 3, True), PsfsItem("stairs", 5), PsfsItem("squat", 5)]
    later = [PsfsItem("run 5 km", 8, True), PsfsItem("stairs", 9), PsfsItem("squat", 9)]
    with clinic.db.session() as s:
        pid = make_patient(s)
        a = add_visit(s, pid, "2026-07-01")
        b = add_visit(s, pid, "2026-07-15")
        save_outcomes(s, a, OutcomeData(psfs=items))
        save_outcomes(s, b, OutcomeData(psfs=later))
    with clinic.db.session() as s:
        h = load_history(s, pid)
    row = {r.key: r for r in compare_visits(h, a, b)}["psfs_running"]
    assert row.verdict == "no smallest important change defined"
