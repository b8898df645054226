"""A patient's history as per-visit series: gait metrics and outcome scores with spread and noise.

Everything is loaded with a handful of queries for the whole patient (no query per visit), so
a history of 100 visits opens at once. A visit without a measurement is a gap (NaN), never a 0.

Measurement noise (the band a change must leave before it counts as real):

* landing angles: the smallest detectable difference of Dingenen 2018 (clinical.md [V]); the
  upper end of the published range is used, so a change inside it is never shown as progress;
* cadence, contact time and overstride (no published SDD): a 95 % limit for the difference of
  two visit means, ``1.96 · sqrt(SD₁²/n₁ + SD₂²/n₂)`` from the step-to-step SD and the number of
  steps n of each visit (for cadence, the SD is the step-to-step spread of 60 / step time);
  never below the resolution of one video frame (``1000 / fps`` ms for contact time, a frame
  over the measured span for cadence);
* outcome scores: the smallest important change (Ostelo 2008 [V]): NPRS 2, RMDQ 5, ODI 10.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.analysis.metrics import (
    SDD_DEG,
    LandingMetrics,
    Stat,
    TemporalMetrics,
    temporal_metrics,
)
from app.db.models import (
    Clinician,
    FootEventRecord,
    HomeProgram,
    Patient,
    Prescription,
    Recording,
    Visit,
    VisitOutcome,
)
from app.history.outcomes import (
    DISABILITY_SCALES,
    IMPORTANT_CHANGE,
    important_change,
    psfs_mean,
    psfs_running,
)
from app.history.timing import VisitTiming, visit_timing
from app.records.measurements import best_recording, cadence_sd_spm, reviewed_filter
from app.video.timebase import Timebase

Z95 = 1.96

_FOOT = {f.value: f for f in Foot}
_TYPE = {t.value: t for t in EventType}
_SOURCE = {x.value: x for x in EventSource}


@dataclass(frozen=True)
class RecordingInfo:
    """What a landing-metrics provider needs to know about a recording."""

    id: int
    visit_id: int
    video_path: str
    fps: float
    container_fps: float | None
    cm_per_px: float | None
    uid: str = ""  # never reused (names the recording's stills; app.paths.MediaLayout)
    #: The file's clock (from the row's stored timestamps; app.video.timebase).
    timebase: Timebase | None = None


#: Returns landing metrics for a recording's events, or None when no keypoints exist.
LandingProvider = Callable[[RecordingInfo, list[FootEvent]], LandingMetrics | None]


@dataclass
class Series:
    """One metric over the visits. Arrays have one entry per visit; missing = NaN / n 0.

    ``band`` is the half-width of the noise band drawn around the baseline (first measured)
    value; ``band_label`` says where the figure comes from.
    """

    key: str
    label: str
    unit: str
    mean: np.ndarray
    sd: np.ndarray
    n: np.ndarray
    band: float | None = None
    band_label: str = ""
    kind: str = "gait"  # "gait" | "outcome"
    lower_is_better: bool | None = None
    fixed_noise: float | None = None  # a fixed SDD / important change; else from SD and n
    #: Per-visit measurement resolution (one video frame), a floor under the SD-based noise.
    resolution: np.ndarray | None = None
    #: Outcome measure name for :func:`app.history.outcomes.important_change` ("nprs", "rmdq",
    #: "odi"); None for gait series and for scores without a published important change.
    measure: str | None = None

    @property
    def has_data(self) -> bool:
        return bool(np.isfinite(self.mean).any())

    @property
    def baseline_index(self) -> int | None:
        idx = np.flatnonzero(np.isfinite(self.mean))
        return int(idx[0]) if len(idx) else None

    def noise_between(self, i: int, j: int) -> float | None:
        """The smallest difference between visits i and j that exceeds measurement noise.

        For an outcome score it is the smallest important change from visit i (the baseline of
        the pair), judged with :func:`app.history.outcomes.reaches_important_change`."""
        if self.measure is not None:
            base = self.mean[i]
            return important_change(self.measure, float(base) if np.isfinite(base) else None)
        if self.fixed_noise is not None:
            return self.fixed_noise
        sds, ns = self.sd[[i, j]], self.n[[i, j]]
        if not (np.isfinite(sds).all() and (ns > 1).all()):
            return None
        noise = float(Z95 * math.sqrt(float(np.sum(sds**2 / ns))))
        if self.resolution is not None and np.isfinite(self.resolution[[i, j]]).all():
            # Marks sit on whole frames: never call a change smaller than that real.
            noise = max(noise, float(math.hypot(*self.resolution[[i, j]])))
        return noise


@dataclass
class VisitRow:
    """One line of the visit timeline."""

    visit_id: int
    date: dt.date
    clinician: str
    treadmill_speed_kmh: float | None
    recordings: int
    measured_recording_id: int | None
    contacts: tuple[int, int]  # left, right initial contacts of the measured recording
    capture_fps: float | None
    target_spm: int | None
    printed: dt.date | None
    pain: tuple[int | None, int | None, int | None]  # now, worst 24 h, running
    odi: int | None
    rmdq: int | None
    psfs: list[dict[str, Any]] | None
    warnings: list[str] = field(default_factory=list)

    @property
    def measured(self) -> str:
        if self.measured_recording_id is None:
            return "recording not marked" if self.recordings else "no recording"
        left, right = self.contacts
        return f"{left}+{right} contacts"


@dataclass
class PatientHistory:
    patient_id: int
    age_years: list[int | None]
    leg_length_cm: float | None
    disability_scale: str
    visits: list[VisitRow]
    series: dict[str, Series]
    target_spm: np.ndarray  # prescribed at that visit (NaN where none)
    recordings: list[RecordingInfo]
    events: dict[int, list[FootEvent]]  # per recording id
    #: Unit of the "overstride" series: "leg_pct" (always % of leg length; calibrated visits
    #: also fill "overstride_cm"), or None when no visit has landing data.
    landing_units: str | None = None

    @property
    def dates(self) -> list[dt.date]:
        return [v.date for v in self.visits]

    def target_in_force(self) -> np.ndarray:
        """The target cadence in force at each visit: the latest one prescribed up to it."""
        out = np.full(len(self.visits), np.nan)
        current = np.nan
        for i, t in enumerate(self.target_spm):
            if np.isfinite(t):
                current = t
            out[i] = current
        return out

    def index_of(self, visit_id: int) -> int:
        for i, v in enumerate(self.visits):
            if v.visit_id == visit_id:
                return i
        raise KeyError(visit_id)


def pool(stats: list[Stat]) -> tuple[float, float, int]:
    """Mean, SD and n of the union of several groups (left and right) from their summaries."""
    groups = [s for s in stats if s.mean is not None and s.n > 0]
    n = sum(s.n for s in groups)
    if n == 0:
        return math.nan, math.nan, 0
    mean = sum(s.mean * s.n for s in groups) / n  # type: ignore[operator]
    if n < 2:
        return mean, math.nan, n
    ss = sum((s.n - 1) * (s.sd or 0.0) ** 2 + s.n * (s.mean - mean) ** 2 for s in groups)  # type: ignore[operator]
    return mean, math.sqrt(ss / (n - 1)), n


def _age(dob: dt.date | None, on: dt.date) -> int | None:
    if dob is None:
        return None
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def _empty(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, int)


_METRICS_CACHE: dict[
    tuple[Any, tuple[tuple[int, str, str], ...]], TemporalMetrics | VisitTiming
] = {}
_METRICS_CACHE_MAX = 4000


def _metrics(
    rec: RecordingInfo,
    evs: list[FootEvent],
    marks: tuple[Any, ...] | None = None,
    times: np.ndarray | None = None,
) -> TemporalMetrics | VisitTiming:
    """The visit's timing figures, memoised on the recording's clock and the marks themselves:
    reopening a history (or refreshing it after an outcome entry) does not recompute unchanged
    visits. Any edited mark or capture rate changes the key. ``marks``: the rows the events were
    built from (frame, foot, type, source, confidence), a cheaper key than the events' enums;
    with ``times`` (the events' times) the figures come from :func:`visit_timing` (arrays), else
    (or where it would warn) from ``temporal_metrics``."""
    clock = rec.timebase.key if rec.timebase is not None else rec.fps
    if marks is None:
        marks = tuple((e.frame, e.foot.value, e.type.value) for e in evs)
    key = (clock, marks)
    m = _METRICS_CACHE.get(key)
    if m is None:
        if len(_METRICS_CACHE) >= _METRICS_CACHE_MAX:
            _METRICS_CACHE.clear()
        fast = None
        if times is not None and marks:
            left = np.fromiter((r[1] == "left" for r in marks), bool, len(marks))
            contact = np.fromiter((r[2] == "initial_contact" for r in marks), bool, len(marks))
            fast = visit_timing(times, left, contact)
        m = fast if fast is not None else temporal_metrics(evs, uncertainty=False)
        _METRICS_CACHE[key] = m
    return m


def _best_recording(  # type: ignore[no-untyped-def]
    recs: list[RecordingInfo],
    events: dict[int, list[FootEvent]],
    marks: dict[int, tuple[Any, ...]] | None = None,
    times: dict[int, np.ndarray] | None = None,
):
    """The visit's measured recording, by the one rule (:func:`measurements.best_recording`)."""
    rows = marks or {}
    clocks = times or {}
    found = best_recording(
        recs,
        lambda r: r.id,
        lambda r: events.get(r.id, []),
        lambda r, evs: _metrics(r, evs, rows.get(r.id), clocks.get(r.id)),
    )
    return found if found is not None else (None, None)


def _cadence_sd(m) -> float:  # type: ignore[no-untyped-def]
    sd = cadence_sd_spm(m)
    return math.nan if sd is None else sd


def load_history(
    session: Session,
    patient_id: int,
    *,
    disability_scale: str = "rmdq",
    landing: LandingProvider | None = None,
) -> PatientHistory:
    """Load the patient's whole history in four queries (the patient; the visits with their
    outcome scores, newest prescribed target and last printed home program; the recordings;
    the reviewed marks) and compute every per-visit series."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise LookupError(f"Patient {patient_id} does not exist.")
    # Plain rows through the connection: the ORM's row handling was a third of the loading.
    db = session.connection()
    newest_target = (
        select(Prescription.target_spm)
        .where(Prescription.visit_id == Visit.id)
        .order_by(Prescription.id.desc())
        .limit(1)
        .scalar_subquery()
    )  # the newest prescription of the visit wins
    last_printed = (
        select(func.max(HomeProgram.printed_at))
        .where(HomeProgram.visit_id == Visit.id, HomeProgram.printed_at.is_not(None))
        .scalar_subquery()
    )
    vrows = []
    targets: dict[int, int] = {}
    printed: dict[int, dt.date] = {}
    outcomes: dict[int, _Outcome] = {}
    for row in db.execute(
        select(
            Visit.id,
            Visit.visit_date,
            Clinician.name,
            Visit.treadmill_speed_kmh,
            Visit.pain_now,
            Visit.pain_worst_24h,
            Visit.pain_running,
            newest_target,
            last_printed,
            VisitOutcome.id,
            VisitOutcome.odi,
            VisitOutcome.rmdq,
            VisitOutcome.psfs,
        )
        .outerjoin(Clinician, Clinician.id == Visit.clinician_id)
        .outerjoin(VisitOutcome, VisitOutcome.visit_id == Visit.id)
        .where(Visit.patient_id == patient_id)
        .order_by(Visit.visit_date, Visit.id)
    ):
        vid = row[0]
        vrows.append(tuple(row[:7]))
        if row[7] is not None:
            targets[vid] = row[7]
        if row[8] is not None:
            printed[vid] = row[8].date()
        if row[9] is not None:
            outcomes[vid] = _Outcome(row[10], row[11], row[12])
    recs_by_visit: dict[int, list[RecordingInfo]] = defaultdict(list)
    recordings: list[RecordingInfo] = []
    rows: dict[int, Any] = {}
    for r in db.execute(
        select(
            Recording.id,
            Recording.visit_id,
            Recording.video_path,
            Recording.capture_fps,
            Recording.container_fps,
            Recording.cm_per_px,
            Recording.uid,
            Recording.timestamps,
            Recording.frame_count,
        )
        .join(Visit, Visit.id == Recording.visit_id)
        .where(Visit.patient_id == patient_id)
        .order_by(Recording.id)
    ):
        fps = float(r[3] or r[4] or 30.0)
        recordings.append(RecordingInfo(r[0], r[1], r[2], fps, r[4], r[5], r[6]))
        rows[r[0]] = r
    marks: dict[int, list[tuple[int, str, str, str, float]]] = defaultdict(list)
    # The recordings as a sub-query: SQLite then reads the marks in order from the
    # one-mark-per-frame index instead of sorting them; all rows at once (fetchall) rather than
    # one fetch each. ~14 -> ~11 ms for the ~8,000 marks of 100 visits.
    patient_recordings = (
        select(Recording.id)
        .join(Visit, Visit.id == Recording.visit_id)
        .where(Visit.patient_id == patient_id)
    )
    for rid, frame, foot, typ, source, conf in db.execute(
        select(
            FootEventRecord.recording_id,
            FootEventRecord.frame,
            FootEventRecord.foot,
            FootEventRecord.type,
            FootEventRecord.source,
            FootEventRecord.confidence,
        )
        # The review rule: figures use reviewed marks only (app.records.measurements).
        .where(FootEventRecord.recording_id.in_(patient_recordings), reviewed_filter())
        .order_by(FootEventRecord.recording_id, FootEventRecord.frame)
    ).all():
        marks[rid].append((frame, foot, typ, source, conf))
    events: dict[int, list[FootEvent]] = defaultdict(list)
    event_times: dict[int, np.ndarray] = {}
    for i, info in enumerate(recordings):
        row = rows[info.id]
        own = marks.get(info.id, [])
        tb = Timebase.from_record(
            _Row(row.timestamps, row.container_fps, row.capture_fps, row.frame_count),
            n_frames=1 + own[-1][0] if own else 0,  # marks come in frame order
        )
        info = recordings[i] = replace(info, timebase=tb)
        recs_by_visit[info.visit_id].append(info)
        event_times[info.id] = at = tb.times_of([m[0] for m in own])
        times = at.tolist()
        # Enum members by dict look-up: calling the enum classes for each of some 8,000 marks
        # of a long history was a tenth of its loading time.
        events[info.id] = [
            FootEvent(_FOOT[foot], _TYPE[typ], frame, t, _SOURCE[source], conf)
            for (frame, foot, typ, source, conf), t in zip(own, times, strict=True)
        ]
    mark_keys = {rid: tuple(rows) for rid, rows in marks.items()}
    return _build(
        patient, vrows, recs_by_visit, recordings, events, targets, printed, outcomes,
        disability_scale, landing, mark_keys, event_times,
    )  # fmt: skip


@dataclass(frozen=True)
class _Outcome:
    """The outcome scores of a visit, from its row in the visits query."""

    odi: int | None
    rmdq: int | None
    psfs: list[dict[str, Any]] | None


@dataclass(frozen=True)
class _Row:
    """The columns :meth:`Timebase.from_record` reads, from a plain query row."""

    timestamps: Any
    container_fps: float | None
    capture_fps: float | None
    frame_count: int | None


def _build(
    patient: Patient,
    vrows: list[Any],
    recs_by_visit: dict[int, list[RecordingInfo]],
    recordings: list[RecordingInfo],
    events: dict[int, list[FootEvent]],
    targets: dict[int, int],
    printed: dict[int, dt.date],
    outcomes: dict[int, _Outcome],
    scale: str,
    landing: LandingProvider | None,
    mark_keys: dict[int, tuple[Any, ...]] | None = None,
    event_times: dict[int, np.ndarray] | None = None,
) -> PatientHistory:
    n = len(vrows)
    arrays: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {
        k: _empty(n)
        for k in (
            "cadence", "contact_time", "pain_now", "pain_worst_24h", "pain_running", "disability",
            "psfs_mean", "psfs_running",
        )
    }  # fmt: skip
    resolution = {"cadence": np.full(n, np.nan), "contact_time": np.full(n, np.nan)}
    visits: list[VisitRow] = []
    for i, (vid, date, clinician, speed, p_now, p_worst, p_run) in enumerate(vrows):
        recs = recs_by_visit.get(vid, [])
        best, m = _best_recording(recs, events, mark_keys, event_times)
        warnings: list[str] = []
        if m is not None:
            steps = max(m.steps, 1)
            arrays["cadence"][0][i] = m.cadence_spm
            arrays["cadence"][1][i] = _cadence_sd(m)
            arrays["cadence"][2][i] = steps
            span = 60.0 * m.steps / m.cadence_spm if m.cadence_spm else math.nan
            resolution["cadence"][i] = m.cadence_spm / (best.fps * span)
            resolution["contact_time"][i] = 1000.0 / best.fps
            ct_mean, ct_sd, ct_n = pool([m.contact_time_s[f.value] for f in Foot])
            if ct_n:
                arrays["contact_time"][0][i] = 1000 * ct_mean
                arrays["contact_time"][1][i] = 1000 * ct_sd
                arrays["contact_time"][2][i] = ct_n
            warnings += m.warnings
        for key, value in (
            ("pain_now", p_now),
            ("pain_worst_24h", p_worst),
            ("pain_running", p_run),
        ):
            if value is not None:
                arrays[key][0][i], arrays[key][2][i] = value, 1
        out = outcomes.get(vid)
        dis = (out.odi if scale == "odi" else out.rmdq) if out else None
        if dis is not None:
            arrays["disability"][0][i], arrays["disability"][2][i] = dis, 1
        for key, fn in (("psfs_mean", psfs_mean), ("psfs_running", psfs_running)):
            value = fn(out.psfs) if out else None
            if value is not None:
                arrays[key][0][i], arrays[key][2][i] = value, 1
        counts = (m.contacts.get("left", 0), m.contacts.get("right", 0)) if m else (0, 0)
        visits.append(
            VisitRow(
                vid, date, clinician or "—", speed, len(recs), best.id if m else None, counts,
                best.fps if m else None, targets.get(vid), printed.get(vid),
                (p_now, p_worst, p_run), out.odi if out else None, out.rmdq if out else None,
                out.psfs if out else None, warnings,
            )
        )  # fmt: skip
    series = _series(arrays, scale)
    for key, res in resolution.items():
        series[key].resolution = res
        b = series[key].baseline_index
        if b is not None:
            series[key].band = series[key].noise_between(b, b)
    history = PatientHistory(
        patient.id,
        [_age(patient.date_of_birth, v.date) for v in visits],
        patient.leg_length_cm,
        scale,
        visits,
        series,
        np.array([targets.get(v.visit_id, np.nan) for v in visits], float),
        recordings,
        dict(events),
    )
    return apply_landing(history, landing)


LANDING_SERIES = ("overstride", "overstride_cm", "shank_angle", "knee_flexion")
#: The series in the order Compare lists them and the exports write their columns.
SERIES_ORDER = (
    "cadence", "contact_time", *LANDING_SERIES, "pain_now", "pain_worst_24h", "pain_running",
    "disability", "psfs_mean", "psfs_running",
)  # fmt: skip


def apply_landing(history: PatientHistory, landing: LandingProvider | None) -> PatientHistory:
    """The history with its landing series (overstride, shank angle, knee flexion) from
    ``landing`` for each visit's measured recording; the other series are shared, not copied.

    :func:`load_history` calls it; the History view calls it again once landing figures that
    were not ready at first paint have been computed in the background."""
    n = len(history.visits)
    arrays = {k: _empty(n) for k in LANDING_SERIES}
    by_id = {r.id: r for r in history.recordings}
    any_landing = False
    for i, v in enumerate(history.visits):
        rec = by_id.get(v.measured_recording_id) if v.measured_recording_id is not None else None
        lm = landing(rec, history.events.get(rec.id, [])) if landing and rec else None
        if lm is None:
            continue
        any_landing = True
        # Overstride is always kept in % of leg length, so a calibrated visit stays comparable
        # with an uncalibrated one; cm is an extra series where calibrated.
        for key, stats in (
            ("overstride", lm.overstride),
            ("overstride_cm", lm.overstride_cm or {}),
            ("shank_angle", lm.shank_angle_deg),
            ("knee_flexion", lm.knee_flexion_deg),
        ):
            mu, sd, k = pool(list(stats.values()))
            if k:
                arrays[key][0][i], arrays[key][1][i], arrays[key][2][i] = mu, sd, k
    merged = {**history.series, **_series(arrays, history.disability_scale)}
    series = {k: merged[k] for k in SERIES_ORDER if k in merged}  # Compare and exports keep it
    unit = "leg_pct" if any_landing else None  # the unit of the "overstride" series
    return replace(history, series=series, landing_units=unit)


def _series(arrays: dict[str, Any], scale: str) -> dict[str, Series]:
    sdd_shank = SDD_DEG["shank_angle_deg"][1]
    sdd_knee = SDD_DEG["knee_flexion_deg"][1]
    dis_label, _dis_max = DISABILITY_SCALES[scale]
    se_label = "95 % limit of a change from the step-to-step SD and number of steps"
    specs = [
        ("cadence", "Cadence", "steps/min", None, se_label, "gait", False),
        ("contact_time", "Contact time", "ms", None, se_label, "gait", None),
        ("overstride", "Overstride (heel ahead of hip)", "% leg length", None, se_label, "gait",
         True),
        ("overstride_cm", "Overstride in cm (calibrated visits)", "cm", None, se_label, "gait",
         True),
        ("shank_angle", "Shank angle at contact", "°", sdd_shank,
         f"smallest detectable difference {sdd_shank:g}° (Dingenen 2018)", "gait", True),
        ("knee_flexion", "Knee flexion at contact", "°", sdd_knee,
         f"smallest detectable difference {sdd_knee:g}° (Dingenen 2018)", "gait", False),
        ("pain_now", "Pain now (NPRS)", "0–10", IMPORTANT_CHANGE["nprs"],
         "smallest important change 2 points or 30 % (Ostelo 2008)", "outcome", True),
        ("pain_worst_24h", "Worst pain in 24 h (NPRS)", "0–10", IMPORTANT_CHANGE["nprs"],
         "smallest important change 2 points or 30 % (Ostelo 2008)", "outcome", True),
        ("pain_running", "Pain during running (NPRS)", "0–10", IMPORTANT_CHANGE["nprs"],
         "smallest important change 2 points or 30 % (Ostelo 2008)", "outcome", True),
        ("disability", dis_label, "0–24" if scale == "rmdq" else "%", IMPORTANT_CHANGE[scale],
         f"smallest important change {IMPORTANT_CHANGE[scale]:g} points or 30 % (Ostelo 2008)",
         "outcome", True),
        ("psfs_mean", "PSFS mean of activities", "0–10", None,
         "no smallest important change in the clinical reference", "outcome", False),
        ("psfs_running", "PSFS running activity", "0–10", None,
         "no smallest important change in the clinical reference", "outcome", False),
    ]  # fmt: skip
    out: dict[str, Series] = {}
    for key, label, unit, fixed, band_label, kind, lower in specs:
        if key not in arrays:  # built in two parts: the landing series apart (apply_landing)
            continue
        mean, sd, n = arrays[key]
        s = Series(key, label, unit, mean, sd, n, None, band_label, kind, lower, fixed)
        s.measure = scale if key == "disability" else "nprs" if key.startswith("pain_") else None
        b = s.baseline_index
        if b is not None:
            # Noise of a change from the baseline: the important change from the baseline (the
            # same figure Compare uses), or the baseline's own SE taken twice (the later visit
            # is assumed as precise as the first).
            s.band = s.noise_between(b, b)
        out[key] = s
    return out


# The landing provider lives in app.history.landing (re-exported: callers import it from here).
from app.history.landing import pose_cache_landing as pose_cache_landing  # noqa: E402
