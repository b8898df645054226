"""Practice at each visit, for the History tab: cadence with the metronome against without it.

A small self-contained box: ``set_patient(id)`` reads the patient's practice sessions
(:mod:`app.practice.report`) and fills one row per visit; it hides itself when there are none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.practice.report import by_visit, sentence
from app.practice.store import sessions_for_patient

if TYPE_CHECKING:
    from app.practice.report import VisitPractice

COLUMNS = ("Visit", "Sessions", "Minutes", "Target", "With metronome", "Without metronome")


def _cell(spm: float | None, pct: float | None) -> str:
    if spm is None:
        return "—"
    return f"{spm:.0f} spm · {pct:.0f} % on target" if pct is not None else f"{spm:.0f} spm"


class PracticeHistoryBox(QGroupBox):
    def __init__(self, db, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__("Practice on the treadmill (live cadence)", parent)
        self.db = db
        self.rows: list[VisitPractice] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMaximumHeight(160)
        self.latest = QLabel()
        self.latest.setWordWrap(True)
        self.latest.setObjectName("muted")
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.latest)
        self.hide()

    def set_patient(self, patient_id: int | None) -> None:
        sessions = sessions_for_patient(self.db, patient_id) if patient_id is not None else []
        self.rows = by_visit(sessions)
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            values = (
                str(row.visit_date or ""), str(row.sessions), f"{row.minutes:.0f}",
                f"{row.target_spm:.0f}", _cell(row.mean_cue_spm, row.on_target_cue_pct),
                _cell(row.mean_nocue_spm, row.on_target_nocue_pct),
            )  # fmt: skip
            for c, v in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(v))
        text = next((t for t in (sentence(p) for p in reversed(sessions)) if t), None)
        self.latest.setText(f"Latest: {text}" if text else "")
        self.setVisible(bool(self.rows))
