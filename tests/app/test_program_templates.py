"""Issue 18: home programs follow the complaint, stills are cropped to the legs, a patient
without a visit gets one clear message."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.clinic import Clinic, open_clinic
from app.paths import DataFolder
from app.records.patients import PatientData, create_patient
from app.reports.exercises import ExerciseLibrary
from app.reports.home_program import HomeProgramError, NoPrescriptionError, build_content
from app.reports.stills import LOWER_HALF, legs_box, still_crop
from app.reports.templates import TemplateError, TemplateStore
from resources import resource_path

CLINICAL = Path(__file__).resolve().parents[2].parent / "shared" / "docs" / "clinical.md"
COMPLAINTS = {
    "low_back_pain": "Low back pain when running > 5 km",
    "patellofemoral_pain": "Anterior knee pain (patellofemoral), right",
    "achilles_tendinopathy": "Achilles tendinopathy, left, 3 months",
    "mtss_bone_stress": "Shin pain (medial tibial stress), left",
    "itb_syndrome": "Iliotibial band pain, left knee",
    "general": "Hamstring tightness",
}


@pytest.fixture
def store() -> TemplateStore:
    return TemplateStore(None)


@pytest.mark.parametrize(("template_id", "complaint"), sorted(COMPLAINTS.items()))
def test_complaint_picks_its_template(
    store: TemplateStore, template_id: str, complaint: str
) -> None:
    assert store.match_complaint(complaint).id == template_id


def test_matching_details(store: TemplateStore) -> None:
    assert store.match_complaint(None).id == "general"
    assert store.match_complaint("").id == "general"
    assert (
        store.match_complaint("ACHILLES pain came back after a break").id == "achilles_tendinopathy"
    )
    assert store.match_complaint("shin splints").id == "mtss_bone_stress"
    assert store.match_complaint("IT band, outside of the knee").id == "itb_syndrome"
    # Word starts only: "feedback" is not "back".
    assert store.match_complaint("wants feedback on form").id == "general"


def test_every_template_has_advice_exercises_and_sources(store: TemplateStore) -> None:
    lib = ExerciseLibrary(None)
    ids = {t.id for t in store.templates()}
    assert set(COMPLAINTS) <= ids
    text = CLINICAL.read_text(encoding="utf-8") if CLINICAL.is_file() else ""
    for t in store.templates():
        assert t.advice and t.exercises and t.sources, t.id
        assert all(lib.get(e) is not None for e in t.exercises), t.id
        # Every named study is in the clinical reference (no invented sources).
        if text:
            import re

            for author, year in re.findall(
                r"([A-Z][a-zé]+)(?: & [A-Z][a-z]+)? (\d{4})", " ".join(t.sources)
            ):
                assert f"{author}" in text and year in text, (t.id, author, year)
    back = store.get("low_back_pain")
    assert back is not None and any("back" in a for a in back.advice)
    for tid in ("achilles_tendinopathy", "mtss_bone_stress", "patellofemoral_pain", "itb_syndrome"):
        assert not any("back" in a.lower() for a in store.get(tid).advice), tid  # type: ignore[union-attr]
    assert "calf_raise" in store.get("achilles_tendinopathy").exercises  # type: ignore[union-attr]
    assert "calf_raise" in store.get("mtss_bone_stress").exercises  # type: ignore[union-attr]


def test_clinic_edits_are_saved_atomically_and_reset(tmp_path: Path) -> None:
    store = TemplateStore(tmp_path / "programs")
    t = store.get("achilles_tendinopathy")
    assert t is not None
    from dataclasses import replace

    store.update(replace(t, advice=["Our clinic's Achilles advice."], exercises=["calf_raise"]))
    store.save()
    saved = tmp_path / "programs" / "templates.json"
    assert json.loads(saved.read_text(encoding="utf-8"))["templates"][0]["id"] == t.id
    assert not [p for p in saved.parent.iterdir() if p.name.startswith(".templates-")]
    again = TemplateStore(tmp_path / "programs")
    assert again.get(t.id).advice == ["Our clinic's Achilles advice."]  # type: ignore[union-attr]
    assert again.match_complaint("achilles").exercises == ["calf_raise"]
    again.reset(t.id)
    assert again.get(t.id).advice == t.advice  # type: ignore[union-attr]
    # The shipped file is never written.
    assert "Our clinic" not in resource_path("programs/templates.json").read_text(encoding="utf-8")


def test_damaged_clinic_file_is_a_plain_error(tmp_path: Path) -> None:
    (tmp_path / "templates.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(TemplateError, match="could not be read"):
        TemplateStore(tmp_path)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Clinic:
    from app.demo import ensure_demo_data

    c = open_clinic(demo=True, folder=DataFolder(tmp_path_factory.mktemp("demo")))
    ensure_demo_data(c)  # the entry points seed the demo, not open_clinic
    yield c
    c.close()


def _pid(clinic: Clinic, part: str) -> int:
    from sqlalchemy import select

    from app.db.models import Patient

    with clinic.db.session() as s:
        return s.scalars(select(Patient.id).where(Patient.full_name.contains(part))).one()


@pytest.mark.parametrize(
    ("part", "template_id"),
    [("Anna", "low_back_pain"), ("Tomás", "patellofemoral_pain"), ("Chloé", "mtss_bone_stress"),
     ("María", "itb_syndrome")],
)  # fmt: skip
def test_program_follows_the_demo_patients_complaint(
    demo: Clinic, part: str, template_id: str
) -> None:
    lib = ExerciseLibrary.for_data_folder(demo.folder.root)
    with demo.db.session() as s:
        c = build_content(s, _pid(demo, part), demo.settings, library=lib,
                          allow_without_prescription=True)  # fmt: skip
    t = TemplateStore(None).get(template_id)
    assert c.template_id == template_id and c.advice == t.advice  # type: ignore[union-attr]
    assert not any("back" in r.lower() for r in c.pain_rules)  # general rules are neutral
    ticked = [e.exercise_id for e in c.exercises]
    assert ticked == [
        i for i in t.exercises if c.cadence is not None or not i.startswith("cadence_")
    ]  # type: ignore[union-attr]


def test_template_can_be_chosen_explicitly(demo: Clinic) -> None:
    with demo.db.session() as s:
        c = build_content(s, _pid(demo, "Anna"), demo.settings, template_id="achilles_tendinopathy",
                          allow_without_prescription=True)  # fmt: skip
    assert c.template_id == "achilles_tendinopathy"
    assert "calf_raise" in [e.exercise_id for e in c.exercises]


def test_no_visit_is_one_message_before_any_prescription_question(demo: Clinic) -> None:
    with demo.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Neu Patient")).id
    with demo.db.session() as s, pytest.raises(HomeProgramError, match="no visit yet") as info:
        build_content(s, pid, demo.settings)
    # The old code raised NoPrescriptionError here, which offered "Print without cadence".
    assert not isinstance(info.value, NoPrescriptionError)


# --- stills cropped to the legs ------------------------------------------------------------------


def test_legs_box_surrounds_the_keypoints() -> None:
    # Hip at (500, 500), toes at (560, 900) in a 1000 x 1000 frame.
    pts = np.array([[[500, 500], [520, 700], [540, 880], [530, 900], [560, 900]],
                    [[500, 500], [470, 690], [430, 860], [420, 880], [450, 890]]], float)  # fmt: skip
    x0, y0, x1, y1 = legs_box(pts, 1000, 1000)  # type: ignore[misc]
    assert x0 < 0.42 and x1 > 0.56 and y0 < 0.5 and 0.9 < y1 <= 1.0
    assert (y1 - y0) < 0.6 and (x1 - x0) >= 0.75 * (y1 - y0) - 1e-9  # legs only, room for a stride
    assert legs_box(np.full((2, 5, 2), np.nan), 1000, 1000) is None


def test_still_without_keypoints_gets_the_lower_half(demo: Clinic, tmp_path: Path) -> None:
    from sqlalchemy import select

    from app.db.models import Recording

    with demo.db.session() as s:
        uid = s.scalars(select(Recording.uid)).first()
        box = still_crop(s, tmp_path / f"recording-{uid}_frame000010.png", demo.folder.cache,
                         demo.videos_root)  # fmt: skip
        assert box == LOWER_HALF
        # A picture that is not an exported frame is printed whole.
        assert still_crop(s, tmp_path / "my_photo.png", demo.folder.cache, demo.videos_root) == ()


def test_still_with_cached_keypoints_is_cropped_to_them(
    demo: Clinic, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    import app.analysis.pose as pose
    from app.analysis.keypoints import KeypointTrack
    from app.db.models import Recording

    xy = np.full((100, 2, 5, 2), np.nan)
    xy[50] = [[[300, 300], [320, 420], [340, 520], [330, 530], [360, 530]]] * 2
    track = KeypointTrack(
        np.arange(100) / 100.0, xy, meta={"width": 600, "height": 600, "fps": 100.0}
    )
    monkeypatch.setattr(pose, "load_cached_pose", lambda video, cache: track)
    with demo.db.session() as s:
        uid = s.scalars(select(Recording.uid)).first()
        box = still_crop(s, f"recording-{uid}_frame000050.png", demo.folder.cache, demo.videos_root)
        assert box != LOWER_HALF and box[1] < 0.5 < box[3]
        assert box == legs_box(xy[50], 600, 600)
        # A frame outside the track falls back.
        assert still_crop(s, f"recording-{uid}_frame000500.png", demo.folder.cache,
                          demo.videos_root) == LOWER_HALF  # fmt: skip
