"""Right-hand side of the annotation panel: marking buttons, live metrics, warnings."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, SignalInstance
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.analysis.events import EventType, Foot
from app.analysis.metrics import TemporalMetrics
from ui.stat_text import stat_cell, stat_tip

# key, foot, type, label
MARK_KEYS: list[tuple[str, Foot, EventType, str]] = [
    ("1", Foot.LEFT, EventType.INITIAL_CONTACT, "Left contact"),
    ("2", Foot.RIGHT, EventType.INITIAL_CONTACT, "Right contact"),
    ("3", Foot.LEFT, EventType.TOE_OFF, "Left toe-off"),
    ("4", Foot.RIGHT, EventType.TOE_OFF, "Right toe-off"),
]
FOOT_COLOURS = {Foot.LEFT: "#2b7bb9", Foot.RIGHT: "#e07b00"}


def _action_button(text: str, tip: str, signal: SignalInstance) -> QPushButton:
    """A sidebar button that never takes the keyboard focus (the marking keys stay live)."""
    button = QPushButton(text)
    button.setToolTip(tip)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    button.clicked.connect(signal)
    return button


class AnnotationSidebar(QWidget):
    mark_requested = Signal(object, object)  # Foot, EventType
    delete_requested = Signal()
    detect_requested = Signal()
    accept_all_requested = Signal()
    accept_high_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        marks = QGroupBox("Mark at this frame")
        grid = QGridLayout(marks)
        self.mark_buttons: list[QPushButton] = []
        for i, (key, foot, etype, label) in enumerate(MARK_KEYS):
            b = QPushButton(f"{label}   [{key}]")
            b.setToolTip(f"Mark a {label.lower()} at the current frame (key {key})")
            b.setStyleSheet(
                f"QPushButton {{ border-left: 6px solid {FOOT_COLOURS[foot]}; text-align: left; }}"
            )
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _=False, f=foot, t=etype: self.mark_requested.emit(f, t))
            grid.addWidget(b, i % 2 + (2 if etype is EventType.TOE_OFF else 0), 0)
            self.mark_buttons.append(b)
        self.delete_btn = _action_button(
            "Delete mark at this frame   [Del]",
            "Ctrl+← / Ctrl+→ move the marks on this frame by one frame; A accepts a proposal",
            self.delete_requested,
        )
        grid.addWidget(self.delete_btn, 4, 0)

        auto = QGroupBox("Automatic proposals")
        av = QVBoxLayout(auto)
        self.detect_btn = _action_button(
            "Detect contacts automatically…",
            "Runs a pose model on this video (on this computer, offline) and proposes every contact "
            "and toe-off. Your own marks are never overwritten.",
            self.detect_requested,
        )
        self.accept_btn = _action_button(
            "Accept all proposals",
            "Turn every automatic proposal into a reviewed mark (asks first when some have "
            "low confidence)",
            self.accept_all_requested,
        )
        self.accept_high_btn = _action_button(
            "Accept high-confidence only",
            "Accept the proposals the detector is confident about; review the rest one by one "
            "(U: next low-confidence proposal, A accept, R reject)",
            self.accept_high_requested,
        )
        self.review_label = QLabel("No marks yet.")
        self.review_label.setObjectName("reviewState")
        self.review_label.setStyleSheet("font-weight: 600;")
        self.review_label.setWordWrap(True)
        self.rule_label = QLabel()
        self.rule_label.setObjectName("muted")
        self.rule_label.setWordWrap(True)
        self.auto_label = QLabel("No proposals.")
        self.auto_label.setWordWrap(True)
        self.auto_label.setObjectName("muted")
        av.addWidget(self.detect_btn)
        av.addWidget(self.accept_btn)
        av.addWidget(self.accept_high_btn)
        av.addWidget(self.review_label)
        av.addWidget(self.auto_label)
        av.addWidget(self.rule_label)

        metrics = QWidget()
        mv = QVBoxLayout(metrics)
        self.cadence = QLabel("—")
        self.cadence.setObjectName("bigFigure")
        self.cadence.setStyleSheet("font-size: 20pt; font-weight: 600;")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["", "Left", "Right"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        h = self.table.horizontalHeader()
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        h.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.symmetry = QLabel()
        self.symmetry.setWordWrap(True)
        self.rate_note = QLabel()
        self.rate_note.setWordWrap(True)
        self.rate_note.setObjectName("muted")
        self.warnings = QLabel()
        self.warnings.setObjectName("warning")
        self.warnings.setWordWrap(True)
        self.warnings.hide()
        mv.addWidget(QLabel("Cadence"))
        mv.addWidget(self.cadence)
        mv.addWidget(self.table, 1)
        mv.addWidget(self.symmetry)
        mv.addWidget(self.rate_note)
        mv.addWidget(self.warnings)

        from ui.landing_view import LandingView

        self.landing = LandingView()
        self.tabs = QTabWidget()
        self.tabs.addTab(metrics, "Timing")
        self.tabs.addTab(self.landing, "Landing")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        layout.addWidget(marks)
        layout.addWidget(auto)
        layout.addWidget(self.tabs, 1)
        self.setMinimumWidth(280)
        self.show_metrics(None)

    def show_metrics(self, m: TemporalMetrics | None) -> None:
        rows: list[tuple[str, str, str]] = []
        tips: dict[tuple[int, int], str] = {}
        self.rate_note.setText(self._rate_note(m))
        self.cadence.setToolTip("")
        if m is None:
            self.cadence.setText("—")
            self.symmetry.setText("Mark contacts of both feet to see cadence and timing.")
        else:
            self.cadence.setText(f"{m.cadence_spm:.1f} steps/min" if m.cadence_spm else "—")
            if m.cadence_spm and m.cadence_fps_u is not None and m.fps:
                self.cadence.setToolTip(
                    f"± {m.cadence_fps_u:.2f} steps/min from the frame rate alone "
                    f"({m.fps:.0f} frames/s)"
                )
            timing = [
                ("Step time", m.step_time_s, " ms", 1000, "steps"),
                ("Contact time", m.contact_time_s, " ms", 1000, "contacts"),
                ("Flight time", m.flight_time_s, " ms", 1000, "steps"),
                ("Duty factor", m.duty_factor, " %", 100, "strides"),
            ]
            rows = [("Contacts", str(m.contacts.get("left", 0)), str(m.contacts.get("right", 0)))]
            rows += [
                (label, stat_cell(st["left"], unit, k), stat_cell(st["right"], unit, k))
                for label, st, unit, k, _ in timing
            ]
            tips = {
                (r, c): stat_tip(st[side], unit=unit, scale=k, digits=0, fps=m.fps, over=over)
                for r, (_, st, unit, k, over) in enumerate(timing, start=1)
                for c, side in ((1, "left"), (2, "right"))
            }
            rows = [((r[0] + "  ≈", *r[1:]) if r[0].lower() in m.unresolved else r) for r in rows]
            sym = [
                f"{label}: {v:+.1f} %"
                for label, v in (
                    ("step time", m.symmetry_pct.get("step_time")),
                    ("contact time", m.symmetry_pct.get("contact_time")),
                )
                if v is not None
            ]
            self.symmetry.setText(
                ("Left/right symmetry index (0 = symmetric, + = left longer) — " + ", ".join(sym))
                if sym
                else ""
            )
        self.table.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if (r, c) in tips:
                    item.setToolTip(tips[r, c])
                self.table.setItem(r, c, item)
        # Two-line cells (the frame-rate limit under the mean): rows grow, nothing is cut off.
        self.table.resizeRowsToContents()
        warnings = m.warnings if m is not None else []
        self.warnings.setText("\n".join(f"⚠ {w}" for w in warnings))
        self.warnings.setVisible(bool(warnings))

    @staticmethod
    def _rate_note(m: TemporalMetrics | None) -> str:
        if m is None or not m.fps:
            return ""
        text = (
            f"[±…] uncertainty of each mean from the frame rate alone ({m.fps:.0f} frames/s: "
            "each mark is only known to within its frame)."
        )
        if m.unresolved:
            text += (
                f" ≈ {', '.join(m.unresolved)}: the left/right difference is within it, so it "
                "is no evidence of an asymmetry."
            )
        return text

    def set_rule(self, text: str) -> None:
        """The review rule every figure follows, stated once under the review buttons."""
        self.rule_label.setText(text)

    def show_review(self, review, note: str = "") -> None:  # type: ignore[no-untyped-def]
        """ "12 of 65 reviewed", the proposals left, and the detector's note."""
        self.review_label.setText(review.text)
        self.show_proposals(review.proposals, review.low_confidence, note)
        self.accept_high_btn.setEnabled(review.proposals > review.low_confidence)

    def show_proposals(self, automatic: int, low_confidence: int, note: str = "") -> None:
        if automatic == 0:
            self.auto_label.setText(note or "No proposals.")
        else:
            text = f"{automatic} proposal(s) to review, drawn hollow (not yet in the figures)"
            if low_confidence:
                text += f", {low_confidence} with low confidence (highlighted on the timeline)"
            self.auto_label.setText(text + (f".\n{note}" if note else "."))
        self.accept_btn.setEnabled(automatic > 0)
