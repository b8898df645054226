"""A small, realistic demo clinic so a newcomer sees a working program at once.

Demo data lives in its own data folder; the clinic's real database is never touched.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from app.db.models import Patient
from app.records.patients import PatientData, create_patient
from app.records.visits import VisitData, create_visit, ensure_clinician

if TYPE_CHECKING:
    from app.clinic import Clinic

# (name, dob, sex, height, leg, complaint, baseline cadence, speed km/h, pain trajectory)
DEMO_PATIENTS = [
    (
        "Anna Lindqvist",
        "1987-03-14",
        "female",
        168,
        86,
        "Low back pain when running > 5 km",
        158,
        10.0,
        [5, 4, 2],
    ),
    (
        "Tomás Ferreira",
        "1979-11-02",
        "male",
        181,
        95,
        "Anterior knee pain (patellofemoral), right",
        152,
        10.5,
        [6, 4],
    ),
    (
        "Chloé Martin",
        "1995-07-21",
        "female",
        162,
        83,
        "Shin pain (medial tibial stress), left",
        164,
        9.5,
        [4],
    ),
    (
        "Jonas Weber",
        "1990-01-30",
        "male",
        186,
        98,
        "Recurrent low back pain, half-marathon training",
        160,
        11.0,
        [5, 3, 2, 1],
    ),
    (
        "María José Núñez",
        "1983-05-09",
        "female",
        158,
        80,
        "Iliotibial band pain, left knee",
        166,
        9.0,
        [3, 2],
    ),
    (
        "山田 花子 (Hanako Yamada)",
        "1992-09-17",
        "female",
        160,
        81,
        "Low back pain after long runs",
        162,
        9.5,
        [4, 2],
    ),
]


def ensure_demo_data(clinic: Clinic) -> None:
    """Fill an empty demo database; never modifies one that already holds patients."""
    with clinic.db.session() as s:
        if s.scalar(select(func.count(Patient.id))):
            return
        rng = random.Random(7)
        physio = ensure_clinician(s, "Sam Okafor (PT)")
        ensure_clinician(s, "Lea Brandt (PT)")
        today = dt.date.today()
        for name, dob, sex, height, leg, complaint, cadence, speed, pains in DEMO_PATIENTS:
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
            n = len(pains)
            for i, pain in enumerate(pains):
                date = today - dt.timedelta(days=21 * (n - 1 - i) + rng.randint(0, 3))
                create_visit(
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
                        notes=("Initial assessment." if i == 0 else f"Follow-up {i}.")
                        + f" Observed cadence about {cadence + 4 * i} spm.",
                    ),
                )
