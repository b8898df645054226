"""The prescription tab: the prescription panel bound to the selected visit and the database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.db.models import Visit
from app.records import measurements
from ui import unsaved
from ui.prescription_panel import PrescriptionPanel

if TYPE_CHECKING:
    from app.clinic import Clinic


class PrescriptionTab(QWidget):
    """The Prescribe tab. Unsaved edits follow the one rule of :mod:`ui.unsaved`: leaving the
    tab, choosing another visit or closing the program with changes asks Save / Discard (/ Keep
    editing); coming back to the tab keeps what was typed."""

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
        self._snapshot = unsaved.FormSnapshot(self.panel)

    @property
    def has_unsaved_changes(self) -> bool:
        return self.visit_id is not None and self.panel.isEnabled() and self._snapshot.dirty

    def _resolve(self, can_stay: bool) -> unsaved.Leave:
        """Ask about unsaved edits; SAVE saves them (to the visit they were made for)."""
        answer = unsaved.asker(self, "the prescription", can_stay)
        if answer is unsaved.Leave.SAVE and self.panel.save() is None:
            return unsaved.Leave.STAY if can_stay else unsaved.Leave.DISCARD  # invalid: error shown
        return answer

    def set_visit(self, visit_id: int | None) -> None:
        if self.has_unsaved_changes:
            if visit_id == self.visit_id:
                return  # back on the tab (or the same visit again): keep what was typed
            self._resolve(can_stay=False)  # another visit was chosen: save or discard first
        self._load(visit_id)

    def _load(self, visit_id: int | None) -> None:
        self._watch()
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
            unreviewed = measurements.visit_review_count(s, visit_id).unreviewed
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
            unreviewed=unreviewed,
        )
        self._snapshot.mark_clean()

    def _page(self) -> tuple[QTabWidget, QWidget] | None:
        """The tab widget holding this tab and the page (maybe a lazy wrapper) that is us."""
        child: QWidget = self
        parent = self.parentWidget()
        while parent is not None:
            if isinstance(parent, QStackedWidget) and isinstance(parent.parentWidget(), QTabWidget):
                return parent.parentWidget(), child  # type: ignore[return-value]
            child, parent = parent, parent.parentWidget()
        return None

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._watch()

    def _watch(self) -> None:
        """Follow the tab bar once this tab sits in one (leaving it asks about edits)."""
        page = self._page()
        if page is not None and not getattr(self, "_watching", False):
            self._watching = True
            page[0].currentChanged.connect(self._tab_changed)

    def _tab_changed(self, _index: int) -> None:
        page = self._page()
        if page is not None and page[0].currentWidget() is not page[1] and self.has_unsaved_changes:
            # After the switch has finished (asking inside the signal would nest tab changes).
            QTimer.singleShot(0, self._ask_after_leaving)

    def _ask_after_leaving(self) -> None:
        page = self._page()
        if not self.has_unsaved_changes or page is None or page[0].currentWidget() is page[1]:
            return
        answer = self._resolve(can_stay=True)
        if answer is unsaved.Leave.STAY:
            page = self._page()
            if page is not None:
                page[0].setCurrentWidget(page[1])
        elif answer is unsaved.Leave.DISCARD:
            self._load(self.visit_id)  # the stored prescription again

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
        self._snapshot.mark_clean()
        self.status_message.emit(f"Prescription saved: target {plan.get('target_spm')} steps/min.")
        self.saved.emit(self.visit_id)

    def shutdown(self) -> None:
        if self.has_unsaved_changes:  # the program is closing: save or discard, no staying
            self._resolve(can_stay=False)
        self.panel.shutdown()
