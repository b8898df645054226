"""Opening the home-program editor: the default program of a patient's latest prescription
(asking what to do when there is none) or a program given earlier, exactly as printed.

The editor itself is :class:`ui.home_program_dialog.HomeProgramDialog`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox, QWidget

from app.reports.exercises import ExerciseLibrary, ExerciseLibraryError
from app.reports.home_program import (
    HomeProgramError,
    NoPrescriptionError,
    build_content,
    default_stills,
    load_program,
)
from app.reports.templates import TemplateError, TemplateStore

if TYPE_CHECKING:
    from app.clinic import Clinic
    from ui.home_program_dialog import HomeProgramDialog


def open_home_program(
    parent: QWidget | None,
    clinic: Clinic,
    patient_id: int,
    *,
    on_create_prescription: Callable[[], None] | None = None,
    ask: Callable[[QWidget | None, str, bool], str] | None = None,
) -> HomeProgramDialog | None:
    """Build the default program and return its editor (the caller shows it), or None.

    Without a prescription ``ask`` (a message box by default) returns "create", "without" or
    "cancel"; "create" calls ``on_create_prescription``.
    """
    library = ExerciseLibrary.for_data_folder(clinic.folder.root)
    templates = _templates_or_starter(clinic)
    try:
        with clinic.db.session() as s:
            before, after = default_stills(s, clinic.folder.stills, patient_id)
            try:
                content = build_content(
                    s,
                    patient_id,
                    clinic.settings,
                    library=library,
                    before_still=before,
                    after_still=after,
                    templates=templates,
                )
            except NoPrescriptionError as e:
                choice = (ask or _ask_no_prescription)(
                    parent, str(e), on_create_prescription is not None
                )
                if choice == "create" and on_create_prescription is not None:
                    on_create_prescription()
                if choice != "without":
                    return None
                content = build_content(
                    s,
                    patient_id,
                    clinic.settings,
                    library=library,
                    allow_without_prescription=True,
                    before_still=before,
                    after_still=after,
                    templates=templates,
                )
    except (HomeProgramError, ExerciseLibraryError) as e:
        QMessageBox.warning(parent, "Home program", str(e))
        return None
    from ui.home_program_dialog import HomeProgramDialog

    return HomeProgramDialog(clinic, content, parent, library=library, templates=templates)


def _templates_or_starter(clinic: Clinic) -> TemplateStore:
    """The clinic's templates; a damaged clinic file falls back to the shipped set (the
    program can still be made, and the damaged file is left alone for the clinic to fix)."""
    try:
        return TemplateStore.for_data_folder(clinic.folder.root)
    except TemplateError:
        return TemplateStore(None)


def open_past_program(
    parent: QWidget | None, clinic: Clinic, program_id: int
) -> HomeProgramDialog | None:
    """The editor on a program given earlier, exactly as printed (to reprint or adapt it)."""
    try:
        with clinic.db.session() as s:
            content = load_program(s, program_id)
    except HomeProgramError as e:
        QMessageBox.warning(parent, "Home program", str(e))
        return None
    from ui.home_program_dialog import HomeProgramDialog

    return HomeProgramDialog(clinic, content, parent)


def _ask_no_prescription(parent: QWidget | None, message: str, can_create: bool) -> str:
    box = QMessageBox(QMessageBox.Icon.Question, "No prescription yet", message, parent=parent)
    create = (
        box.addButton("Create prescription…", QMessageBox.ButtonRole.AcceptRole)
        if can_create
        else None
    )
    without = box.addButton("Print without cadence", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    clicked = box.clickedButton()
    return (
        "create" if clicked is create and create else "without" if clicked is without else "cancel"
    )
