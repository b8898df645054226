"""The selected patient: summary and visits, with the visit's recordings."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.records.measurements import ReviewCount
from app.records.summary import PatientSummary, VisitSummary

REVIEW_COLUMN = 7
REVIEW_TIP = (
    "Marks reviewed in Mark video. Figures use reviewed marks only: automatic proposals are "
    "not counted until you accept them."
)


def review_tooltip(review: ReviewCount) -> str:
    if review.unreviewed:
        return (
            f"{review.unreviewed} unreviewed proposal(s) not counted in the figures: "
            "open the recording in Mark video to review them."
        )
    return REVIEW_TIP


class PatientView(QWidget):
    """Header with the patient's details, then the list of visits (newest first)."""

    visit_selected = Signal(object)  # int | None
    new_visit_requested = Signal()
    edit_visit_requested = Signal(int)
    delete_visit_requested = Signal(int)
    import_video_requested = Signal(int)  # visit id
    home_program_requested = Signal()
    open_recording_requested = Signal(int)  # recording id
    play_views_requested = Signal(int)  # recording id: play it with the other camera's view

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = QLabel()
        self.name.setObjectName("patientName")
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QLabel()
        self.details.setObjectName("muted")
        self.complaint = QLabel()
        self.complaint.setWordWrap(True)

        self.visits = QTableWidget(0, 8)
        self.visits.setHorizontalHeaderLabels(
            ["Date", "Clinician", "Speed", "Cadence", "Target", "Pain running", "Videos", "Review"]
        )
        self.visits.horizontalHeaderItem(REVIEW_COLUMN).setToolTip(REVIEW_TIP)
        self.visits.verticalHeader().hide()
        self.visits.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.visits.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.visits.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.visits.setAlternatingRowColors(True)
        h = self.visits.horizontalHeader()
        h.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.visits.currentCellChanged.connect(self._on_visit_changed)
        self.visits.cellDoubleClicked.connect(lambda *_: self._emit(self.edit_visit_requested))

        self.visit_notes = QLabel()
        self.visit_notes.setWordWrap(True)
        self.visit_notes.setObjectName("muted")

        self.new_btn = QPushButton("New visit…")
        self.new_btn.clicked.connect(self.new_visit_requested)
        self.edit_btn = QPushButton("Edit visit…")
        self.edit_btn.clicked.connect(lambda: self._emit(self.edit_visit_requested))
        self.del_btn = QPushButton("Delete visit…")
        self.del_btn.clicked.connect(lambda: self._emit(self.delete_visit_requested))
        self.program_btn = QPushButton("Home program…")
        self.program_btn.setToolTip(
            "Print or save the runner's home program (target cadence, metronome, run plan, exercises)"
        )
        self.program_btn.clicked.connect(self.home_program_requested)
        buttons = QHBoxLayout()
        for b in (self.new_btn, self.edit_btn, self.del_btn):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.program_btn)

        self.recordings = QListWidget()
        self.recordings.setMaximumHeight(140)
        self.recordings.itemDoubleClicked.connect(lambda _i: self._open_recording())
        self.recordings.currentRowChanged.connect(lambda _r: self._update_recording_buttons())
        self.import_btn = QPushButton("Import video…")
        self.import_btn.setToolTip(
            "Copy a video file into this visit (the original is left untouched)"
        )
        self.import_btn.clicked.connect(lambda: self._emit(self.import_video_requested))
        self.open_btn = QPushButton("Open for marking")
        self.open_btn.setToolTip("Step through the video and mark heel strikes and toe-offs")
        self.open_btn.clicked.connect(self._open_recording)
        self.views_btn = QPushButton("Play side + rear…")
        self.views_btn.setToolTip(
            "Play the side and rear views of this session together, in step (issue 20)"
        )
        self.views_btn.clicked.connect(self._play_views)
        rec_buttons = QHBoxLayout()
        rec_buttons.addWidget(self.import_btn)
        rec_buttons.addWidget(self.open_btn)
        rec_buttons.addWidget(self.views_btn)
        rec_buttons.addStretch(1)

        # The visit's practice sessions (Practice tab), one line each; filled through
        # ``practice_lines(visit_id)`` when the window provides it; hidden when there are none.
        self.practice_lines: Callable[[int], list[str]] | None = None
        self.practice_title = QLabel("Practice sessions of this visit")
        self.practice_title.setObjectName("sectionTitle")
        self.practice = QListWidget()
        self.practice.setMaximumHeight(100)
        self.practice.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)

        self.empty = QLabel("Select a patient on the left, or create a new one.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setObjectName("placeholder")

        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.name)
        body.addWidget(self.details)
        body.addWidget(self.complaint)
        visits_title = QLabel("Visits")
        visits_title.setObjectName("sectionTitle")
        body.addSpacing(8)
        body.addWidget(visits_title)
        body.addWidget(self.visits, 1)
        body.addWidget(self.visit_notes)
        body.addLayout(buttons)
        rec_title = QLabel("Recordings of this visit")
        rec_title.setObjectName("sectionTitle")
        body.addSpacing(8)
        body.addWidget(rec_title)
        body.addWidget(self.recordings)
        body.addLayout(rec_buttons)
        body.addWidget(self.practice_title)
        body.addWidget(self.practice)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.body, 1)
        self.summary: PatientSummary | None = None
        self.show_patient(None)

    def show_patient(
        self, summary: PatientSummary | None, *, select_visit: int | None = None
    ) -> None:
        keep = select_visit if select_visit is not None else self.current_visit_id()
        self.summary = summary
        self.empty.setVisible(summary is None)
        self.body.setVisible(summary is not None)
        self.visits.setRowCount(0)
        if summary is None:
            self.visit_selected.emit(None)
            return
        self.name.setText(summary.full_name)
        self.details.setText(summary.details)
        self.complaint.setText(summary.complaint or "No complaint recorded.")
        visits = sorted(summary.visits, key=lambda v: (v.date, v.id), reverse=True)
        self.visits.setRowCount(len(visits))
        target_row = 0
        for row, v in enumerate(visits):
            cells = [
                v.date.isoformat(),
                v.clinician or "—",
                f"{v.speed_kmh:g} km/h" if v.speed_kmh is not None else "—",
                f"{v.cadence_spm:.0f} spm" if v.cadence_spm is not None else "—",
                f"{v.target_spm} spm" if v.target_spm is not None else "—",
                f"{v.pain_running}/10" if v.pain_running is not None else "—",
                str(len(v.recordings)),
                v.review.text if v.recordings else "—",
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, v.id)
                if v.notes:
                    item.setToolTip(v.notes)
                self.visits.setItem(row, col, item)
            review = self.visits.item(row, REVIEW_COLUMN)
            review.setToolTip(review_tooltip(v.review))
            if v.review.unreviewed:
                f = review.font()
                f.setBold(True)  # this visit still needs review
                review.setFont(f)
            if v.id == keep:
                target_row = row
        if visits:
            self.visits.setCurrentCell(target_row, 0)
        self._update()

    def current_visit_id(self) -> int | None:
        item = (
            self.visits.item(self.visits.currentRow(), 0) if self.visits.currentRow() >= 0 else None
        )
        return int(item.data(Qt.ItemDataRole.UserRole)) if item else None

    def _on_visit_changed(self, *_args: int) -> None:
        self._update()
        self.visit_selected.emit(self.current_visit_id())

    def _update(self) -> None:
        vid = self.current_visit_id()
        self.edit_btn.setEnabled(vid is not None)
        self.del_btn.setEnabled(vid is not None)
        notes = ""
        if self.summary and vid is not None:
            v = next((x for x in self.summary.visits if x.id == vid), None)
            notes = v.notes if v else ""
        self.visit_notes.setText(notes)
        if self.summary is not None and not self.summary.visits:
            self.visit_notes.setText("No visits yet. Start with “New visit…”.")
        self.recordings.clear()
        visit = self._visit(vid)
        if visit is not None:
            for r in visit.recordings:
                fps = f"{r.capture_fps:.4g} fps" if r.capture_fps else "fps unknown"
                frames = f"{r.frames} frames" if r.frames else ""
                marked = f"{r.contacts} contacts marked" if r.contacts else "not marked yet"
                if r.review.total:
                    marked += f" · {r.review.text}"
                item = QListWidgetItem(
                    f"{r.name}   ·   {r.view} view · {fps} · {frames} · {marked}"
                )
                item.setData(Qt.ItemDataRole.UserRole, r.id)
                item.setToolTip(review_tooltip(r.review))
                self.recordings.addItem(item)
            if visit.recordings:
                self.recordings.setCurrentRow(len(visit.recordings) - 1)
        self.recordings.setEnabled(visit is not None)
        self.import_btn.setEnabled(visit is not None)
        self._update_recording_buttons()
        self._show_practice(vid)

    def refresh_practice(self) -> None:
        """Read the selected visit's practice sessions again (one was saved)."""
        self._show_practice(self.current_visit_id())

    def _show_practice(self, vid: int | None) -> None:
        lines: list[str] = []
        if vid is not None and self.practice_lines is not None:
            try:
                lines = self.practice_lines(vid)
            except Exception:  # noqa: BLE001 - a locked database: the rest of the view stands
                lines = ["The practice sessions could not be read just now."]
        self.practice.clear()
        self.practice.addItems(lines)
        self.practice_title.setVisible(bool(lines))
        self.practice.setVisible(bool(lines))

    def _visit(self, vid: int | None) -> VisitSummary | None:
        if self.summary is None or vid is None:
            return None
        return next((x for x in self.summary.visits if x.id == vid), None)

    def current_recording_id(self) -> int | None:
        item = self.recordings.currentItem()
        return int(item.data(Qt.ItemDataRole.UserRole)) if item else None

    def _update_recording_buttons(self) -> None:
        self.open_btn.setEnabled(self.current_recording_id() is not None)
        visit = self._visit(self.current_visit_id())
        views = {r.view for r in visit.recordings} if visit is not None else set()
        self.views_btn.setEnabled({"side", "rear"} <= views)

    def _play_views(self) -> None:
        rid = self.current_recording_id()
        if rid is not None:
            self.play_views_requested.emit(rid)

    def _open_recording(self) -> None:
        rid = self.current_recording_id()
        if rid is not None:
            self.open_recording_requested.emit(rid)

    def _emit(self, signal: Signal) -> None:  # type: ignore[valid-type]
        vid = self.current_visit_id()
        if vid is not None:
            signal.emit(vid)  # type: ignore[attr-defined]
