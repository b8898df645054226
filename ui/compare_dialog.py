"""Two visits side by side: stills at initial contact and the metrics against measurement noise."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.history.compare import ComparisonRow, compare_visits, stills_for_visit
from app.history.trends import PatientHistory
from ui.visit_labels import visit_labels

STILL_SIZE = (520, 320)
VERDICT_COLORS = {
    "better": "#e3f4e6",
    "worse": "#fbe4e1",
    "noise": "#f1f3f4",
}


def _fmt(v: float | None, unit: str, signed: bool = False) -> str:
    if v is None:
        return "—"
    digits = 0 if unit in ("steps/min", "ms") else 1
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


class StillPane(QLabel):
    """One visit's still (scaled to fit) or a plain-language placeholder."""

    def __init__(self) -> None:
        super().__init__()
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(*STILL_SIZE)
        self.setWordWrap(True)
        self.setStyleSheet("background: #f4f6f7; border: 1px solid #d5dbdf; color: #5b6770;")
        self.path: Path | None = None

    def show_still(self, path: Path | None, date_text: str) -> None:
        self.path = path
        pix = QPixmap(str(path)) if path is not None else QPixmap()
        if pix.isNull():
            self.setPixmap(QPixmap())
            self.setText(
                f"No still for the visit of {date_text}.\n\nIn “Mark video”, go to an initial "
                "contact and use “Export frame” (saved in the clinic's stills folder)."
                if path is None
                else f"The still {path.name} could not be read."
            )
            return
        self.setPixmap(
            pix.scaled(
                *STILL_SIZE,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )


class CompareDialog(QDialog):
    """Pick any two visits; the table recomputes at once from the loaded history."""

    COLUMNS = ("Measure", "Visit A", "Visit B", "Change", "Noise / important change", "Verdict")

    def __init__(
        self,
        history: PatientHistory,
        stills_dir: Path,
        visit_a: int | None = None,
        visit_b: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare two visits")
        self.history = history
        self.stills_dir = stills_dir
        self.rows: list[ComparisonRow] = []
        self.combo_a, self.combo_b = QComboBox(), QComboBox()
        labels = visit_labels([v.date for v in history.visits])
        for combo in (self.combo_a, self.combo_b):
            for v, label in zip(history.visits, labels, strict=True):
                combo.addItem(f"{label} · {v.measured}", v.visit_id)
        ids = [v.visit_id for v in history.visits]
        self.combo_a.setCurrentIndex(ids.index(visit_a) if visit_a in ids else 0)
        self.combo_b.setCurrentIndex(ids.index(visit_b) if visit_b in ids else len(ids) - 1)
        self.still_a, self.still_b = StillPane(), StillPane()
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        note = QLabel(
            "Change = B − A. A change counts only when it is larger than the measurement noise "
            "(smallest detectable difference for angles; for cadence and contact time 1.96 × "
            "√(SD²/n of both visits), at least one video frame) or, for questionnaires, the "
            "smallest important change (Ostelo 2008), reached at a change of at least that size. "
            "Overstride is compared in % of leg length; in cm too when both visits are calibrated."
        )
        note.setObjectName("muted")
        note.setWordWrap(True)
        grid = QGridLayout()
        grid.addWidget(QLabel("Visit A"), 0, 0)
        grid.addWidget(QLabel("Visit B"), 0, 1)
        grid.addWidget(self.combo_a, 1, 0)
        grid.addWidget(self.combo_b, 1, 1)
        grid.addWidget(self.still_a, 2, 0)
        grid.addWidget(self.still_b, 2, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.table, 1)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.combo_a.currentIndexChanged.connect(self.refresh)
        self.combo_b.currentIndexChanged.connect(self.refresh)
        self.refresh()
        self.resize(1120, 820)
        self._fit_screen()

    def _fit_screen(self) -> None:
        """Never taller or wider than the screen (820 px did not fit a 1280×720 laptop)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        avail = screen.availableGeometry()
        self.setMinimumSize(0, 0)
        self.resize(min(self.width(), avail.width() - 16), min(self.height(), avail.height() - 48))

    def refresh(self) -> None:
        a, b = self.combo_a.currentData(), self.combo_b.currentData()
        if a is None or b is None:
            return
        for pane, vid in ((self.still_a, a), (self.still_b, b)):
            stills = stills_for_visit(self.history, self.stills_dir, vid)
            date = self.history.visits[self.history.index_of(vid)].date
            pane.show_still(stills[0] if stills else None, f"{date:%d %b %Y}")
        self.rows = compare_visits(self.history, a, b)
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            unit = "" if row.unit.startswith("0–") else f" {row.unit}"
            spread_a = f" ± {_fmt(row.sd_a, row.unit)}" if row.sd_a is not None else ""
            spread_b = f" ± {_fmt(row.sd_b, row.unit)}" if row.sd_b is not None else ""
            cells = (
                row.label,
                f"{_fmt(row.a, row.unit)}{spread_a}{unit}" if row.a is not None else "—",
                f"{_fmt(row.b, row.unit)}{spread_b}{unit}" if row.b is not None else "—",
                _fmt(row.difference, row.unit, signed=True),
                _fmt(row.noise, row.unit),
                row.verdict,
            )
            tone = (
                "better" if row.exceeds_noise and row.better
                else "worse" if row.exceeds_noise and row.better is False
                else "noise"
            )  # fmt: skip
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == len(cells) - 1:
                    item.setBackground(QColor(VERDICT_COLORS[tone]))
                self.table.setItem(r, c, item)
