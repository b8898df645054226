"""A small, realistic demo clinic so a newcomer sees a working program at once.

Demo data lives in its own data folder; the clinic's real database is never touched. Every demo
visit holds the same real treadmill run (``resources/demo/``, MIT licence, the runner consented
to its release) with its hand-marked contacts and toe-offs stored as reviewed marks, and the
pose result for the clip in the pose cache, so the marking panel (skeleton, landing measures),
the prescription and the history all show real results. The patients are fictional; their
stories differ in pain and in their prescriptions.

First visits show the clip as filmed (about 169 steps/min). A follow-up visit shows the same run
**re-timed** (:func:`app.video.retime.retimed_copy`: the same frames with their timestamps
divided by the story's factor, e.g. ×1.03 for a story going from 158 to 163 steps/min), so the
cadence rises visit by visit as the demo's prescriptions intend. Frames are unchanged, so the
raters' marks and the cached pose stay valid frame by frame; the time base reads the copy's own
timestamps, so every screen measures the re-timed cadence. The visit notes say so.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import random
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.analysis.metrics import temporal_metrics
from app.db.models import Patient
from app.paths import visit_video_folder
from app.records.measurements import save_prescription
from app.records.patients import PatientData, create_patient
from app.records.recordings import add_recording, replace_events
from app.records.visits import VisitData, create_visit, ensure_clinician

if TYPE_CHECKING:
    from app.clinic import Clinic

log = logging.getLogger(__name__)

# (name, dob, sex, height, leg, complaint, speed km/h, [(story cadence spm, pain during running)])
# The story cadences set only the re-timing of each follow-up: visit k shows the clip re-timed by
# story[k] / story[0] (the first visit is the clip as filmed), never a cadence of its own.
DEMO_PATIENTS = [
    ("Anna Lindqvist", "1987-03-14", "female", 168, 86, "Low back pain when running > 5 km", 10.0,
     [(158, 5), (163, 4), (167, 2)]),
    ("Tomás Ferreira", "1979-11-02", "male", 181, 95, "Anterior knee pain (patellofemoral), right", 10.5,
     [(152, 6), (157, 4)]),
    ("Chloé Martin", "1995-07-21", "female", 162, 83, "Shin pain (medial tibial stress), left", 9.5,
     [(164, 4)]),
    ("Jonas Weber", "1990-01-30", "male", 186, 98, "Recurrent low back pain, half-marathon training", 11.0,
     [(160, 5), (164, 3), (168, 2), (170, 1)]),
    ("María José Núñez", "1983-05-09", "female", 158, 80, "Iliotibial band pain, left knee", 9.0,
     [(166, 3), (171, 2)]),
    ("山田 花子 (Hanako Yamada)", "1992-09-17", "female", 160, 81, "Low back pain after long runs", 9.5,
     [(162, 4), (168, 2)]),
]  # fmt: skip

#: The real treadmill clip shipped for the demo (MIT, see resources/demo/NOTICE.md).
DEMO_CLIP = "demo/treadmill_run_side_30fps.mp4"
DEMO_EVENTS = "demo/treadmill_run_side_30fps_events.csv"
DEMO_POSE = "demo/treadmill_run_side_30fps.pose.npz"
DEMO_POSE_KEY = "stride-clinic-demo"  # the key the shipped pose file was saved with
CLIP_NAME = "demo treadmill side view.mp4"
CLIP_FPS = 30.0
CLIP_FRAMES = 360
CLIP_SIZE = (720, 1280)
#: Every demo patient's note: honest about what the demo shows.
PATIENT_NOTE = (
    "Demo patient (fictional). Every visit shows the same real treadmill run; follow-up "
    "visits show that run re-timed (faster), so the cadence rises as the story intends."
)


def reference_events(path: Path | None = None) -> list[FootEvent]:
    """The clip's hand-marked contacts and toe-offs as reviewed (manual) events.

    Two raters marked every event; their mean is x.5 where they differ by one frame. A contact
    is placed on the earlier of the two frames (the first frame with the foot on the belt), a
    toe-off on the later (the last frame on the belt). ``near`` is the runner's left foot (the
    runner faces image-left).
    """
    import csv
    import math

    from resources import resource_path

    path = path or resource_path(DEMO_EVENTS)
    events: list[FootEvent] = []
    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        for row in rows:
            x = float(row["frame"])
            kind = EventType.INITIAL_CONTACT if row["event"] == "IC" else EventType.TOE_OFF
            frame = math.floor(x) if kind is EventType.INITIAL_CONTACT else math.ceil(x)
            foot = Foot.LEFT if row["foot"] == "near" else Foot.RIGHT
            events.append(FootEvent(foot, kind, frame, frame / CLIP_FPS, EventSource.MANUAL))
    return sorted(events, key=lambda e: (e.frame, e.type.value))


def retime_factor(story: list[tuple[int, int]], visit: int) -> float:
    """How much faster visit ``visit``'s copy of the clip runs: story cadence / first visit's."""
    return story[visit][0] / story[0][0]


class _Clips:
    """The demo's clip files: one per re-timing factor, hard-linked into every visit using it.

    The first file of a factor is a copy of the shipped clip (factor 1: keeping its modification
    time) or a re-timed copy of it; every other visit gets a hard link to that file (a copy where
    links are not supported), so each visit owns its own file and deleting one never affects
    another, and all visits of one factor share one pose-cache entry. A re-timed file's recording
    row holds the timestamps written into it (the file's real clock, as import would store it).
    """

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self.first: dict[float, Path] = {}
        self.clock: dict[float, Any] = {}  # factor -> app.video.retime.Retimed
        self._track: Any = False  # the shipped pose result, loaded once (None: missing)

    def place(self, path: Path, factor: float) -> bool:
        """Put the clip for ``factor`` at ``path``; False if it cannot be (the demo still starts)."""
        from app.video.errors import VideoError
        from app.video.retime import retimed_copy
        from resources import resource_path

        try:
            if factor in self.first:
                try:
                    os.link(self.first[factor], path)
                except OSError:
                    shutil.copy2(self.first[factor], path)
                return True
            # a copy, never a link to the shipped file: nothing done to a visit's file can
            # change the program's own resources
            if factor == 1.0:
                shutil.copy2(resource_path(DEMO_CLIP), path)
            else:
                # The timestamps written are the copy's clock (no probe of the new file needed;
                # a test checks they are what the program's probe reads back).
                self.clock[factor] = retimed_copy(resource_path(DEMO_CLIP), path, factor)
        except (OSError, VideoError):
            log.warning("demo clip (x%.3f) could not be placed at %s", factor, path)
            path.unlink(missing_ok=True)
            return False
        self.first[factor] = path
        self._seed_pose_cache(path)
        return True

    def recording_fields(self, factor: float) -> dict[str, Any]:
        """The recording row's clock for the clip of ``factor``, as import stores it."""
        from app.video.timebase import timestamp_map

        rate = CLIP_FPS * factor  # the copy's nominal rate; not slow motion: captured as played
        fields: dict[str, Any] = {
            "container_fps": rate, "capture_fps": rate, "frame_count": CLIP_FRAMES
        }  # fmt: skip
        if factor in self.clock:
            info = SimpleNamespace(container_fps=rate)  # all timestamp_map reads of the probe
            fields["timestamps"] = timestamp_map(info, self.clock[factor].frame_index())  # type: ignore[arg-type]
        return fields

    def timebase(self, factor: float) -> Any:
        """The clock of the clip of ``factor``, as the History reads it from the row."""
        from app.video.timebase import Timebase

        return Timebase.from_record(SimpleNamespace(**self.recording_fields(factor)))

    def _seed_pose_cache(self, clip: Path) -> None:
        """Store the shipped pose result as the cache of ``clip``, so the skeleton shows at once
        (the frames are the shipped clip's, so its per-frame keypoints hold for a re-timed copy;
        every view puts them on the file's own clock)."""
        from app.analysis.keypoints import load_npz, save_npz
        from app.analysis.pose import default_cache_file
        from resources import resource_path

        if self._track is False:
            self._track = load_npz(resource_path(DEMO_POSE), DEMO_POSE_KEY)
        if self._track is None:
            log.warning("the demo's pose result is missing; run automatic detection to see it")
            return
        path, key = default_cache_file(clip, self.cache_dir)
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            save_npz(self._track, path, key)
        except OSError:
            log.warning("the demo's pose cache could not be written in %s", self.cache_dir)


def ensure_demo_data(clinic: Clinic) -> None:
    """Fill an empty demo database; never modifies one that already holds patients."""
    from app.prescription.plan import plan_for
    from app.prescription.rules import baseline_from_measurement

    with clinic.db.session() as s:
        if s.scalar(select(func.count(Patient.id))):
            return
        rng = random.Random(7)
        clips = _Clips(clinic.folder.cache)
        # Every demo recording is the same real runner with the same reviewed marks, so every
        # screen shows real measurements; follow-ups are that run re-timed (module docstring).
        events = reference_events()
        per_side = (
            sum(e.type is EventType.INITIAL_CONTACT and e.foot is Foot.LEFT for e in events),
            sum(e.type is EventType.INITIAL_CONTACT and e.foot is Foot.RIGHT for e in events),
        )
        physio = ensure_clinician(s, "Sam Okafor (PT)")
        ensure_clinician(s, "Lea Brandt (PT)")
        today = dt.date.today()
        for name, dob, sex, height, leg, complaint, speed, story in DEMO_PATIENTS:
            p = create_patient(
                s,
                PatientData(
                    full_name=name,
                    date_of_birth=dob,
                    sex=sex,
                    height_cm=height,
                    leg_length_cm=leg,
                    complaint=complaint,
                    notes=PATIENT_NOTE,
                ),
            )
            n = len(story)
            for i, (_story_cadence, pain) in enumerate(story):
                factor = retime_factor(story, i)
                date = today - dt.timedelta(days=21 * (n - 1 - i) + rng.randint(0, 3))
                v = create_visit(
                    s,
                    p.id,
                    VisitData(
                        visit_date=date,
                        clinician_id=physio.id,
                        treadmill_speed_kmh=speed,
                        incline_pct=1.0,
                        shoes="Own running shoes",
                        pain_now=max(0, pain - 2),
                        pain_worst_24h=pain,
                        pain_running=pain,
                        notes="Initial assessment." if i == 0 else (
                            f"Follow-up {i}. Demo: the first visit's run re-timed "
                            f"×{factor:.3f} (same frames and marks)."
                        ),
                    ),
                )  # fmt: skip
                folder = visit_video_folder(clinic.videos_root, p.uid, v.uid)
                folder.mkdir(parents=True, exist_ok=True)
                clip = folder / CLIP_NAME
                if not clips.place(clip, factor):
                    continue
                rec = add_recording(
                    s,
                    v.id,
                    video_path=str(clip.relative_to(clinic.videos_root)),
                    original_name=(
                        "Demo runner, side view" if i == 0
                        else f"Demo runner, side view (re-timed ×{factor:.3f})"
                    ),
                    width=CLIP_SIZE[0],
                    height=CLIP_SIZE[1],
                    **clips.recording_fields(factor),
                )  # fmt: skip
                replace_events(s, rec.id, events)
                if i < n - 1 or n == 1:
                    # The baseline this visit measured: its marks on its own file's clock.
                    tb = clips.timebase(factor)
                    timed = [dataclasses.replace(e, time_s=tb.time_of(e.frame)) for e in events]
                    measured = temporal_metrics(timed, uncertainty=False).cadence_spm or 0.0
                    plan = plan_for(baseline_from_measurement(measured, per_side), 5.0)
                    plan.treadmill_speed_kmh = speed
                    save_prescription(s, v.id, plan.to_dict())
