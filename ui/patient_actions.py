"""Patient and visit actions of the main window: load, create, edit, delete (with confirmation)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox, QWidget

from app.db.database import DatabaseError
from app.db.models import Patient, Visit
from app.records import patients as patient_records
from app.records import visits as visit_records
from app.records.patients import PatientData
from app.records.summary import PatientSummary, patient_summary
from app.records.validation import ValidationError
from app.records.visits import VisitData
from ui.db_errors import show_database_error
from ui.dialogs import PatientDialog, VisitDialog

if TYPE_CHECKING:
    from app.clinic import Clinic


class PatientActions:
    """Talks to the database for the main window; every change is one committed transaction."""

    def __init__(self, clinic: Clinic, parent: QWidget) -> None:
        self.clinic = clinic
        self.parent = parent

    # --- reading -----------------------------------------------------------------------------
    def rows(self) -> list[patient_records.PatientRow]:
        with self.clinic.db.session() as s:
            return patient_records.list_patients(s)

    def summary(self, patient_id: int) -> PatientSummary | None:
        """The patient's record for the view; None (after a plain message) if it cannot be read."""
        try:
            with self.clinic.db.session() as s:
                return patient_summary(s, patient_id)
        except DatabaseError as exc:
            show_database_error(self.parent, exc, "The record could not be read")
            return None

    # --- patients ------------------------------------------------------------------------------
    def create_patient(self) -> int | None:
        dialog = PatientDialog(parent=self.parent)
        created: list[int] = []

        def save(data: PatientData) -> None:
            with self.clinic.db.session() as s:
                allow = False
                dups = patient_records.find_duplicates(s, data)
                if dups:
                    answer = QMessageBox.question(
                        dialog,
                        "Possible duplicate",
                        f"A patient named {dups[0].full_name} "
                        f"({dups[0].date_of_birth or 'birth date unknown'}) already exists.\n\n"
                        "Is this a different person? Choose No to go back and open the existing record instead.",
                    )
                    if answer != QMessageBox.StandardButton.Yes:
                        raise ValidationError(
                            "full_name", "Not saved: this patient already exists."
                        )
                    allow = True
                created.append(patient_records.create_patient(s, data, allow_duplicate=allow).id)

        dialog.check = save
        return created[0] if dialog.exec() and created else None

    def edit_patient(self, patient_id: int) -> bool:
        with self.clinic.db.session() as s:
            p = s.get(Patient, patient_id)
            if p is None:
                return False
            data, version = PatientData.from_patient(p), p.version
        dialog = PatientDialog(data, parent=self.parent)

        def save(new: PatientData) -> None:
            with self.clinic.db.session() as s:
                patient_records.update_patient(s, patient_id, new, expected_version=version)

        dialog.check = save
        return bool(dialog.exec())

    def delete_patient(self, patient_id: int) -> bool:
        with self.clinic.db.session() as s:
            p = s.get(Patient, patient_id)
            if p is None:
                return False
            name, n_visits = p.full_name, len(p.visits)
        if not self.confirm_delete_patient(name, n_visits):
            return False
        with self.clinic.db.session() as s:
            folders = patient_records.delete_patient(
                s, patient_id, self.clinic.videos_root, self.clinic.folder.root
            )
        problems = patient_records.remove_media(folders)
        if problems:
            QMessageBox.warning(
                self.parent,
                "Some files were not removed",
                "The patient's record was deleted, but these files could not be removed:\n"
                + "\n".join(problems),
            )
        return True

    def confirm_delete_patient(self, name: str, n_visits: int) -> bool:
        """Ask before deleting; the safe choice (Cancel) is the default."""
        box = QMessageBox(self.parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Delete patient")
        box.setText(f"Delete {name} and everything recorded for them?")
        box.setInformativeText(
            f"This removes {n_visits} visit(s), all their videos, markings, prescriptions and home "
            "programs from this computer. It cannot be undone (backups are kept as they are)."
        )
        delete = box.addButton("Delete patient", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is delete

    def confirm_delete_visit(self) -> bool:
        answer = QMessageBox.question(
            self.parent,
            "Delete visit",
            "Delete this visit with its recordings, markings and prescriptions? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    # --- visits ----------------------------------------------------------------------------
    def _clinicians(self) -> list[tuple[int, str]]:
        with self.clinic.db.session() as s:
            return [(c.id, c.name) for c in visit_records.clinicians(s)]

    def create_visit(self, patient_id: int) -> int | None:
        clinicians = self._clinicians()
        with self.clinic.db.session() as s:
            previous = visit_records.last_conditions(s, patient_id)
        dialog = VisitDialog(None, clinicians, parent=self.parent, previous=previous)
        signed_in = getattr(self.clinic.db, "clinician_id", None)
        index = dialog.clinician.findData(signed_in) if signed_in is not None else -1
        if index > 0:
            dialog.clinician.setCurrentIndex(index)  # the signed-in clinician runs this visit
        elif clinicians:
            dialog.clinician.setCurrentIndex(1)
        created: list[int] = []

        def save(data: VisitData) -> None:
            with self.clinic.db.session() as s:
                created.append(visit_records.create_visit(s, patient_id, data).id)

        dialog.check = save
        return created[0] if dialog.exec() and created else None

    def edit_visit(self, visit_id: int) -> bool:
        with self.clinic.db.session() as s:
            v = s.get(Visit, visit_id)
            if v is None:
                return False
            data, version = VisitData.from_visit(v), v.version
            clinicians = self._clinicians()
            if v.clinician is not None and not v.clinician.active:
                # a deactivated clinician stays on their past visits (never dropped on save)
                clinicians.append((v.clinician.id, f"{v.clinician.name} (inactive)"))
        dialog = VisitDialog(data, clinicians, parent=self.parent)

        def save(new: VisitData) -> None:
            with self.clinic.db.session() as s:
                visit_records.update_visit(s, visit_id, new, expected_version=version)

        dialog.check = save
        return bool(dialog.exec())

    def delete_visit(self, visit_id: int) -> bool:
        if not self.confirm_delete_visit():
            return False
        with self.clinic.db.session() as s:
            files = visit_records.delete_visit(
                s, visit_id, self.clinic.videos_root, self.clinic.folder.root
            )
        # Only files no remaining record references; folders only when left empty.
        problems = patient_records.remove_media(files)
        if problems:
            QMessageBox.warning(
                self.parent,
                "Some files were not removed",
                "The visit was deleted, but these files could not be removed:\n"
                + "\n".join(problems),
            )
        return True
