"""The questions the marking panel asks (unsaved marks, conflicts, accepting proposals)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMessageBox,
    QSpinBox,
    QWidget,
)


def ask_frame_range(parent: QWidget, first: int, last: int, max_frame: int) -> tuple[int, int] | None:
    """ "Show on frames…": the from–to frames (both included) a drawing is kept on, or None."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("Show on frames")
    form = QFormLayout(dialog)
    note = QLabel("Keep this drawing on a range of frames (both ends included).")
    note.setWordWrap(True)
    form.addRow(note)
    boxes = []
    for text, value in (("From frame", first), ("To frame", last)):
        box = QSpinBox(dialog)
        box.setRange(0, max(0, max_frame))
        box.setValue(max(0, min(value, max_frame)))
        form.addRow(text, box)
        boxes.append(box)
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog
    )
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    a, b = boxes[0].value(), boxes[1].value()
    return (a, b) if a <= b else (b, a)


def ask_recovered_conflict(parent: QWidget, edits: int) -> str:
    """ "mine" (save the recovered edits over the other workstation's) or "theirs"."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Unsaved marks found")
    box.setText(
        f"{edits} edit(s) on this video from an earlier session were never saved, and the "
        "marks were changed on another workstation since. Which marks should be kept?"
    )
    theirs = box.addButton("Keep the other workstation's", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Use my unsaved marks", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(theirs)
    box.exec()
    return "theirs" if box.clickedButton() is theirs else "mine"


def ask_unsaved(parent: QWidget, n: int, what: str, reason: str | None) -> str:
    """ "wait" or "leave"; the edits are kept in the journal either way."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Marks not yet saved")
    box.setText(
        f"{n} mark(s) not yet saved: the database is busy"
        + (f" ({reason})" if reason else "")
        + ".\n\nIf you go on now they are kept safely on this computer and saved at the "
        "next start (or when this video is opened again)."
    )
    wait = box.addButton("Wait", QMessageBox.ButtonRole.RejectRole)
    box.addButton(f"{what[0].upper()}{what[1:]} anyway", QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(wait)
    box.exec()
    return "wait" if box.clickedButton() is wait else "leave"


def ask_conflict(parent: QWidget, message: str) -> str:
    """ "reload" (take the other workstation's marks) or "overwrite" (keep what is on screen)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Marks changed on another workstation")
    box.setText(message)
    reload_btn = box.addButton("Show their marks", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Keep mine and replace theirs", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(reload_btn)
    box.exec()
    return "reload" if box.clickedButton() is reload_btn else "overwrite"


def ask_accept_all(parent: QWidget, proposals: int, low: int) -> str:
    """Asked once when low-confidence proposals are among them: "all", "high" or "cancel"."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Accept all proposals")
    box.setText(
        f"{low} of the {proposals} proposals have low confidence (highlighted on the "
        "timeline). Accepted proposals count in every figure."
    )
    all_btn = box.addButton(f"Accept all {proposals}", QMessageBox.ButtonRole.AcceptRole)
    high = box.addButton("Accept high-confidence only", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(high)
    box.exec()
    clicked = box.clickedButton()
    return "all" if clicked is all_btn else "high" if clicked is high else "cancel"
