"""Start-up of the desktop program: QApplication, start-up checks, the main window."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from app import APP_NAME, __version__
from app.clinic import Clinic, open_clinic
from app.errors import ClinicError
from app.logs import install_file_log
from app.paths import ENV_HOME, data_folder
from resources import resource_path

ORG = "StrideClinic"


def make_application(argv: list[str] | None = None) -> QApplication:
    # Qt Multimedia logs every optional library it cannot find; clinicians need none of that.
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false;qt.qpa.*=false")
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    QCoreApplication.setOrganizationName(ORG)
    QCoreApplication.setApplicationName("Stride Clinic")
    QCoreApplication.setApplicationVersion(__version__)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    home = os.environ.get(ENV_HOME)
    if home:
        # A separate data folder (a test, a benchmark, a second clinic) keeps its own window state.
        QSettings.setPath(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(Path(home) / "qt-settings")
        )
    from ui import gc_pin

    gc_pin.install(app)  # cycles holding Qt objects are only ever collected on this thread
    icon = resource_path("icons/stride-clinic.svg")
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    return app  # type: ignore[return-value]


def open_clinic_or_explain(*, demo: bool) -> Clinic | None:
    """Open the clinic; on failure show why and what to do (nothing is changed on disk)."""
    try:
        return open_clinic(demo=demo)
    except ClinicError as exc:  # DataFolderError, SettingsError, DatabaseError...
        QMessageBox.critical(None, f"{APP_NAME} cannot start", exc.message)
        print(f"stride-clinic: {exc.message}", file=sys.stderr)
        return None


def start_log_file(*, demo: bool) -> Path | None:
    """Write the log to the data folder too (the windowed build has no console)."""
    try:
        return install_file_log(data_folder(demo=demo).root)
    except OSError as exc:
        # The data folder is unusable: open_clinic explains that in plain words next.
        logging.getLogger(__name__).warning("no log file: %s", type(exc).__name__)
        return None


def run_gui(*, demo: bool = False) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    start_log_file(demo=demo)
    app = make_application()
    from ui.backup_dialog import add_safety_menu, open_clinic_with_recovery
    from ui.crash import install_excepthook

    # An error that escapes a slot or a thread is logged and shown in plain words (a database
    # error with its own message); the program keeps running.
    install_excepthook()
    from ui.sign_in import SignInCancelled, maybe_sign_in

    # Opens the clinic; if the database is damaged, offers the newest backup (kept safe first).
    clinic = open_clinic_with_recovery(demo=demo)
    if clinic is None:
        return 1
    if clinic.demo:
        from app.demo import ensure_demo_data

        ensure_demo_data(clinic)  # the entry point seeds the demo clinic; opening never does
    try:
        maybe_sign_in(clinic)  # no window unless a clinician account has a password
    except SignInCancelled:
        clinic.close()
        return 0
    from ui.main_window import MainWindow

    window = MainWindow(clinic)
    add_safety_menu(window)
    window.show()
    try:
        return app.exec()
    finally:
        clinic.close()
