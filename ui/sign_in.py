"""Clinician sign-in at start-up, the idle lock, and the accounts dialog (administrators).

Sign-in is optional: until a clinician is given a password (Tools ▸ Clinician accounts…),
:func:`maybe_sign_in` returns at once and no window appears.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.db.models import Clinician
from app.safety import accounts

if TYPE_CHECKING:
    from app.clinic import Clinic


class SignInCancelled(Exception):
    """The clinician chose Quit at the sign-in window."""


class SignInDialog(QDialog):
    """Name + password. ``locked`` shows that the program was locked after being idle."""

    def __init__(self, clinic: Clinic, parent: QWidget | None = None, *, locked: bool = False):
        super().__init__(parent)
        self.clinic = clinic
        self.clinician: Clinician | None = None
        self.setWindowTitle("Stride Clinic — locked" if locked else "Sign in to Stride Clinic")
        self.setModal(True)
        self.setMinimumWidth(380)
        intro = QLabel(
            "Stride Clinic was locked because it was not used for a while. Sign in to continue."
            if locked
            else "Choose your name and enter your password."
        )
        intro.setWordWrap(True)
        self.name = QComboBox()
        self.name.setEditable(True)
        with clinic.db.session() as s:
            names = accounts.sign_in_names(s)
        self.name.addItems(list(names))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout()
        form.addRow("Clinician", self.name)
        form.addRow("Password", self.password)
        self.buttons = QDialogButtonBox()
        self.sign_in_button = self.buttons.addButton(
            "Sign in", QDialogButtonBox.ButtonRole.AcceptRole
        )
        # After repeated wrong passwords: the button waits as long as the account does.
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.timeout.connect(self._end_pause)
        self.buttons.addButton("Quit", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self._try_accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.password.setFocus()

    def _try_accept(self) -> None:
        try:
            self.clinician = accounts.sign_in(
                self.clinic.db, self.name.currentText(), self.password.text()
            )
        except accounts.SignInLocked as exc:
            self.error.setText(exc.message)
            self.error.show()
            self.sign_in_button.setEnabled(False)
            self._pause.start(int(exc.seconds * 1000) + 500)
            return
        except accounts.SignInError as exc:
            self.error.setText(exc.message)
            self.error.show()
            self.password.clear()
            return
        finally:
            # never keep the typed password in the widget longer than needed
            self.password.clear()
        self.accept()

    def _end_pause(self) -> None:
        self.sign_in_button.setEnabled(True)
        self.error.setText("You can try again now.")


def maybe_sign_in(clinic: Clinic, parent: QWidget | None = None) -> Clinician | None:
    """Ask who is working when accounts are in use; returns the clinician (None: not in use).

    Raises :class:`SignInCancelled` when the clinician chooses Quit (the caller exits).
    """
    with clinic.db.session() as s:
        if not accounts.accounts_enabled(s):
            return None
    dialog = SignInDialog(clinic, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.clinician is None:
        raise SignInCancelled()
    return dialog.clinician


class IdleLock(QObject):
    """Locks the program after ``idle_lock_minutes`` (settings ``extra``) without input.

    Watches keyboard and mouse events application-wide; when due, signs the clinician out
    (recorded as "lock" in the audit trail), hides the window's contents and shows the sign-in
    window. Only active when accounts are in use.
    """

    locked = Signal()
    unlocked = Signal()
    _INPUT = {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
    }

    def __init__(self, window: QWidget, clinic: Clinic, *, clock=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(window)
        self.window = window
        self.clinic = clinic
        minutes = accounts.idle_minutes(clinic.settings.extra)
        self.lock = accounts.IdleLock(minutes, clock) if clock else accounts.IdleLock(minutes)
        self.dialog: SignInDialog | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(15_000)
        self.timer.timeout.connect(self.check)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.timer.start()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() in self._INPUT and self.dialog is None:
            self.lock.touch()
        return False

    def check(self) -> None:
        if self.dialog is not None or not self.lock.due() or self.clinic.db.clinician_id is None:
            return
        self.lock_now()

    def lock_now(self) -> None:
        accounts.sign_out(self.clinic.db, reason="lock")
        central = getattr(self.window, "centralWidget", lambda: None)()
        if central is not None:
            central.setVisible(False)
        self.dialog = SignInDialog(self.clinic, self.window, locked=True)
        self.dialog.finished.connect(self._finished)
        self.locked.emit()
        self.dialog.open()

    def _finished(self, result: int) -> None:
        dialog, self.dialog = self.dialog, None
        if result != QDialog.DialogCode.Accepted or dialog is None or dialog.clinician is None:
            self.window.close()  # Quit chosen at the lock screen
            return
        central = getattr(self.window, "centralWidget", lambda: None)()
        if central is not None:
            central.setVisible(True)
        self.lock.touch()
        self.unlocked.emit()


class AccountsDialog(QDialog):
    """Administrators add clinicians with passwords and reset passwords."""

    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.setWindowTitle("Clinician accounts")
        self.setMinimumWidth(440)
        self.list = QListWidget()
        self.name = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.role = QComboBox()
        self.role.addItems(list(accounts.ROLES))
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Password", self.password)
        form.addRow("Role", self.role)
        self.save = QPushButton("Add account / set password")
        self.save.clicked.connect(self._save)
        # Said before the first password is given, not after: a password turns sign-in on.
        self.sign_in_warning = QLabel(
            "<b>Sign-in is off.</b> Giving a clinician a password here turns it on for the whole "
            "clinic: from then on Stride Clinic asks who is working when it starts and locks "
            "itself after a while without use. The first account becomes the administrator.<br>"
            "To only list clinicians for visits, use Edit ▸ Clinic settings ▸ Clinicians instead "
            "(no passwords)."
        )
        self.sign_in_warning.setObjectName("warning")
        self.sign_in_warning.setWordWrap(True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.sign_in_warning)
        layout.addWidget(self.list)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.save)
        layout.addWidget(close)
        self._reload()

    def _reload(self) -> None:
        self.list.clear()
        with self.clinic.db.session() as s:
            for c in accounts.clinicians_by_name(s):
                state = "password set" if c.password_hash else "no password"
                self.list.addItem(f"{c.name} — {c.role}, {state}")
            sign_in_on = accounts.accounts_enabled(s)
        self.sign_in_warning.setVisible(not sign_in_on)
        self.save.setText(
            "Set password / add account" if sign_in_on else "Give password and turn on sign-in"
        )

    def _save(self) -> None:
        name, password = " ".join(self.name.text().split()), self.password.text()
        self.password.clear()
        try:
            with self.clinic.db.session() as s:
                first = not accounts.accounts_enabled(s)
                role = "admin" if first else self.role.currentText()  # the first is the admin
                existing = accounts.clinician_named(s, name)
                if existing is None:
                    accounts.create_account(s, name, password, role=role)
                else:
                    accounts.set_password(s, existing.id, password, role=role)
        except accounts.SignInError as exc:
            self.error.setText(exc.message)
            self.error.show()
            return
        self.error.hide()
        self.name.clear()
        self._reload()
        if first:
            QMessageBox.information(
                self,
                "Sign-in is now on",
                f"{name} is the clinic's administrator. From now on Stride Clinic asks who is "
                "working when it starts and locks itself after a while without use.",
            )
