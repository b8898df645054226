"""Backups in the desktop program: File ▸ Back up now / Restore backup…, automatic backups,
the start-up way out of a damaged database, and the safety menu the main window adds.

Wiring (see the lead's notes in the report):

* start-up: ``clinic = open_clinic_with_recovery(demo=demo)`` instead of
  ``open_clinic_or_explain`` (offers restoring the newest backup when the integrity check fails,
  then makes the start-up backup when one is due);
* after the main window is built: ``add_safety_menu(window)``.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME
from app.db.database import DatabaseCorrupt, DatabaseError, DatabaseLocked
from app.paths import DataFolderError, data_folder
from app.safety import backup as bk

if TYPE_CHECKING:
    from app.clinic import Clinic

log = logging.getLogger(__name__)
AUTO_BACKUP_CHECK_MS = 60 * 60 * 1000  # the timer checks hourly; the policy decides if due


class RestoreDialog(QDialog):
    """Lists every backup with what it contains; restores the chosen one."""

    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.kept: object = None
        self.setWindowTitle("Restore a backup")
        self.setMinimumWidth(640)
        intro = QLabel(
            "Choose the backup to go back to. Your current database is kept as a backup "
            "first, so nothing is lost if you change your mind. Videos are not part of these "
            "backups and are not changed."
        )
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.backups = bk.list_backups(clinic.folder.backups)
        for info in self.backups:
            item = QListWidgetItem(info.describe())
            item.setData(Qt.ItemDataRole.UserRole, str(info.path))
            if not info.ok:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.list.addItem(item)
        self.empty = QLabel("There are no backups yet. Use File ▸ Back up now.")
        self.empty.setVisible(not self.backups)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = QDialogButtonBox()
        self.restore_button = self.buttons.addButton(
            "Restore", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._restore)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list)
        layout.addWidget(self.empty)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        first_ok = next((i for i, b in enumerate(self.backups) if b.ok), None)
        if first_ok is not None:
            self.list.setCurrentRow(first_ok)

    def selected(self) -> bk.BackupInfo | None:
        row = self.list.currentRow()
        return self.backups[row] if 0 <= row < len(self.backups) else None

    def _restore(self) -> None:
        info = self.selected()
        if info is None or not info.ok:
            self.error.setText("Choose a usable backup first.")
            self.error.show()
            return
        try:
            self.kept = bk.restore_into_clinic(self.clinic, info.path)
        except bk.BackupError as exc:
            self.error.setText(exc.message)
            self.error.show()
            return
        self.accept()


def back_up_now(clinic: Clinic, parent: QWidget | None = None) -> bk.BackupInfo | None:
    """File ▸ Back up now: snapshot, rotate, and say where it went."""
    try:
        info = bk.backup_now(clinic)
    except bk.BackupError as exc:
        QMessageBox.warning(parent, "Backup failed", exc.message)
        return None
    if parent is not None and isinstance(parent, QMainWindow):
        parent.statusBar().showMessage(f"Backed up to {info.path.name}", 8000)
    return info


def restore_backup(window: QWidget, clinic: Clinic) -> bool:
    """File ▸ Restore backup…: choose, restore, and make the window show the restored data."""
    dialog = RestoreDialog(clinic, window)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    _after_restore(window)
    QMessageBox.information(window, "Backup restored", restored_message(clinic))
    return True


def restored_message(clinic: Clinic) -> str:
    """What the clinician is told after a restore, including videos that now belong to no visit."""
    text = (
        "The backup was restored. The database as it was just before is kept in the backups "
        "folder."
    )
    try:
        loose = bk.videos_without_record(clinic)
    except (OSError, bk.BackupError):
        return text
    if loose:
        n = len(loose)
        names = ", ".join(p.name for p in loose[:3]) + (" …" if n > 3 else "")
        text += (
            f"\n\n{n} video{'s' if n != 1 else ''} in the videos folder belong{'s' if n == 1 else ''} "
            f"to no visit of the restored database ({names}): probably filmed or imported after "
            f"this backup was made. They are kept, not deleted, in {clinic.videos_root}. Add "
            "them to a visit with “Import video…” (Patient & visits) if you need them."
        )
    return text


def _after_restore(window: QWidget) -> None:
    reload = getattr(window, "reload_patients", None)
    if callable(reload):
        reload()


def auto_backup_quietly(clinic: Clinic, parent: QWidget | None = None) -> bk.BackupInfo | None:
    """The start-up and timer backup: never interrupts the clinician, but a failure is shown.

    With a window, the failure goes into its safety banner; before the window exists (at
    start-up) it is kept in ``clinic.warnings``, which the banner shows once it is built.
    """
    try:
        return bk.auto_backup(clinic)
    except bk.BackupError as exc:
        log.warning("automatic backup failed (%s)", exc.kind or "unknown cause")
        text = "The automatic backup was not made. " + exc.message
        banner = getattr(getattr(parent, "safety", None), "banner", None)
        if isinstance(banner, SafetyBanner):
            banner.show_message(text)
        else:
            clinic.warnings.append(text)
        return None


class SafetyBanner(QToolBar):
    """A strip above the window's content for what must not go unnoticed (a failed backup, a
    changed audit trail). It stays until dismissed; it never blocks work."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Warnings", parent)
        self.setObjectName("safetyBanner")
        self.setMovable(False)
        self.setFloatable(False)
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(8, 4, 8, 4)
        self.label = QLabel()
        self.label.setObjectName("error")
        self.label.setWordWrap(True)
        self.dismiss = QPushButton("Dismiss")
        self.dismiss.clicked.connect(self.clear)
        row.addWidget(self.label, 1)
        row.addWidget(self.dismiss)
        self.addWidget(box)
        self.messages: list[str] = []
        self.hide()

    def show_message(self, text: str) -> None:
        if text in self.messages:
            return
        self.messages.append(text)
        self.label.setText("\n".join(self.messages))
        self.show()

    def clear(self) -> None:
        self.messages.clear()
        self.label.clear()
        self.hide()


