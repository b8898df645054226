"""The timing figures the History draws for a visit, computed with numpy from the marks' arrays.

:func:`app.analysis.metrics.temporal_metrics` computes every temporal figure of a recording from
its :class:`FootEvent` objects, a Python loop per event and measure; a History of 100 visits
called it 100 times at its first opening (~35 ms of ~300). The History uses only the cadence
(and its step count), the step and contact times per side and the contact counts.
:func:`visit_timing` computes those by the same rules, from the marks' times, feet and types,
with array operations; ``tests/app/test_history_timing.py`` checks it equals
``temporal_metrics`` on regular, irregular and random marks.

Where ``temporal_metrics`` would warn (fewer than ``MIN_CONTACTS_PER_SIDE`` contacts on a side,
a cadence outside the running range, no cadence) :func:`visit_timing` returns None and the
caller uses ``temporal_metrics`` itself, so the warnings are written in one place only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.analysis.metrics import MIN_CONTACTS_PER_SIDE, MIN_GAP_S, Stat, fitted_step_time


@dataclass(frozen=True)
class VisitTiming:
    """The fields of :class:`app.analysis.metrics.TemporalMetrics` the History reads."""

    cadence_spm: float
    steps: int
    contacts: dict[str, int]
    step_time_s: dict[str, Stat]
    contact_time_s: dict[str, Stat]
    warnings: list[str] = field(default_factory=list)  # always empty (see the module doc)


def visit_timing(times: np.ndarray, left: np.ndarray, contact: np.ndarray) -> VisitTiming | None:
    """Cadence, step and contact times of one recording's marks (in any order): ``times`` in
    seconds, ``left`` True for the left foot, ``contact`` True for an initial contact (else a
    toe-off). None where ``temporal_metrics`` would warn or find no cadence."""
    t = np.asarray(times, dtype=float)
    left = np.asarray(left, dtype=bool)
    contact = np.asarray(contact, dtype=bool)
    # Contacts and toe-offs in time order; ties keep the marks' order (a stable sort, as there).
    ics = np.flatnonzero(contact)
    ics = ics[np.argsort(t[ics], kind="stable")]
    tos = np.flatnonzero(~contact)
    tos = tos[np.argsort(t[tos], kind="stable")]
    t_ic, left_ic = t[ics], left[ics]
    n_left = int(left_ic.sum())
    counts = {"left": n_left, "right": len(ics) - n_left}
    if min(counts.values()) < MIN_CONTACTS_PER_SIDE:
        return None
    gaps = np.diff(t_ic)
    alt = left_ic[1:] != left_ic[:-1]
    med = float(np.median(gaps[alt])) if alt.any() else float(np.median(gaps) / 2)
    # A gap of about k median steps counts k steps (a missed contact); rint rounds half to
    # even, as Python's round does.
    k_steps = np.maximum(1.0, np.rint(gaps / med)) if med >= MIN_GAP_S else np.ones(len(gaps))
    steps = int(k_steps.sum())
    span = float(t_ic[-1] - t_ic[0])
    if span < MIN_GAP_S:
        return None
    # 60 / the step time fitted by least squares to the contacts' times on their step numbers,
    # as temporal_metrics does.
    # (the same sums in the same order, so the same figure to the last bit)
    ks = [0, *np.cumsum(k_steps).astype(int).tolist()]
    slope = fitted_step_time(ks, t_ic.tolist())[0]
    if slope < MIN_GAP_S:
        return None
    cadence = 60.0 / slope
    if not 140 <= cadence <= 200:
        return None
    step = alt & (gaps < 1.5 * med)
    to_left = left[tos]
    step_t: dict[str, Stat] = {}
    contact_t: dict[str, Stat] = {}
    for side, is_left in (("left", True), ("right", False)):
        step_t[side] = Stat.of(gaps[step & (left_ic[1:] == is_left)].tolist())
        own = t_ic[left_ic == is_left]
        own_to = t[tos][to_left == is_left]
        # The side's first toe-off after each contact, if it comes before the side's next one.
        j = np.searchsorted(own_to, own, side="right")
        found = j < len(own_to)
        to_t = own_to[np.minimum(j, len(own_to) - 1)] if len(own_to) else own
        nxt = np.append(own[1:], np.inf)
        found &= to_t < nxt
        contact_t[side] = Stat.of((to_t[found] - own[found]).tolist())
    return VisitTiming(cadence, steps, counts, step_t, contact_t)
