"""Exercise library: starter set, clinic edits, pictures, doses (no Qt)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from app.reports.exercises import (
    STARTER_DIR,
    Dose,
    Exercise,
    ExerciseLibrary,
    ExerciseLibraryError,
    SelectedExercise,
    slugify,
)

REQUIRED = {
    "hip_flexor_kneeling",
    "quadriceps_standing",
    "gluteal_figure4",
    "hip_abduction_sidelying",
    "calf_raise",
    "cadence_metronome_strides",
}


def test_starter_library_has_the_required_exercises_with_valid_svg_pictures() -> None:
    lib = ExerciseLibrary(None)
    exercises = {e.id: e for e in lib.exercises()}
    assert set(exercises) >= REQUIRED
    for e in exercises.values():
        path = lib.picture_path(e)
        assert path is not None and path.suffix == ".svg", e.id
        root = ET.parse(path).getroot()  # well-formed XML
        assert root.tag.endswith("svg")
        assert e.instructions and e.dose.text, e.id


def test_dose_text_for_holds_reps_and_timed_drills() -> None:
    assert Dose(sets=2, hold_s=30, per_side=True, frequency="daily").text == (
        "Hold 30 s, each side · 2 times · daily"
    )
    assert Dose(hold_s=30, hold_max_s=60).text == "Hold 30–60 s"
    assert Dose(sets=3, reps=12, per_side=True, frequency="3 times a week").text == (
        "3 sets × 12 repetitions, each side · 3 times a week"
    )
    assert Dose(sets=4, duration="1 minute").text == "4 × 1 minute"
    assert Dose().text == ""


@pytest.mark.parametrize(
    "dose",
    [Dose(sets=0), Dose(reps=500), Dose(hold_s=30, hold_max_s=10), Dose(hold_max_s=20)],
)
def test_impossible_doses_are_refused(dose: Dose) -> None:
    with pytest.raises(ExerciseLibraryError):
        dose.validate()


def test_add_edit_remove_restore_and_save_round_trip(tmp_path: Path) -> None:
    lib = ExerciseLibrary(tmp_path / "exercises")
    new = lib.add(Exercise(id="", name="Single-leg balance", dose=Dose(hold_s=30)))
    assert new.id == "single_leg_balance"
    again = lib.add(Exercise(id="", name="Single-leg balance"))
    assert again.id == "single_leg_balance_2"
    calf = lib.get("calf_raise")
    assert calf is not None
    calf.dose.reps = 20
    lib.update(calf)
    lib.remove("gluteal_figure4")
    lib.remove(again.id)
    lib.save()

    reopened = ExerciseLibrary(tmp_path / "exercises")
    ids = [e.id for e in reopened.exercises()]
    assert "gluteal_figure4" not in ids and "single_leg_balance" in ids
    assert "single_leg_balance_2" not in ids
    assert reopened.get("calf_raise").dose.reps == 20  # type: ignore[union-attr]
    assert [e.id for e in reopened.hidden_starters()] == ["gluteal_figure4"]
    reopened.restore_starter("gluteal_figure4")
    reopened.restore_starter("calf_raise")
    assert reopened.get("gluteal_figure4") is not None
    assert reopened.get("calf_raise").dose.reps == 15  # type: ignore[union-attr]
    # the shipped file is never written
    shipped = json.loads((STARTER_DIR / "library.json").read_text(encoding="utf-8"))
    assert {e["id"] for e in shipped["exercises"]} >= REQUIRED


def test_corrupt_clinic_library_gives_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "exercises"
    folder.mkdir()
    (folder / "library.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ExerciseLibraryError, match="cannot be read"):
        ExerciseLibrary(folder)


def test_import_picture_copies_and_refuses_other_files(tmp_path: Path) -> None:
    lib = ExerciseLibrary(tmp_path / "exercises")
    src = tmp_path / "My Drill.png"
    src.write_bytes(b"\x89PNG\r\n\x1a\n")
    name = lib.import_picture(src)
    assert name == "my_drill.png" and (tmp_path / "exercises" / name).is_file()
    assert lib.import_picture(src) == "my_drill_2.png"
    bad = tmp_path / "notes.txt"
    bad.write_text("x", encoding="utf-8")
    with pytest.raises(ExerciseLibraryError, match="SVG, PNG or JPEG"):
        lib.import_picture(bad)
    with pytest.raises(ExerciseLibraryError, match="does not exist"):
        lib.import_picture(tmp_path / "gone.png")


def test_missing_picture_resolves_to_none_and_read_only_library_refuses_changes() -> None:
    lib = ExerciseLibrary(None)
    assert lib.picture_path(Exercise(id="x", name="X", picture="nope.svg")) is None
    with pytest.raises(ExerciseLibraryError, match="read-only"):
        lib.add(Exercise(id="", name="X"))


def test_selected_exercise_snapshot_round_trips() -> None:
    lib = ExerciseLibrary(None)
    sel = SelectedExercise.from_exercise(lib, lib.get("calf_raise"))  # type: ignore[arg-type]
    back = SelectedExercise.from_dict(json.loads(json.dumps(sel.to_dict())))
    assert back == sel and Path(back.picture_path).is_file()


def test_slugify_folds_accents() -> None:
    assert slugify("Étirement du quadriceps") == "etirement_du_quadriceps"
    assert slugify("山田") == "exercise"
