"""Words and figures about practice sessions, for the History tab and the home program."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .store import SavedPractice, sessions_for_patient, sessions_for_visit, sessions_in

#: Shortest stretch without the cue worth telling the runner about.
MIN_NOCUE_S = 60.0


def _minutes(seconds: float) -> str:
    m = int(round(seconds / 60.0))
    if m < 1:
        return f"{int(round(seconds))} seconds"
    return "1 minute" if m == 1 else f"{m} minutes"


def sentence(p: SavedPractice) -> str | None:
    """One sentence for the runner about ``p`` (None when nothing was measured).

    "In the clinic you held 172 spm without the metronome for 4 minutes": the mean cadence
    measured without the cue and the time it stayed on target without the cue.
    """
    t = p.totals
    if t.mean_nocue_spm is not None and t.on_target_nocue_s >= MIN_NOCUE_S:
        return (
            f"In the clinic you held {t.mean_nocue_spm:.0f} spm without the metronome for "
            f"{_minutes(t.on_target_nocue_s)}."
        )
    if t.mean_nocue_spm is not None and t.measured_nocue_s >= MIN_NOCUE_S:
        return (
            f"In the clinic, without the metronome, you ran at {t.mean_nocue_spm:.0f} spm "
            f"(target {p.target_spm:.0f}): keep practising with the metronome."
        )
    if t.mean_cue_spm is not None and t.measured_cue_s > 0:
        return (
            f"In the clinic you ran at {t.mean_cue_spm:.0f} spm with the metronome for "
            f"{_minutes(t.measured_cue_s)}."
        )
    return None


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} %"


def visit_line(p: SavedPractice) -> str:
    """One line per session for the visit's details: when, how long, target, time on target."""
    m, sec = divmod(int(round(p.duration_s)), 60)
    t = p.totals
    line = (
        f"{p.started_at:%H:%M} · {m}:{sec:02d} min · target {p.target_spm:.0f} ± "
        f"{p.tolerance_spm:g} spm · on target {_pct(t.percent(True))} with the metronome, "
        f"{_pct(t.percent(False))} without"
    )
    if t.measured_s == 0:
        line += " · cadence not measured"
    if p.recording_path:
        line += " · recorded"
    return line


def visit_lines(db: Any, visit_id: int) -> list[str]:
    """The visit's practice sessions, oldest first, one line each (Patient & visits)."""
    return [visit_line(p) for p in sessions_for_visit(db, visit_id)]


def latest_sentence(db: Any, patient_id: int, visit_id: int | None = None) -> str | None:
    """The sentence for the patient's latest practice session (of ``visit_id`` if given)."""
    return _latest(sessions_for_patient(db, patient_id), visit_id)


def home_program_lines(session: Any, patient_id: int) -> list[str]:
    """Lines for the printed home program (inside its unit of work): the latest practice
    sentence, or nothing when the runner has not practised in the clinic."""
    text = _latest(sessions_in(session, patient_id), None)
    return [text] if text else []


def _latest(sessions: list[SavedPractice], visit_id: int | None) -> str | None:
    if visit_id is not None:
        sessions = [s for s in sessions if s.visit_id == visit_id]
    for p in reversed(sessions):
        text = sentence(p)
        if text:
            return text
    return None


@dataclass(frozen=True)
class VisitPractice:
    """Practice at one visit, all its sessions together (the History summary row)."""

    visit_id: int
    visit_date: dt.date | None
    sessions: int
    minutes: float
    target_spm: float
    mean_cue_spm: float | None
    mean_nocue_spm: float | None
    on_target_cue_pct: float | None
    on_target_nocue_pct: float | None


def by_visit(sessions: list[SavedPractice]) -> list[VisitPractice]:
    """Sessions grouped per visit (visit order kept), with cue vs no-cue figures."""
    groups: dict[int, list[SavedPractice]] = {}
    for p in sessions:
        groups.setdefault(p.visit_id, []).append(p)
    out = []
    for vid, ps in groups.items():
        cue = [s.spm for p in ps for s in p.samples if s.cue and s.spm is not None]
        nocue = [s.spm for p in ps for s in p.samples if not s.cue and s.spm is not None]
        mc = sum(p.totals.measured_cue_s for p in ps)
        mn = sum(p.totals.measured_nocue_s for p in ps)
        oc = sum(p.totals.on_target_cue_s for p in ps)
        on = sum(p.totals.on_target_nocue_s for p in ps)
        out.append(VisitPractice(
            vid, ps[0].visit_date, len(ps), sum(p.duration_s for p in ps) / 60.0,
            ps[-1].target_spm,
            sum(cue) / len(cue) if cue else None, sum(nocue) / len(nocue) if nocue else None,
            100.0 * oc / mc if mc else None, 100.0 * on / mn if mn else None,
        ))  # fmt: skip
    return out
