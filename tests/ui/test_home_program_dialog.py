"""Preview dialog, editor dialog, exercise selection and library dialogs (pytest-qt)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter

from app.clinic import open_clinic
from app.db.models import HomeProgram
from app.demo import ensure_demo_data
from app.paths import DataFolder
from app.reports.exercises import ExerciseLibrary, ExerciseLibraryError
from tests.ui.test_home_program_pdf import content_for, prescribe, runner_without_prescription
from ui.exercise_library import ExerciseLibraryDialog, ExerciseSelectionTable
from ui.home_program import make_preview_dialog, make_printer
from ui.home_program_dialog import HomeProgramDialog, open_home_program, open_past_program


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    c = open_clinic(demo=True, folder=DataFolder(tmp_path_factory.mktemp("demo")))
    ensure_demo_data(c)
    yield c
    c.close()


def test_preview_dialog_paints_to_a_printer(qtbot, demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    content = content_for(demo, prescribe(demo, "Anna"))
    printer = make_printer("Letter")
    dialog = make_preview_dialog(content, printer)
    qtbot.addWidget(dialog)
    target = make_printer("Letter")
    target.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    target.setOutputFileName(str(tmp_path / "preview.pdf"))
    dialog.paintRequested.emit(target)  # what the preview (and its Print button) does
    reader = PdfReader(str(tmp_path / "preview.pdf"))
    assert 1 <= len(reader.pages) <= 2
    assert "Anna Lindqvist" in reader.pages[0].extract_text()  # spaces repaired after printing
    assert round(float(reader.pages[0].mediabox.height)) == 792  # Letter


def test_editor_applies_edits_and_records_an_export(qtbot, demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    content = content_for(demo, prescribe(demo, "Anna"))
    dialog = HomeProgramDialog(demo, content)
    qtbot.addWidget(dialog)
    dialog.note_edit.setPlainText("See you in two weeks.")
    dialog.appointment_edit.setText("Friday 13 December, 09:00")
    dialog.schedule_edit.setPlainText("Runs 1–3: Metronome all the way\nRuns 4+: Spot checks")
    dialog.pain_rules_edit.setPlainText("Only this rule.")
    edited = dialog.content()
    assert edited.clinician_note == "See you in two weeks."
    assert edited.cadence is not None
    assert edited.cadence.schedule == [
        ["Runs 1–3", "Metronome all the way"],
        ["Runs 4+", "Spot checks"],
    ]
    assert edited.pain_rules == ["Only this rule."]
    assert content.clinician_note == ""  # the original is untouched
    dialog.cadence_box.setChecked(False)
    assert dialog.content().cadence is None
    dialog.cadence_box.setChecked(True)

    with qtbot.waitSignal(dialog.recorded, timeout=10_000) as sig:
        dialog._record(dialog.content())  # a printed copy: the PDF is rendered for the record
    with demo.db.session() as s:
        row = s.get(HomeProgram, sig.args[0])
        assert row is not None and row.content["clinician_note"] == "See you in two weeks."
        pdf = demo.folder.root / row.pdf_path
    assert "Friday 13 December" in " ".join(p.extract_text() for p in PdfReader(str(pdf)).pages)
    assert not list(demo.folder.cache.glob("program-*.pdf"))  # temp file removed

    again = open_past_program(None, demo, sig.args[0])  # reprint what the runner was given
    assert again is not None
    qtbot.addWidget(again)
    assert again.content().next_appointment == "Friday 13 December, 09:00"


def test_exercise_selection_ticks_doses_and_bad_numbers(qtbot) -> None:  # type: ignore[no-untyped-def]
    lib = ExerciseLibrary(None)
    from app.reports.exercises import SelectedExercise

    chosen = [SelectedExercise.from_exercise(lib, lib.get("calf_raise"))]  # type: ignore[arg-type]
    table = ExerciseSelectionTable(lib, chosen)
    qtbot.addWidget(table)
    assert table.table.rowCount() == len(lib.exercises())
    assert [s.exercise_id for s in table.selected()] == ["calf_raise"]
    table.table.item(0, 2).setText("20")
    table.table.item(1, 0).setCheckState(Qt.CheckState.Checked)
    table.table.setCurrentCell(1, 0)
    table.instructions.setPlainText("Custom instruction")
    sel = table.selected()
    assert sel[0].dose.reps == 20 and sel[1].instructions == "Custom instruction"
    table.table.item(0, 2).setText("lots")
    with pytest.raises(ExerciseLibraryError, match="whole number"):
        table.selected()


def test_no_prescription_offers_create_or_print_without(qtbot, demo) -> None:  # type: ignore[no-untyped-def]
    created = []
    asked = []

    def ask(parent, message, can_create):  # type: ignore[no-untyped-def]
        asked.append((message, can_create))
        return answers.pop(0)

    answers = ["create", "without", "cancel"]
    pid = runner_without_prescription(demo)
    assert (
        open_home_program(
            None, demo, pid, on_create_prescription=lambda: created.append(1), ask=ask
        )
        is None
    )
    assert created == [1] and "no cadence prescription" in asked[0][0] and asked[0][1]
    dialog = open_home_program(None, demo, pid, ask=ask)
    assert dialog is not None
    qtbot.addWidget(dialog)
    assert dialog.content().cadence is None and not dialog.cadence_box.isEnabled()
    assert open_home_program(None, demo, pid, ask=ask) is None


def test_library_dialog_adds_and_removes(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lib = ExerciseLibrary(tmp_path / "exercises")
    dialog = ExerciseLibraryDialog(lib)
    qtbot.addWidget(dialog)
    n = dialog.list.count()
    dialog._new()
    dialog.name.setText("Single-leg balance")
    dialog.hold.setValue(30)
    dialog.frequency.setText("daily")
    dialog._save_current()
    assert dialog.list.count() == n + 1
    saved = ExerciseLibrary(tmp_path / "exercises").get("single_leg_balance")
    assert saved is not None and saved.dose.text == "Hold 30 s · daily"
    dialog.list.setCurrentRow(0)
    dialog._remove()
    assert dialog.list.count() == n
    dialog._restore()
    assert dialog.list.count() == n + 1


def test_no_printer_offers_pdf_instead(qtbot, demo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    import ui.home_program_dialog as hp

    content = content_for(demo, prescribe(demo, "Anna"))
    dialog = HomeProgramDialog(demo, content)
    qtbot.addWidget(dialog)
    shown = []
    monkeypatch.setattr(hp, "printers_available", lambda: False)
    monkeypatch.setattr(
        hp.QMessageBox,
        "information",
        lambda *a, **k: shown.append(a[2]) or QMessageBox.StandardButton.Cancel,
    )
    monkeypatch.setattr(hp, "QPrintDialog", None)  # must not be reached
    dialog.print_program()
    assert shown and "No printer is installed" in shown[0]
