"""Where the dual player opens from: Compare visits (best recording of each visit, with the
comparison table kept beside) and a recording filmed with a rear camera (same time zero)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from app.video.dual_sources import best_recording, other_view

if TYPE_CHECKING:
    from app.clinic import Clinic
    from ui.compare_dialog import CompareDialog
    from ui.dual_player import DualPlayerDialog

NO_VIDEO = "The visit of {date} has no recording to play."
NO_OTHER = ("This session has no {want} view to play with it. Film with the second camera "
            "(Capture ▸ Second camera) to get side and rear views in step.")  # fmt: skip


def add_play_button(dialog: CompareDialog, clinic: Clinic) -> QPushButton:
    """Put “Play both videos in step…” into the comparison's button row."""
    box = dialog.findChild(QDialogButtonBox)
    button = QPushButton("Play both videos in step…")
    button.setToolTip("The best recording of each visit side by side, linked at the first contact")
    dialog.play_note = QLabel("")  # type: ignore[attr-defined]
    dialog.play_note.setObjectName("muted")  # type: ignore[attr-defined]
    dialog.play_note.setWordWrap(True)  # type: ignore[attr-defined]
    layout = dialog.layout()
    layout.insertWidget(max(0, layout.count() - 1), dialog.play_note)  # type: ignore[attr-defined]
    box.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
    button.clicked.connect(lambda: play_compared(dialog, clinic))
    dialog.play_button = button  # type: ignore[attr-defined]
    return button


def comparison_table(dialog: CompareDialog) -> QTableWidget:
    """A compact copy of the comparison (measure, A, B, change, verdict) to keep beside."""
    cols = (0, 1, 2, 3, 5)
    src = dialog.table
    table = QTableWidget(src.rowCount(), len(cols))
    table.setHorizontalHeaderLabels([dialog.COLUMNS[c] for c in cols])
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    for r in range(src.rowCount()):
        for k, c in enumerate(cols):
            item = src.item(r, c)
            table.setItem(r, k, QTableWidgetItem(item.text() if item else ""))
    table.resizeColumnsToContents()
    return table


def play_compared(dialog: CompareDialog, clinic: Clinic) -> DualPlayerDialog | None:
    """The two visits chosen in the comparison, each by its best recording."""
    from ui.dual_player import open_dual

    history = dialog.history
    ids = []
    for combo in (dialog.combo_a, dialog.combo_b):
        vid = combo.currentData()
        row = history.visits[history.index_of(vid)]
        rid = best_recording(clinic.db, vid, row.measured_recording_id)
        if rid is None:
            dialog.play_note.setText(NO_VIDEO.format(date=f"{row.date:%d %b %Y}"))  # type: ignore[attr-defined]
            return None
        ids.append(rid)
    dialog.play_note.setText("")  # type: ignore[attr-defined]
    window = open_dual(clinic, ids[0], ids[1], link="event", parent=dialog,
                       beside=comparison_table(dialog))  # fmt: skip
    dialog.dual_window = window  # type: ignore[attr-defined]
    return window


def play_other_view(parent: QWidget, clinic: Clinic, recording_id: int) -> DualPlayerDialog | None:
    """The recording with the other camera of its session (side left, rear right), aligned by
    the cameras' shared time zero."""
    from app.db.models import Recording
    from ui.dual_player import open_dual

    other = other_view(clinic.db, recording_id)
    with clinic.db.session() as s:
        rec = s.get(Recording, recording_id)
        view = (rec.view or "side") if rec is not None else "side"
    if other is None:
        status = getattr(parent, "statusBar", None)
        want = "side" if view == "rear" else "rear"
        if status is not None:
            status().showMessage(NO_OTHER.format(want=want), 8000)
        return None
    side, rear = (other, recording_id) if view == "rear" else (recording_id, other)
    return open_dual(clinic, side, rear, link="time zero", parent=parent)
