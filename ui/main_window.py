"""The main window: patient list on the left, the selected patient's work on the right."""

from __future__ import annotations

import gc
import os
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QToolButton,
    QWidget,
)

from app import APP_NAME
from app.changes import (
    MARKS,
    OUTCOMES,
    PATIENT,
    PATIENT_LIST,
    PRESCRIPTION,
    PROGRAM,
    RECORDING,
    SELECTION,
    VISIT,
    Changes,
)
from app.db.database import DatabaseError
from app.practice.report import visit_lines
from app.safety.audit import log_view
from ui.changes import ChangeHub, RefreshWhenShown
from ui.lazy_tab import LazyTab
from ui.main_menus import MenusMixin
from ui.main_recordings import RecordingsMixin
from ui.main_state import ElidedLabel, WindowStateMixin, scrolling
from ui.patient_actions import PatientActions
from ui.patient_list import PatientListPanel
from ui.patient_view import PatientView
from ui.style import STYLE_SHEET

if TYPE_CHECKING:
    from app.clinic import Clinic


_FROZEN = False  # gc.freeze() done (see MainWindow.__init__)


class MainWindow(MenusMixin, RecordingsMixin, WindowStateMixin, QMainWindow):
    """The composition of the window: panels, the change broadcast, patients and visits.

    Menus and their commands (ui.main_menus), the recording flow (ui.main_recordings) and
    the window's size and place (ui.main_state) live in their own modules.
    """

    def __init__(self, clinic: Clinic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.actions = PatientActions(clinic, self)
        self._last_patient_key = "main/last_patient_demo" if clinic.demo else "main/last_patient"
        title = APP_NAME + (" — DEMO clinic (fictional patients)" if clinic.demo else "")
        self.setWindowTitle(title)
        self.setStyleSheet(STYLE_SHEET)

        self.patient_list = PatientListPanel()
        self.patient_view = PatientView()
        self.patient_view.practice_lines = lambda vid: visit_lines(clinic.db, vid)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.patient_view, "Patient && visits")
        self._annotation_tab = LazyTab(self._build_annotation)
        self._capture_tab = LazyTab(self._build_capture)
        self._prescription_tab = LazyTab(self._build_prescription)
        self._history_tab = LazyTab(self._build_history)
        self._practice_tab = LazyTab(self._build_practice)
        self.tabs.addTab(self._annotation_tab, "Mark video")
        self.tabs.addTab(self._capture_tab, "Record")
        self.tabs.addTab(self._practice_tab, "Practice")
        self.tabs.addTab(self._prescription_tab, "Prescribe")
        self.tabs.addTab(self._history_tab, "History")
        self._current_visit: int | None = None
        # Window state, declared here rather than created on first use with getattr.
        self._capture_visit: int | None = None  # the visit the camera is filming for
        self._was_maximized = False  # before full-screen analysis
        self._close_waiting = False  # "Wait" chosen on close: closes once the marks are saved
        self.help_dialog = None  # ui.help_dialog.HelpDialog, made on first use
        self._linked_captures: dict[str, int] = {}
        self._tasks: list = []

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.patient_list)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([340, 940])
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        self.setCentralWidget(splitter)
        # The patient list folds away (View ▸ Show patient list, Ctrl+L, or this button), so
        # the marking and prescription screens get the whole width of a small laptop.
        self.list_toggle = QToolButton()
        self.list_toggle.setAutoRaise(True)
        self.list_toggle.clicked.connect(lambda: self.set_patient_list_visible(
            not self.patient_list.isVisible()))  # fmt: skip
        self.tabs.setCornerWidget(self.list_toggle, Qt.Corner.TopLeftCorner)

        self.db_label = ElidedLabel()
        self.db_label.setObjectName("muted")
        self.statusBar().addPermanentWidget(self.db_label, 1)
        self.db_label.set_full_text(
            ("Demo data · " if clinic.demo else "") + f"Data: {clinic.folder.root}"
        )

        # One change broadcast: every operation announces what it changed; the views below
        # reload from it (now if on screen, else when next shown), no per-view stale flags.
        self.changes = ChangeHub(self)
        self._history_refresh = RefreshWhenShown(
            self.changes, self._history_tab, self._show_history, self._history_wants,
            deferred=True,  # after the tab's panel is built on its first show
            on_screen=lambda: self.tabs.currentWidget() is self._history_tab,
        )  # fmt: skip
        self._patient_refresh = RefreshWhenShown(
            self.changes, self.patient_view, self._refresh_patient_keeping_visit,
            self._patient_view_wants, needed=False,
            on_screen=lambda: self.tabs.currentWidget() is self.patient_view,
        )  # fmt: skip

        self._build_menus()
        self.patient_list.patient_selected.connect(self._on_patient_selected)
        self.patient_list.new_requested.connect(self.new_patient)
        self.patient_list.edit_requested.connect(self.edit_patient)
        self.patient_list.delete_requested.connect(self.delete_patient)
        self.patient_view.new_visit_requested.connect(self.new_visit)
        self.patient_view.edit_visit_requested.connect(self.edit_visit)
        self.patient_view.delete_visit_requested.connect(self.delete_visit)
        self.patient_view.import_video_requested.connect(self.import_video)
        self.patient_view.home_program_requested.connect(self.home_program)
        self.patient_view.open_recording_requested.connect(self.open_recording)
        self.patient_view.play_views_requested.connect(self.play_views)  # side + rear, issue 20
        self.patient_view.visit_selected.connect(self._on_visit_selected)

        self.tabs.currentChanged.connect(self._on_tab_changed)
        last = QSettings().value(self._last_patient_key)
        self.reload_patients(select_id=int(last) if str(last or "").isdigit() else None)
        if self.current_patient_id() is None and self.patient_list.model.rowCount():
            self.patient_list.table.setCurrentIndex(self.patient_list.proxy.index(0, 0))
        self._restore_geometry()
        from ui.settings_dialog import show_settings_warnings

        self.settings_warning = show_settings_warnings(self, clinic)  # bad keys of settings.json
        # Everything built so far (modules, Qt wrappers, the patient rows) lives as long as the
        # window: keep it out of the cyclic collector's scans, which otherwise cost tens of ms
        # in the middle of opening a long history or filtering 10,000 patients. Once per
        # process: a later window (tests, a restore) must not pin the first one's leftovers.
        global _FROZEN
        if not _FROZEN:
            _FROZEN = True
            gc.freeze()
        # Marking edits an earlier session could not save (locked database, crash, "close
        # anyway") are in the journal: save them now, off the GUI thread.
        QTimer.singleShot(0, self._replay_unsaved_edits)

    def _replay_unsaved_edits(self) -> None:
        from app.annotation.journal import Journal, replay_pending
        from ui.tasks import BackgroundTask

        if not Journal(self.clinic.folder.root).pending():
            return
        db, root = self.clinic.db, self.clinic.folder.root
        task = BackgroundTask(lambda _p, _c: replay_pending(db, root), parent=self,
                              show_dialog=False)

        def done(outcomes) -> None:  # type: ignore[no-untyped-def]
            self._tasks.remove(task) if task in self._tasks else None
            saved = sum(o.edits for o in outcomes if o.status == "saved")
            if saved:
                self.changes.announce(MARKS)  # of any patient
                self.statusBar().showMessage(
                    f"Saved {saved} marking edit(s) left unsaved by an earlier session.", 8000
                )

        task.finished.connect(done)
        task.failed.connect(lambda _e: self._tasks.remove(task) if task in self._tasks else None)
        self._tasks.append(task)
        task.start()

    # --- panels, built on first use ---------------------------------------------------------
    @property
    def annotation(self):  # type: ignore[no-untyped-def]
        return self._annotation_tab.widget()

    @property
    def capture(self):  # type: ignore[no-untyped-def]
        return self._capture_tab.widget().widget()  # inside a scroll area

    @property
    def prescription(self):  # type: ignore[no-untyped-def]
        return self._prescription_tab.widget()

    def _build_annotation(self) -> QWidget:
        from ui.annotation_panel import AnnotationPanel

        panel = AnnotationPanel(self.clinic)
        # The recording's title (patient · date · file name) must not set the window's minimum
        # width: a long name pushed it to 1,339 px, past a 1280×720 screen. It is cut instead.
        title = getattr(panel, "title", None)
        if isinstance(title, QLabel):
            title.setMinimumWidth(80)
            title.setSizePolicy(QSizePolicy.Policy.Ignored, title.sizePolicy().verticalPolicy())
        panel.status_message.connect(lambda m: self.statusBar().showMessage(m, 5000))
        panel.events_saved.connect(
            lambda rid: self.changes.announce(MARKS, patient=self.current_patient_id())
        )
        # Edit ▸ Undo/Redo are the panel's own actions: one binding per key, named after the step.
        first = self.edit_menu.actions()[0] if self.edit_menu.actions() else None
        self.edit_menu.insertActions(first, [panel.undo_action, panel.redo_action])
        self.edit_menu.insertSeparator(first)
        return panel

    def _open_visit_recording(self) -> None:
        """Mark video chosen: open the selected visit's recording unless one of it is open."""
        summary, visit_id = self.patient_view.summary, self.patient_view.current_visit_id()
        if summary is None or visit_id is None:
            return
        visit = next((v for v in summary.visits if v.id == visit_id), None)
        recs = visit.recordings if visit else []
        if not recs or self.annotation.recording_id in {r.id for r in recs}:
            return
        side = [r for r in recs if r.view == "side"] or recs
        self.annotation.open_recording(side[0].id)

    def play_views(self, recording_id: int):  # type: ignore[no-untyped-def]
        """The recording and the other camera's view of the same session, in step."""
        from ui.dual_entry import play_other_view

        self._dual_window = play_other_view(self, self.clinic, recording_id)
        return self._dual_window

    def toggle_analysis_mode(self, on: bool) -> None:
        """Full-screen analysis: the marking panel fills the screen, the patient list hides."""
        # Leaving restores the list as View ▸ Show patient list says.
        self.patient_list.setVisible(not on and self.list_action.isChecked())
        if on:
            self._was_maximized = self.isMaximized()
            self.tabs.setCurrentWidget(self._annotation_tab)
            self.showFullScreen()
        elif self._was_maximized:
            self.showMaximized()
        else:
            self.showNormal()

    def _build_capture(self) -> QWidget:
        from ui.capture_panel import CapturePanel

        panel = CapturePanel(developer_sources=os.environ.get("STRIDE_CLINIC_DEV_SOURCES") == "1")
        panel.recording_saved.connect(lambda path, fps: self._link_capture(path, fps, "side"))
        panel.second_recording_finished.connect(
            lambda path, fps: self._link_capture(path, fps, "rear")
        )
        panel.recording_finished.connect(self._recording_finished)
        QTimer.singleShot(0, lambda: self._update_capture_destination())
        return scrolling(panel)

    @property
    def practice(self):  # type: ignore[no-untyped-def]
        return self._practice_tab.widget().widget()  # inside a scroll area

    def _build_practice(self) -> QWidget:
        """The Practice tab (ui.practice_panel): self-contained; it follows the selected visit,
        gives up its camera when another tab is shown, and announces saved sessions."""
        from ui.practice_panel import PracticePanel

        panel = PracticePanel(self.clinic)
        panel.status_message.connect(lambda m: self.statusBar().showMessage(m, 5000))
        panel.session_saved.connect(
            lambda vid: self.changes.announce(VISIT, patient=self.current_patient_id(), visit=vid)
        )
        panel.recording_saved.connect(
            lambda _p, _f: self.changes.announce(RECORDING, patient=self.current_patient_id())
        )
        panel.session_saved.connect(lambda _vid: self.patient_view.refresh_practice())
        self.patient_view.visit_selected.connect(panel.set_visit)
        self.tabs.currentChanged.connect(
            lambda _i: None if self.tabs.currentWidget() is self._practice_tab
            else panel.release_camera()
        )
        QTimer.singleShot(0, lambda: panel.set_visit(self.patient_view.current_visit_id()))
        return scrolling(panel)

    @property
    def history(self):  # type: ignore[no-untyped-def]
        return self._history_tab.widget()

    def _build_history(self) -> QWidget:
        from ui.history_view import HistoryView

        view = HistoryView(self.clinic)
        view.status_message.connect(lambda m: self.statusBar().showMessage(m, 5000))
        view.outcomes_saved.connect(
            lambda vid: self.changes.announce(OUTCOMES, patient=view.patient_id, visit=vid)
        )
        return view

    # --- what each view reloads on a change ----------------------------------------------------
    def _history_wants(self, changes: Changes) -> bool:
        # The history redrew itself after its own outcomes dialog; PATIENT_LIST is not its data.
        return changes.concerns(self.current_patient_id()) and changes.touches(
            SELECTION, PATIENT, VISIT, RECORDING, MARKS, PRESCRIPTION, PROGRAM
        )

    def _show_history(self) -> None:
        """The history costs ~0.25 s to draw: only when it is on screen, else on next show."""
        self.history.set_patient(self.current_patient_id())

    def _patient_view_wants(self, changes: Changes) -> bool:
        # Patient and visit edits refresh the view themselves (choosing the visit to select);
        # these come from other tabs or from the background (autosave, journal replay).
        return changes.concerns(self.current_patient_id()) and changes.touches(
            MARKS, PRESCRIPTION, OUTCOMES
        )

    def _refresh_patient_keeping_visit(self) -> None:
        self.refresh_patient(select_visit=self.patient_view.current_visit_id())

    def _build_prescription(self) -> QWidget:
        from ui.prescription_tab import PrescriptionTab

        tab = PrescriptionTab(self.clinic)
        tab.status_message.connect(lambda m: self.statusBar().showMessage(m, 5000))
        tab.saved.connect(  # the visits table and the history show the new target
            lambda vid: self.changes.announce(
                PRESCRIPTION, patient=self.current_patient_id(), visit=vid
            )
        )
        QTimer.singleShot(0, lambda: tab.set_visit(self._current_visit))
        return tab

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

    def _on_visit_selected(self, visit_id: int | None) -> None:
        self._current_visit = visit_id
        if self._prescription_tab.built:
            self.prescription.set_visit(visit_id)
        if self._capture_tab.built:
            self._update_capture_destination()

    def _on_tab_changed(self, index: int) -> None:
        tab = self.tabs.widget(index)
        if self._capture_tab.built:
            # The live camera runs only while its tab is shown (a recording is never stopped).
            if tab is self._capture_tab:
                self.capture.resume_camera()
            else:
                self.capture.release_camera()
        if isinstance(tab, LazyTab):
            with_cursor = not tab.built
            if with_cursor:
                self.setCursor(Qt.CursorShape.WaitCursor)
            tab.widget()
            if with_cursor:
                self.unsetCursor()
        if tab is self._annotation_tab:
            self._open_visit_recording()
            QTimer.singleShot(0, self.annotation.setFocus)  # stepping keys work at once
        if tab is self._prescription_tab:
            self.prescription.set_visit(self.patient_view.current_visit_id())
        # A change announced while the history or the patient view was hidden shows now.
        self._history_refresh.check()
        self._patient_refresh.check()

    def _on_patient_selected(self, patient_id: int | None) -> None:
        if patient_id is not None:
            try:
                log_view(self.clinic.db, patient_id)  # audit trail: who opened which record
            except DatabaseError as exc:  # locked/read-only: still show the record, say why
                self.statusBar().showMessage(
                    f"This view could not be noted in the audit trail. {exc.message}", 15000
                )
        self.changes.announce(SELECTION, patient=patient_id)
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
            self.changes.announce(PATIENT, PATIENT_LIST, patient=pid)
            self.statusBar().showMessage("Patient saved.", 4000)

    def edit_patient(self, patient_id: int) -> None:
        if self.actions.edit_patient(patient_id):
            self.reload_patients(select_id=patient_id)
            self.refresh_patient()
            self.changes.announce(PATIENT, PATIENT_LIST, patient=patient_id)
            self.statusBar().showMessage("Patient saved.", 4000)

    def delete_patient(self, patient_id: int) -> None:
        if self.actions.delete_patient(patient_id):
            self.reload_patients()
            self.patient_view.show_patient(
                None
            ) if self.current_patient_id() is None else self.refresh_patient()
            self.changes.announce(PATIENT, PATIENT_LIST, patient=patient_id)
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
            self.changes.announce(VISIT, PATIENT_LIST, patient=pid, visit=vid)
            self.statusBar().showMessage("Visit saved.", 4000)

    def edit_visit(self, visit_id: int) -> None:
        if self.actions.edit_visit(visit_id):
            self.refresh_patient(select_visit=visit_id)
            self.changes.announce(VISIT, patient=self.current_patient_id(), visit=visit_id)
            self.statusBar().showMessage("Visit saved.", 4000)

    def delete_visit(self, visit_id: int) -> None:
        if self.actions.delete_visit(visit_id):
            self.reload_patients(select_id=self.current_patient_id())
            self.refresh_patient()
            self.changes.announce(
                VISIT, PATIENT_LIST, patient=self.current_patient_id(), visit=visit_id
            )
            self.statusBar().showMessage("Visit deleted.", 4000)

    # --- home programs ----------------------------------------------------------------------
    def home_program(self) -> None:
        pid = self.current_patient_id()
        if pid is None:
            self.statusBar().showMessage("Select a patient first.", 4000)
            return
        from ui.home_program_dialog import open_home_program

        dialog = open_home_program(
            self,
            self.clinic,
            pid,
            on_create_prescription=lambda: self.tabs.setCurrentWidget(self._prescription_tab),
        )
        if dialog is not None:
            dialog.recorded.connect(lambda _id: self.changes.announce(PROGRAM, patient=pid))
            dialog.exec()

    def reprint_program(self) -> None:
        pid = self.current_patient_id()
        if pid is None:
            self.statusBar().showMessage("Select a patient first.", 4000)
            return
        from PySide6.QtWidgets import QInputDialog

        from app.reports.home_program import list_programs
        from ui.home_program_dialog import open_past_program

        with self.clinic.db.session() as s:
            programs = list_programs(s, self.clinic.folder.root, pid)
        if not programs:
            QMessageBox.information(
                self, "Home programs", "No home program has been printed for this patient yet."
            )
            return
        labels = [
            f"{p.title} — {p.printed_at:%Y-%m-%d %H:%M}" if p.printed_at else p.title
            for p in programs
        ]
        choice, ok = QInputDialog.getItem(
            self, "Reprint", "Program given to the runner:", labels, 0, False
        )
        if ok:
            dialog = open_past_program(self, self.clinic, programs[labels.index(choice)].id)
            if dialog is not None:
                dialog.exec()

    # --- closing -------------------------------------------------------------------------------
    def _unsaved_marks(self) -> int:
        return self.annotation.unsaved_edits() if self._annotation_tab.built else 0

    def _close_when_saved(self) -> None:
        """"Wait": close by itself once the marks are in the database (or ask again later)."""
        if self._unsaved_marks() == 0:
            self._close_waiting = False
            self.close()
        elif self._close_waiting:
            QTimer.singleShot(200, self._close_when_saved)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._unsaved_marks() and not self.annotation.confirm_leave("close"):
            event.ignore()
            self.statusBar().showMessage(
                "Waiting for the database to save your marks; the window closes by itself "
                "when they are saved.", 0
            )
            if not self._close_waiting:
                self._close_waiting = True
                QTimer.singleShot(200, self._close_when_saved)
            return
        self._close_waiting = False
        for task in list(self._tasks):
            task.cancel()
            task.wait(10000)
        for tab in (
            self._annotation_tab,
            self._capture_tab,
            self._prescription_tab,
            self._history_tab,
            self._practice_tab,
        ):
            if tab.built:
                panel = tab.widget()
                panel = panel.widget() if isinstance(panel, QScrollArea) else panel
                panel.shutdown()
        settings = QSettings()
        settings.setValue("main/geometry", self.saveGeometry())
        settings.setValue("main/splitter", self.splitter.saveState())
        if self.current_patient_id() is not None:
            settings.setValue(self._last_patient_key, self.current_patient_id())
        super().closeEvent(event)