class SafetyControls(QObject):
    """What :func:`add_safety_menu` adds; kept on the window as ``window.safety``."""

    def __init__(self, window: QMainWindow, clinic: Clinic) -> None:
        super().__init__(window)
        self.window = window
        self.clinic = clinic
        self.actions: dict[str, QAction] = {}
        self.backup_timer = QTimer(self)
        self.backup_timer.setInterval(AUTO_BACKUP_CHECK_MS)
        self.backup_timer.timeout.connect(lambda: auto_backup_quietly(clinic, window))
        self.backup_timer.start()
        self.idle_lock = None
        self.banner = SafetyBanner(window)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.banner)


def _menu(window: QMainWindow, title: str) -> QMenu:
    bar = window.menuBar()
    plain = title.replace("&", "")
    # findChildren, not QAction.menu(): PySide6 can hand back a wrapper that is already gone.
    for menu in bar.findChildren(QMenu):
        if menu.title().replace("&", "") == plain:
            return menu
    help_action = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
    menu = QMenu(title, bar)
    if help_action is not None:
        bar.insertMenu(help_action, menu)
    else:
        bar.addMenu(menu)
    return menu


def _add(
    window: QMainWindow, menu: QMenu, text: str, slot, before: QAction | None = None
) -> QAction:  # type: ignore[no-untyped-def]
    action = QAction(text, window)
    action.triggered.connect(slot)
    if before is not None:
        menu.insertAction(before, action)
    else:
        menu.addAction(action)
    return action


