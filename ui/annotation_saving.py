"""How the marking panel shows its background autosave: a banner while marks wait, signals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel

if TYPE_CHECKING:
    from app.annotation.autosave import AutoSaver


class SaveMonitor(QObject):
    """Turns an :class:`~app.annotation.autosave.AutoSaver`'s notices into the banner and signals.

    ``poll(saver)`` runs on the GUI thread (the panel's frame poll); the banner says how many
    marks wait and why, and hides once they are saved.
    """

    saved = Signal(object)  # the new events revision
    conflict = Signal(str)  # the clinician's message

    def __init__(self, banner: QLabel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.banner = banner
        self.error: str | None = None  # why marks are waiting (None: nothing waits)

    def show_pending(self, pending: int, reason: str | None) -> None:
        self.error = reason or "not yet saved"
        self.banner.setText(
            f"⚠ {pending} mark(s) not yet saved to the database"
            + (f" ({reason})" if reason else "")
            + ". They are kept safely on this computer and saved automatically as soon as "
            "possible; you can go on marking."
        )
        self.banner.show()

    def poll(self, saver: AutoSaver | None) -> None:
        if saver is None:
            return
        for notice in saver.take_notices():
            if notice.kind == "saved":
                if notice.pending_edits == 0 and self.error is not None:
                    self.error = None
                    self.banner.hide()
                self.saved.emit(notice.revision)
            elif notice.kind in ("retrying", "journal"):
                self.show_pending(notice.pending_edits, notice.message)
            elif notice.kind == "failed":
                self.error = notice.message
                self.banner.setText(f"⚠ {notice.message} Your last edits could not be saved.")
                self.banner.show()
            elif notice.kind == "conflict":
                self.conflict.emit(notice.message)
