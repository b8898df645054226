"""A small, realistic demo clinic so a newcomer sees a working program at once.

Demo data lives in its own data folder; the clinic's real database is never touched. Each demo
visit holds the same real treadmill clip (``resources/demo/``, MIT licence, the runner consented
to its release) with its hand-marked contacts and toe-offs stored as reviewed marks, and the
pose result for the clip in the pose cache, so the marking panel (skeleton, landing measures),
the prescription and the history all show real results. The patients' stories differ in pain
and in their prescriptions; their cadence is the clip's own (about 169 steps/min) at every
visit, so the history shows it holding steady within the measurement noise.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

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
# The story cadence is no longer used for the recordings: every one is the real clip.
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


def _demo_clip(path: Path, template: list[Path]) -> bool:
    """Place the shipped clip at ``path``; returns False if it cannot be (the demo still starts).

    The first copy keeps the shipped file's modification time; every other visit gets a hard
    link to that copy (a copy where links are not supported), so each visit owns its own file and
    deleting one never affects another — and all share one pose-cache entry.
    """
    from resources import resource_path

    try:
        if not template:
            # a copy, never a link to the shipped file: nothing done to a visit's file can
            # change the program's own resources
            shutil.copy2(resource_path(DEMO_CLIP), path)
            template.append(path)
            return True
        try:
            os.link(template[0], path)
        except OSError:
            shutil.copy2(template[0], path)
        return True
    except OSError:
        log.warning("demo clip could not be placed at %s", path)
        return False


def _seed_pose_cache(clip: Path, cache_dir: Path) -> None:
    """Store the shipped pose result as the cache of ``clip``, so the skeleton shows at once."""
    from app.analysis.keypoints import load_npz, save_npz
    from app.analysis.pose import default_cache_file
    from resources import resource_path

    track = load_npz(resource_path(DEMO_POSE), DEMO_POSE_KEY)
    if track is None:
        log.warning("the demo's pose result is missing; run automatic detection to see it")
        return
    path, key = default_cache_file(clip, cache_dir)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        save_npz(track, path, key)
    except OSError:
        log.warning("the demo's pose cache could not be written in %s", cache_dir)


def ensure_demo_data(clinic: Clinic) -> None:
    """Fill an empty demo database; never modifies one that already holds patients."""
    from app.prescription.plan import plan_for
    from app.prescription.rules import baseline_from_measurement

    with clinic.db.session() as s:
        if s.scalar(select(func.count(Patient.id))):
            return
        rng = random.Random(7)
        template: list[Path] = []
        # Every demo recording is the same real runner with the same reviewed marks, so every
        # screen shows real measurements (the patients' stories differ in pain and outcomes).
        events = reference_events()
        metrics = temporal_metrics(events)
        measured = metrics.cadence_spm or 0.0
        per_side = (metrics.contacts["left"], metrics.contacts["right"])
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
                    notes="Demo patient (fictional).",
                ),
            )
            n = len(story)
            for i, (_story_cadence, pain) in enumerate(story):
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
                        notes="Initial assessment." if i == 0 else f"Follow-up {i}.",
                    ),
                )
                folder = visit_video_folder(clinic.videos_root, p.uid, v.uid)
                folder.mkdir(parents=True, exist_ok=True)
                clip = folder / CLIP_NAME
                if _demo_clip(clip, template):
                    rec = add_recording(
                        s,
                        v.id,
                        video_path=str(clip.relative_to(clinic.videos_root)),
                        original_name="Demo runner, side view",
                        container_fps=CLIP_FPS,
                        capture_fps=CLIP_FPS,
                        frame_count=CLIP_FRAMES,
                        width=CLIP_SIZE[0],
                        height=CLIP_SIZE[1],
                    )
                    replace_events(s, rec.id, events)
                    if len(template) == 1 and template[0] == clip:
                        _seed_pose_cache(clip, clinic.folder.cache)
                    if i < n - 1 or n == 1:
                        plan = plan_for(baseline_from_measurement(measured, per_side), 5.0)
                        plan.treadmill_speed_kmh = speed
                        save_prescription(s, v.id, plan.to_dict())
