"""Tools ▸ Audit trail…: who viewed, created, changed, exported, printed or deleted what.

Only administrators (or everyone while sign-in is not in use) may open it. The CSV export
holds ids, actions and times only; patient names are shown on screen for the administrator
but never written to the export or to log files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.outputs import OutputError, rules_for_clinic, write_text
from app.records.summary import patient_names
from app.safety import accounts, audit

if TYPE_CHECKING:
    from app.clinic import Clinic

COLUMNS = ["When (UTC)", "Action", "Patient", "Clinician", "What", "Workstation"]


class AuditDialog(QDialog):
    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.rows: list[audit.AuditRow] = []
        self.setWindowTitle("Audit trail")
        self.resize(900, 560)
        self.patient = QLineEdit()
        self.patient.setPlaceholderText("patient number (empty: all)")
        self.clinician = QComboBox()
        self.clinician.addItem("All clinicians", None)
        with clinic.db.session() as s:
            for c in accounts.clinicians_by_name(s):
                self.clinician.addItem(c.name, c.id)
        show = QPushButton("Show")
        show.clicked.connect(self.reload)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self.export)
        self.status = QLabel()
        # Whether the trail is as Stride Clinic wrote it (hash chain, app.safety.audit_chain).
        self.chain = QLabel()
        self.chain.setWordWrap(True)
        self.chain_report: audit.ChainReport | None = None
        top = QHBoxLayout()
        top.addWidget(QLabel("Patient"))
        top.addWidget(self.patient)
        top.addWidget(QLabel("Clinician"))
        top.addWidget(self.clinician)
        top.addWidget(show)
        top.addStretch(1)
        top.addWidget(self.export_button)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.chain)
        layout.addLayout(top)
        layout.addWidget(self.table)
        layout.addWidget(self.status)
        self.check_chain()
        self.reload()

    def check_chain(self) -> None:
        """Verify the whole trail's hash chain and say whether it is intact."""
        try:
            report = audit.verify(self.clinic.db)
        except Exception as exc:  # a locked database: the entries may still be readable
            self.chain.setText(
                f"The audit trail could not be checked just now ({type(exc).__name__})."
            )
            return
        self.chain_report = report
        self.chain.setObjectName("muted" if report.intact else "error")
        self.chain.setText(
            report.describe()
            if report.intact
            else report.describe() + " Entries up to that one are as they were written."
        )
        self.chain.style().unpolish(self.chain)
        self.chain.style().polish(self.chain)

    def _patient_filter(self) -> int | None:
        text = self.patient.text().strip()
        return int(text) if text.isdigit() else None

    def reload(self) -> None:
        with self.clinic.db.session() as s:
            self.rows = audit.entries(
                s, patient_id=self._patient_filter(), clinician_id=self.clinician.currentData()
            )
            ids = {r.patient_id for r in self.rows if r.patient_id is not None}
            names = patient_names(s, ids)
        self.table.setRowCount(len(self.rows))
        for i, r in enumerate(self.rows):
            if r.patient_id is None:
                who = ""
            else:
                who = f"#{r.patient_id} {names.get(r.patient_id, '(deleted)')}"
            values = [
                r.at.strftime("%Y-%m-%d %H:%M:%S"),
                r.action,
                who,
                r.clinician,
                r.detail,
                r.workstation,
            ]
            for j, v in enumerate(values):
                self.table.setItem(i, j, QTableWidgetItem(v))
        self.status.setText(f"{len(self.rows)} entries (newest first)")

    def export(self, path: str | None = None) -> Path | None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Export audit trail", "audit-trail.csv", "CSV files (*.csv)"
            )
        if not path:
            return None
        try:
            # owner-only, checked and atomic (app.outputs); the dialog asked before replacing
            write_text(
                path,
                audit.to_csv(self.rows),
                rules_for_clinic(self.clinic, force=True),
                encoding="utf-8-sig",
                private=True,
            )
        except OutputError as exc:
            QMessageBox.warning(self, "Export failed", exc.message)
            return None
        with self.clinic.db.session() as s:
            audit.record(s, "export", detail=f"audit trail CSV ({len(self.rows)} entries)")
        self.status.setText(f"Exported {len(self.rows)} entries to {path}")
        return Path(path)


def open_audit_trail(clinic: Clinic, parent: QWidget | None = None) -> AuditDialog | None:
    """Show the audit trail to an administrator; others are told who may see it."""
    if not accounts.is_admin(clinic.db):
        QMessageBox.information(
            parent,
            "Audit trail",
            "Only an administrator can view the audit trail. Ask the clinic's administrator to "
            "sign in.",
        )
        return None
    dialog = AuditDialog(clinic, parent)
    dialog.open()
    return dialog