def add_safety_menu(window: QMainWindow, clinic: Clinic | None = None) -> SafetyControls:
    """Add File ▸ Back up now / Restore backup…, Tools ▸ Audit trail… / Clinician accounts…,
    the hourly automatic-backup timer and the idle lock to ``window`` (uses ``window.clinic``).
    """
    from ui.audit_view import open_audit_trail
    from ui.sign_in import AccountsDialog, IdleLock

    clinic = clinic or window.clinic  # type: ignore[attr-defined]
    controls = SafetyControls(window, clinic)
    file_menu = _menu(window, "&File")
    quit_action = next(
        (a for a in file_menu.actions() if a.text().replace("&", "") == "Quit"), None
    )
    # Insert before the separator that precedes Quit, so Quit stays last.
    actions = file_menu.actions()
    anchor = quit_action
    if quit_action is not None:
        i = actions.index(quit_action)
        if i > 0 and actions[i - 1].isSeparator():
            anchor = actions[i - 1]
    sep = file_menu.insertSeparator(anchor) if anchor is not None else file_menu.addSeparator()
    controls.actions["backup"] = _add(
        window, file_menu, "&Back up now", lambda: back_up_now(clinic, window), anchor
    )
    controls.actions["restore"] = _add(
        window, file_menu, "&Restore backup…", lambda: restore_backup(window, clinic), anchor
    )
    del sep
    tools = _menu(window, "&Tools")

    def accounts_dialog() -> None:
        from app.safety.accounts import is_admin

        if not is_admin(clinic.db):
            QMessageBox.information(
                window, "Clinician accounts", "Only an administrator can manage accounts."
            )
            return
        AccountsDialog(clinic, window).exec()

    controls.actions["audit"] = _add(
        window, tools, "&Audit trail…", lambda: open_audit_trail(clinic, window)
    )
    controls.actions["accounts"] = _add(window, tools, "Clinician &accounts…", accounts_dialog)
    if clinic.db.clinician_id is not None:
        controls.idle_lock = IdleLock(window, clinic)
    window.safety = controls  # type: ignore[attr-defined]
    for text in clinic.warnings:  # start-up findings (backup failed, audit trail changed...)
        controls.banner.show_message(text)
    clinic.warnings.clear()
    return controls


# --- start-up ------------------------------------------------------------------------------


def _ask_restore(message: str) -> bool:
    """The start-up question when the database is damaged (a function so tests can answer)."""
    box = QMessageBox(QMessageBox.Icon.Critical, f"{APP_NAME}: the database is damaged", message)
    restore = box.addButton("Restore the newest backup", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return box.clickedButton() is restore


def _ask_retry(message: str) -> bool:
    """The start-up question when another program holds the database (tests answer it)."""
    box = QMessageBox(QMessageBox.Icon.Warning, f"{APP_NAME}: the database is in use", message)
    again = box.addButton("Try again", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return box.clickedButton() is again


def _explain(title: str, message: str) -> None:
    QMessageBox.critical(None, title, message)
    print(f"stride-clinic: {message}", file=sys.stderr)


def open_clinic_with_recovery(*, demo: bool = False) -> Clinic | None:
    """Open the clinic; if the database fails its integrity check, offer the newest backup.

    The damaged file is kept (copied into the backups folder) before the backup is swapped in.
    After opening, a start-up backup is made when the newest is older than the policy's
    interval. Returns None when the program should not start (the reason was shown).
    """
    from app.clinic import open_clinic

    while True:
        try:
            clinic = _open_or_recover(open_clinic, demo)
        except DatabaseLocked as exc:
            # Held by another program: not damage. No restore is offered, nothing is changed;
            # the clinician closes the other program and tries again (or quits).
            if _ask_retry(exc.message):
                continue
            print(f"stride-clinic: {exc.message}", file=sys.stderr)
            return None
        break
    if clinic is None:
        return None
    auto_backup_quietly(clinic)
    return clinic


def _open_or_recover(open_clinic, demo: bool) -> Clinic | None:  # type: ignore[no-untyped-def]
    """One attempt: open, or (for a damaged database only) offer the newest backup."""
    try:
        clinic = open_clinic(demo=demo)
    except DatabaseCorrupt as exc:
        folder = data_folder(demo=demo)
        if not bk.list_backups(folder.backups):
            _explain(f"{APP_NAME} cannot start", exc.message + " There is no backup yet.")
            return None
        if not _ask_restore(exc.message + "\n\nStride Clinic can restore the newest backup now."):
            return None
        try:
            info = bk.restore_latest_backup(folder)
            clinic = open_clinic(demo=demo)
        except DatabaseLocked:
            raise
        except (bk.BackupError, DatabaseError) as err:
            _explain(f"{APP_NAME} cannot start", err.message)
            return None
        QMessageBox.information(
            None,
            "Backup restored",
            f"The backup of {info.describe()} was restored. Work entered after it must be "
            "entered again. Whatever was left of the damaged database was kept in the backups "
            "folder.",
        )
    except DatabaseLocked:
        raise
    except (DataFolderError, DatabaseError) as exc:
        _explain(f"{APP_NAME} cannot start", exc.message)
        return None
    return clinic
