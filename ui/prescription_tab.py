"""The prescription tab: the prescription panel bound to the selected visit and the database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.db.models import Visit
from app.records import measurements
from ui.prescription_panel import PrescriptionPanel

if TYPE_CHECKING:
    from app.clinic import Clinic


class PrescriptionTab(QWidget):
    saved = Signal(int)  # visit id
    status_message = Signal(str)

    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.visit_id: int | None = None
        self.header = QLabel("Select a patient and a visit to prescribe.")
        self.header.setObjectName("sectionTitle")
        self.panel = PrescriptionPanel()
        self.panel.prescription_saved.connect(self._save)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.header)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.panel)
        layout.addWidget(scroll, 1)
        # Save and export stay in view under the scrolling panel: at 1280×720 “Save
        # prescription” was below the fold. (Moving the widgets takes them out of the panel's
        # own button row; the panel keeps owning their logic.)
        self.actions_bar = QWidget()
        bar = QHBoxLayout(self.actions_bar)
        bar.setContentsMargins(0, 4, 0, 0)
        bar.addWidget(self.panel.export_button)
        bar.addWidget(self.panel.export_bar, 1)
        bar.addWidget(self.panel.export_status, 2)
        bar.addStretch()
        bar.addWidget(self.panel.save_button)
        layout.addWidget(self.actions_bar)
        self._set_enabled(False)

    def set_visit(self, visit_id: int | None) -> None:
        self.visit_id = visit_id
        if visit_id is None:
            self.header.setText("Select a patient and a visit to prescribe.")
            self._set_enabled(False)
            return
        with self.clinic.db.session() as s:
            visit = s.get(Visit, visit_id)
            if visit is None:
                self.set_visit(None)
                return
            m = measurements.visit_measurement(s, visit_id)
            prev = measurements.previous_prescription(s, visit_id)
            existing = measurements.latest_prescription(s, visit_id)
            self.header.setText(
                f"Prescription · {visit.patient.full_name} · visit of {visit.visit_date}"
            )
            speed = visit.treadmill_speed_kmh
            existing_plan = existing.plan if existing else None
        self._set_enabled(True)
        self.panel.set_context(
            m.cadence_spm if m else None,
            m.contacts_per_side if m else None,
            speed,
            prev.target_spm if prev else None,
            existing_plan,
            baseline_sd_spm=m.cadence_sd_spm if m else None,
            frame_rate_hz=m.capture_fps if m else None,
        )

    def _set_enabled(self, on: bool) -> None:
        self.panel.setEnabled(on)
        self.actions_bar.setEnabled(on)

    def _save(self, plan: dict) -> None:
        if self.visit_id is None:
            return
        try:
            with self.clinic.db.session() as s:
                measurements.save_prescription(s, self.visit_id, plan)
        except Exception as exc:
            QMessageBox.warning(self, "Prescription not saved", getattr(exc, "message", str(exc)))
            return
        self.status_message.emit(f"Prescription saved: target {plan.get('target_spm')} steps/min.")
        self.saved.emit(self.visit_id)

    def shutdown(self) -> None:
        self.panel.shutdown()
