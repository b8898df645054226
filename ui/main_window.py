"""The main window: patient list on the left, the selected patient's work on the right."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QWidget,
)

from app import APP_NAME, __version__
from ui.patient_actions import PatientActions
from ui.patient_list import PatientListPanel
from ui.patient_view import PatientView
from ui.style import STYLE_SHEET

if TYPE_CHECKING:
    from app.clinic import Clinic


class MainWindow(QMainWindow):
    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.actions = PatientActions(clinic, self)
        title = APP_NAME + (" — DEMO clinic (fictional patients)" if clinic.demo else "")
        self.setWindowTitle(title)
        self.setStyleSheet(STYLE_SHEET)

        self.patient_list = PatientListPanel()
        self.patient_view = PatientView()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.patient_view, "Patient && visits")

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.patient_list)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([380, 900])
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        self.setCentralWidget(splitter)

        self.db_label = QLabel()
        self.db_label.setObjectName("muted")
        self.statusBar().addPermanentWidget(self.db_label)
        self.db_label.setText(
            ("Demo data · " if clinic.demo else "") + f"Data: {clinic.folder.root}"
        )

        self._build_menus()
        self.patient_list.patient_selected.connect(self._on_patient_selected)
        self.patient_list.new_requested.connect(self.new_patient)
        self.patient_list.edit_requested.connect(self.edit_patient)
        self.patient_list.delete_requested.connect(self.delete_patient)
        self.patient_view.new_visit_requested.connect(self.new_visit)
        self.patient_view.edit_visit_requested.connect(self.edit_visit)
        self.patient_view.delete_visit_requested.connect(self.delete_visit)

        self.reload_patients()
        self._restore_geometry()

    # --- menus ---------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.new_patient_action = self._action(
            file_menu, "&New patient…", QKeySequence.StandardKey.New, self.new_patient
        )
        self._action(file_menu, "New &visit…", QKeySequence("Ctrl+Shift+N"), self.new_visit)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)

        edit_menu = self.menuBar().addMenu("&Edit")
        self._action(edit_menu, "&Find patient", QKeySequence.StandardKey.Find, self._focus_search)
        self._action(
            edit_menu,
            "&Edit patient…",
            QKeySequence("Ctrl+E"),
            lambda: self._with_patient(self.edit_patient),
        )

        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, f"&About {APP_NAME}", None, self.about)

    def _action(self, menu, text, shortcut, slot) -> QAction:  # type: ignore[no-untyped-def]
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _focus_search(self) -> None:
        self.patient_list.search.setFocus()
        self.patient_list.search.selectAll()

    def about(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<h3>{APP_NAME} {__version__}</h3>"
            "<p>Running-gait retraining for physiotherapists: film the runner, mark heel strikes, "
            "measure cadence and overstride, prescribe a cadence, print a home program.</p>"
            f"<p>Data folder: {self.clinic.folder.root}<br>Database: {self.clinic.db.url}</p>"
            "<p>Clinical figures and their sources are listed in the documentation. "
            "Stride Clinic supports, and does not replace, clinical judgement.</p>",
        )

    # --- patients ------------------------------------------------------------------------------
    def reload_patients(self, select_id: int | None = None) -> None:
        self.patient_list.set_rows(self.actions.rows(), select_id=select_id)
        if self.patient_list.current_id() is None:
            self.patient_view.show_patient(None)

    def current_patient_id(self) -> int | None:
        return self.patient_list.current_id()

    def _with_patient(self, fn) -> None:  # type: ignore[no-untyped-def]
        pid = self.current_patient_id()
        if pid is None:
            self.statusBar().showMessage("Select a patient first.", 4000)
            return
        fn(pid)

    def _on_patient_selected(self, patient_id: int | None) -> None:
        self.patient_view.show_patient(self.actions.summary(patient_id) if patient_id else None)

    def refresh_patient(self, select_visit: int | None = None) -> None:
        pid = self.current_patient_id()
        self.patient_view.show_patient(
            self.actions.summary(pid) if pid else None, select_visit=select_visit
        )

    def new_patient(self) -> None:
        pid = self.actions.create_patient()
        if pid is not None:
            self.patient_list.search.clear()
            self.reload_patients(select_id=pid)
            self.statusBar().showMessage("Patient saved.", 4000)

    def edit_patient(self, patient_id: int) -> None:
        if self.actions.edit_patient(patient_id):
            self.reload_patients(select_id=patient_id)
            self.refresh_patient()
            self.statusBar().showMessage("Patient saved.", 4000)

    def delete_patient(self, patient_id: int) -> None:
        if self.actions.delete_patient(patient_id):
            self.reload_patients()
            self.patient_view.show_patient(
                None
            ) if self.current_patient_id() is None else self.refresh_patient()
            self.statusBar().showMessage("Patient deleted.", 4000)

    # --- visits --------------------------------------------------------------------------------
    def new_visit(self) -> None:
        pid = self.current_patient_id()
        if pid is None:
            self.statusBar().showMessage("Select a patient first.", 4000)
            return
        vid = self.actions.create_visit(pid)
        if vid is not None:
            self.reload_patients(select_id=pid)
            self.refresh_patient(select_visit=vid)
            self.statusBar().showMessage("Visit saved.", 4000)

    def edit_visit(self, visit_id: int) -> None:
        if self.actions.edit_visit(visit_id):
            self.refresh_patient(select_visit=visit_id)
            self.statusBar().showMessage("Visit saved.", 4000)

    def delete_visit(self, visit_id: int) -> None:
        if self.actions.delete_visit(visit_id):
            self.reload_patients(select_id=self.current_patient_id())
            self.refresh_patient()
            self.statusBar().showMessage("Visit deleted.", 4000)

    # --- window state --------------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        settings = QSettings()
        geometry = settings.value("main/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1360, 860)
        state = settings.value("main/splitter")
        if isinstance(state, QByteArray):
            self.splitter.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        for i in range(self.tabs.count()):
            widget = self.tabs.widget(i)
            shutdown = getattr(widget, "shutdown", None)
            if callable(shutdown):
                shutdown()
        settings = QSettings()
        settings.setValue("main/geometry", self.saveGeometry())
        settings.setValue("main/splitter", self.splitter.saveState())
        super().closeEvent(event)
