"""Two visits side by side: the metric table with differences against measurement noise, and
the stills at initial contact that the annotation panel exported.

A difference "exceeds noise" only when it is larger than the series' noise for that pair of
visits (:meth:`app.history.trends.Series.noise_between`): the SDD for landing angles, the
smallest important change for outcome scores (reached at ≥, the one rule of
:func:`app.history.outcomes.reaches_important_change`), and for cadence, contact time and overstride the
95 % limit ``1.96 · sqrt(SD₁²/n₁ + SD₂²/n₂)`` from each visit's step-to-step SD and step count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from app.history.outcomes import reaches_important_change
from app.history.trends import PatientHistory
from app.paths import parse_still_name

#: Series shown only when both visits have them, because another series holds the same measure
#: in a unit every visit has (overstride in % of leg length; cm only where calibrated).
BOTH_VISITS_ONLY = frozenset({"overstride_cm"})


@dataclass(frozen=True)
class ComparisonRow:
    key: str
    label: str
    unit: str
    a: float | None
    b: float | None
    sd_a: float | None
    sd_b: float | None
    difference: float | None  # b − a
    noise: float | None
    exceeds_noise: bool | None  # None: cannot judge (a value or the noise is missing)
    better: bool | None  # the change goes in the clinically wanted direction (when it exceeds)
    kind: str = "gait"  # "gait": noise is measurement noise; "outcome": smallest important change

    @property
    def verdict(self) -> str:
        if self.difference is None:
            return "not measured at both visits"
        if self.kind == "outcome":
            if self.exceeds_noise is None:
                return "no smallest important change defined"
            if not self.exceeds_noise:
                return "less than the smallest important change"
            return "important improvement" if self.better else "important worsening"
        if self.exceeds_noise is None:
            return "noise unknown (too few steps)"
        if not self.exceeds_noise:
            return "within measurement noise"
        if self.better is None:
            return "real change"
        return "real change (better)" if self.better else "real change (worse)"


def _value(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def compare_visits(history: PatientHistory, visit_a: int, visit_b: int) -> list[ComparisonRow]:
    """Rows for every series measured at either visit (``b − a``; a is usually the earlier)."""
    i, j = history.index_of(visit_a), history.index_of(visit_b)
    rows: list[ComparisonRow] = []
    for key, s in history.series.items():
        a, b = _value(s.mean[i]), _value(s.mean[j])
        if a is None and b is None:
            continue
        if key in BOTH_VISITS_ONLY and (a is None or b is None):
            continue
        diff = None if a is None or b is None else b - a
        noise = s.noise_between(i, j) if diff is not None else None
        if diff is None or noise is None:
            exceeds = None
        elif s.kind == "outcome":
            exceeds = reaches_important_change(diff, noise)  # "at least", the outcome rule
        else:
            exceeds = abs(diff) > noise  # a gait change must leave the noise band
        better = None
        if exceeds and s.lower_is_better is not None:
            better = (diff < 0) == s.lower_is_better  # type: ignore[operator]
        rows.append(
            ComparisonRow(
                key, s.label, s.unit, a, b, _value(s.sd[i]), _value(s.sd[j]), diff, noise,
                exceeds, better, s.kind,
            )
        )  # fmt: skip
    return rows


def stills_for_recordings(stills_dir: Path, recording_uids: list[str]) -> dict[str, list[Path]]:
    """Exported stills per recording uid, ordered by frame.

    Stills are named ``recording-<recording uid>_frame<N>.png`` (:class:`app.paths.MediaLayout`).
    Old stills named by integer id (``recording7_frame12.png``) are never matched: after a
    restore id 7 may be another patient's recording, and nothing records whose picture it was.
    """
    found: dict[str, list[tuple[int, Path]]] = {uid: [] for uid in recording_uids}
    try:
        entries = list(stills_dir.iterdir())
    except OSError:
        return {uid: [] for uid in recording_uids}
    for p in entries:
        parsed = parse_still_name(p.name)
        if parsed is not None and parsed[0] in found:
            found[parsed[0]].append((parsed[1], p))
    return {uid: [p for _f, p in sorted(v)] for uid, v in found.items()}


def stills_for_visit(history: PatientHistory, stills_dir: Path, visit_id: int) -> list[Path]:
    """The visit's stills: those of its measured recording first, then its other recordings."""
    row = history.visits[history.index_of(visit_id)]
    recs = [r for r in history.recordings if r.visit_id == visit_id and r.uid]
    recs.sort(key=lambda r: r.id != row.measured_recording_id)  # stable: measured one first
    per = stills_for_recordings(stills_dir, [r.uid for r in recs])
    return [p for r in recs for p in per[r.uid]]
