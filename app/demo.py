"""A small, realistic demo clinic so a newcomer sees a working program at once.

Demo data lives in its own data folder; the clinic's real database is never touched. Each demo
visit gets a short generated placeholder clip (moving test pattern, no real person) with marked
contacts whose cadence follows the patient's story, and a prescription, so the marking panel,
the prescription and the history all have something to show.
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
from app.db.models import Patient
from app.paths import visit_video_folder
from app.records.measurements import save_prescription
from app.records.patients import PatientData, create_patient
from app.records.recordings import add_recording, replace_events
from app.records.visits import VisitData, create_visit, ensure_clinician

if TYPE_CHECKING:
    from app.clinic import Clinic

log = logging.getLogger(__name__)

# (name, dob, sex, height, leg, complaint, speed km/h, [(cadence spm, pain during running)])
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

CLIP_FPS = 120
CLIP_SECONDS = 6.0


def demo_events(
    cadence_spm: float, rng: random.Random, *, fps: int = CLIP_FPS, seconds: float = CLIP_SECONDS
) -> list[FootEvent]:
    """Alternating contacts and toe-offs at ``cadence_spm`` with realistic step-to-step scatter."""
    step = 60.0 / cadence_spm
    t = 0.15
    events: list[FootEvent] = []
    foot = Foot.LEFT
    while t + 0.3 < seconds:
        ic = int(round((t + rng.gauss(0, 0.004)) * fps))
        to = int(round((t + rng.uniform(0.24, 0.27)) * fps))
        events.append(FootEvent(foot, EventType.INITIAL_CONTACT, ic, ic / fps, EventSource.MANUAL))
        events.append(FootEvent(foot, EventType.TOE_OFF, to, to / fps, EventSource.MANUAL))
        foot = foot.other
        t += step
    return events


def _placeholder_clip(path: Path, template: list[Path]) -> bool:
    """A small clip so the marking panel opens; returns False if video writing is unavailable.

    The clip is encoded once and hard-linked for every other visit (copied where links are not
    supported), so each visit owns its own file and deleting one never affects another.
    """
    try:
        if template:
            try:
                os.link(template[0], path)
            except OSError:
                shutil.copyfile(template[0], path)
            return True
        from app.video.synthetic import write_clip

        n = int(CLIP_FPS * CLIP_SECONDS)
        write_clip(path, n_frames=n, width=320, height=240, fps=CLIP_FPS, gop=60)
        template.append(path)
        return True
    except Exception:  # the demo must start even without a working encoder
        log.warning("demo clip could not be written")
        return False


def ensure_demo_data(clinic: Clinic) -> None:
    """Fill an empty demo database; never modifies one that already holds patients."""
    from app.prescription.plan import plan_for
    from app.prescription.rules import baseline_from_measurement

    with clinic.db.session() as s:
        if s.scalar(select(func.count(Patient.id))):
            return
        rng = random.Random(7)
        template: list[Path] = []
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
            for i, (cadence, pain) in enumerate(story):
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
                clip = folder / "demo treadmill side view.mp4"
                if _placeholder_clip(clip, template):
                    rec = add_recording(
                        s,
                        v.id,
                        video_path=str(clip.relative_to(clinic.videos_root)),
                        original_name="Demo placeholder clip (no real runner)",
                        container_fps=CLIP_FPS,
                        capture_fps=CLIP_FPS,
                        frame_count=int(CLIP_FPS * CLIP_SECONDS),
                        width=320,
                        height=240,
                    )
                    events = demo_events(cadence, rng)
                    replace_events(s, rec.id, events)
                    per_side = tuple(
                        sum(
                            1 for e in events if e.foot is f and e.type is EventType.INITIAL_CONTACT
                        )
                        for f in Foot
                    )
                    if i < n - 1 or n == 1:
                        plan = plan_for(baseline_from_measurement(cadence, per_side), 5.0)
                        plan.treadmill_speed_kmh = speed
                        save_prescription(s, v.id, plan.to_dict())
