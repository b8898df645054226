"""Start-up time to a usable main window with 1,000 patients in the database (prints JSON).

Usage: .venv/bin/python benchmarks/startup.py [--patients 1000] [--runs 5]

Each run starts a fresh interpreter (as a clinician's double-click does), opens the database,
builds the main window with the patient list filled, and reports when the event loop has painted
the window and is idle. Offscreen Qt, so no display is needed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import time, sys
t0 = float(sys.argv[1])
from PySide6.QtCore import QTimer
from ui.application import make_application
from app.clinic import open_clinic
from ui.main_window import MainWindow
app = make_application()
clinic = open_clinic()
w = MainWindow(clinic)
w.show()
def done():
    rows = w.patient_list.model.rowCount()
    print(f"READY {time.time() - t0:.4f} {rows}", flush=True)
    app.quit()
QTimer.singleShot(0, done)
app.exec()
clinic.close()
"""


def populate(home: Path, n: int) -> None:
    os.environ["STRIDE_CLINIC_HOME"] = str(home)
    sys.path.insert(0, str(ROOT))
    from app.clinic import open_clinic
    from app.db.models import Patient, Visit
    from app.records.validation import name_key

    rng = random.Random(1)
    first = ["Anna", "Jonas", "María", "Chloé", "Tomás", "Ingrid", "Lars", "Zoë", "Ahmed", "Mei", "Olu", "Sven"]
    last = ["Lindqvist", "Weber", "Núñez", "Martin", "Ferreira", "Sørensen", "Berg", "Okafor", "Khan", "Chen"]
    clinic = open_clinic()
    with clinic.db.session() as s:
        for i in range(n):
            name = f"{rng.choice(first)} {rng.choice(last)} {i:05d}"
            p = Patient(
                full_name=name,
                name_key=name_key(name),
                date_of_birth=dt.date(
                    1960 + rng.randint(0, 40), rng.randint(1, 12), rng.randint(1, 28)
                ),
                sex=rng.choice(["female", "male"]),
                complaint="Low back pain when running",
            )
            s.add(p)
            s.flush()
            for k in range(rng.randint(1, 4)):
                s.add(
                    Visit(
                        patient_id=p.id, visit_date=dt.date(2026, 1, 1) + dt.timedelta(days=21 * k)
                    )
                )
    clinic.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        populate(home, args.patients)
        env = dict(
            os.environ,
            STRIDE_CLINIC_HOME=str(home),
            QT_QPA_PLATFORM="offscreen",
            PYTHONPATH=str(ROOT),
        )
        times = []
        rows = 0
        for _ in range(args.runs):
            t0 = time.time()
            out = subprocess.run(
                [sys.executable, "-c", CHILD, repr(t0)],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            line = next((ln for ln in out.stdout.splitlines() if ln.startswith("READY")), None)
            if line is None:
                print(json.dumps({"error": out.stderr[-2000:]}))
                return 1
            _, secs, rows_s = line.split()
            times.append(float(secs))
            rows = int(rows_s)
    print(
        json.dumps(
            {
                "patients": args.patients,
                "patients_listed": rows,
                "runs": args.runs,
                "startup_s_median": round(statistics.median(times), 3),
                "startup_s_max": round(max(times), 3),
                "startup_s_all": [round(t, 3) for t in times],
                "target_s": 2.0,
                "meets_target": max(times) <= 2.0,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
