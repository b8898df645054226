"""The main window's menus and the commands that are only menu entries (help, about, settings).

A mixin of :class:`ui.main_window.MainWindow`: it uses the window's ``clinic``, ``patient_list``
and ``list_toggle`` and the commands the window defines (``new_patient``, ``home_program``...).
"""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

from app import APP_NAME, __version__


def _build_info() -> str:
    """Build date and commit of a packaged installation (written by installer/), else ""."""
    import json

    from resources import resource_path

    try:
        info = json.loads(resource_path("build_info.json").read_text(encoding="utf-8"))
        return f"{info.get('build_date', '')} · {info.get('git_commit', '')[:12]}"
    except (OSError, ValueError, AttributeError):
        return ""


class MenusMixin:
    """File, Edit, View and Help of the main window."""

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.new_patient_action = self._action(
            file_menu, "&New patient…", QKeySequence.StandardKey.New, self.new_patient
        )
        self._action(file_menu, "New &visit…", QKeySequence("Ctrl+Shift+N"), self.new_visit)
        self._action(
            file_menu, "&Import video into visit…", QKeySequence("Ctrl+I"), self._import_for_current
        )
        file_menu.addSeparator()
        self._action(file_menu, "&Home program…", QKeySequence.StandardKey.Print, self.home_program)
        self._action(file_menu, "&Reprint an earlier home program…", None, self.reprint_program)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)

        edit_menu = self.menuBar().addMenu("&Edit")
        self.edit_menu = edit_menu
        self._action(edit_menu, "&Find patient", QKeySequence.StandardKey.Find, self._focus_search)
        edit_menu.addSeparator()
        self._action(
            edit_menu,
            "Clinic &settings…",
            QKeySequence.StandardKey.Preferences,
            self.clinic_settings,
        )
        self._action(
            edit_menu,
            "&Edit patient…",
            QKeySequence("Ctrl+E"),
            lambda: self._with_patient(self.edit_patient),
        )

        view_menu = self._menu("&View")
        self.list_action = self._action(
            view_menu, "Show &patient list", QKeySequence("Ctrl+L"),
            lambda on: self.set_patient_list_visible(bool(on)),
        )  # fmt: skip
        self.list_action.setCheckable(True)
        self.list_action.setChecked(True)
        self.analysis_mode_action = self._action(
            view_menu,
            "Full-screen &analysis",
            QKeySequence("F11"),
            self.toggle_analysis_mode,
        )
        self.analysis_mode_action.setCheckable(True)
        self.analysis_mode_action.setToolTip(
            "Mark video on the whole screen, without the patient list (again to leave)"
        )

        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&User guide", QKeySequence.StandardKey.HelpContents,
                     lambda: self.show_help("guide"))  # fmt: skip
        self._action(help_menu, "&Keyboard shortcuts", QKeySequence("Ctrl+/"),
                     lambda: self.show_help("shortcuts"))  # fmt: skip
        help_menu.addSeparator()
        self._action(help_menu, f"&About {APP_NAME}", None, self.about)

    def _action(self, menu, text, shortcut, slot) -> QAction:  # type: ignore[no-untyped-def]
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _menu(self, title: str):  # type: ignore[no-untyped-def]
        """The menu called ``title``, created if no other part of the window added it yet."""
        # findChildren, not QAction.menu(): PySide6 can hand back a wrapper it then owns, and
        # collecting that wrapper deletes the real menu (the Edit menu vanished that way).
        plain = title.replace("&", "")
        for menu in self.menuBar().findChildren(QMenu):
            if menu.title().replace("&", "") == plain:
                return menu
        return self.menuBar().addMenu(title)

    def set_patient_list_visible(self, visible: bool) -> None:
        """Show or fold away the patient list (remembered for the next start)."""
        self.patient_list.setVisible(visible)
        self.list_action.setChecked(visible)
        self.list_toggle.setText("◀" if visible else "▶ Patients")
        self.list_toggle.setToolTip(
            ("Hide" if visible else "Show") + " the patient list (Ctrl+L)"
        )
        QSettings().setValue("main/patient_list_visible", visible)

    def show_help(self, page: str = "guide") -> None:
        """The user guide or the keyboard-shortcuts sheet, in one non-modal window."""
        from ui.help_dialog import HelpDialog

        dialog = self.help_dialog
        if dialog is None:
            dialog = self.help_dialog = HelpDialog(self, page)
        else:
            dialog.show_page(page)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def _focus_search(self) -> None:
        self.patient_list.search.setFocus()
        self.patient_list.search.selectAll()

    def clinic_settings(self) -> None:
        from ui.settings_dialog import ClinicSettingsDialog

        ClinicSettingsDialog(self.clinic, self).exec()

    def about_box(self) -> QMessageBox:
        """The About box, with a button to the user guide (its text used to point at “the
        documentation” without saying where)."""
        build = _build_info()
        box = QMessageBox(self)
        box.setWindowTitle(f"About {APP_NAME}")
        box.setIcon(QMessageBox.Icon.Information)
        box.setText(
            f"<h3>{APP_NAME} {__version__}</h3>"
            + (f"<p>Build {build}</p>" if build else "")
            + "<p>Running-gait retraining for physiotherapists: film the runner, mark heel strikes, "
            "measure cadence and overstride, prescribe a cadence, print a home program.</p>"
            f"<p>Data folder: {self.clinic.folder.root}<br>Database: {self.clinic.db.url}</p>"
            "<p>How to film, mark, prescribe and print: <b>Help ▸ User guide</b> (F1); "
            "keys: <b>Help ▸ Keyboard shortcuts</b>. The demo's treadmill clip is MIT-licensed "
            "(zzzhushi/running-gait-analysis; see resources/demo/NOTICE.md). "
            "Stride Clinic supports, and does not replace, clinical judgement.</p>"
        )
        guide = box.addButton("Open the user guide", QMessageBox.ButtonRole.ActionRole)
        guide.clicked.connect(lambda: self.show_help("guide"))
        box.addButton(QMessageBox.StandardButton.Close)
        return box

    def about(self) -> None:
        self.about_box().exec()
