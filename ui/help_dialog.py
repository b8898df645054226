"""Help inside the program, offline: the user guide (resources/help/guide.html) and a
keyboard-shortcuts sheet built from the window's own menus, so it cannot drift from them."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMenu,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from resources import resource_path

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow

GUIDE = "help/guide.html"
SHORTCUTS_URL = "shortcuts"

#: The marking panel's keys (ui/annotation_panel.py); a test checks each one exists there.
def _marking_keys() -> tuple[tuple[str, str], ...]:
    """The Mark video keys, read from the panel's own key table (one source, never stale)."""
    from ui.annotation_keys import KEYMAP

    rows: list[tuple[str, str]] = []
    for key, _name, what in KEYMAP:
        if rows and rows[-1][1] == what:  # two keys for one thing: "Delete / Backspace"
            rows[-1] = (f"{rows[-1][0]} / {key}", what)
        else:
            rows.append((key, what))
    rows.append(("Ctrl+Z", "undo (Edit ▸ Undo names the step)"))
    rows.append(("Ctrl+Shift+Z / Ctrl+Y", "redo"))
    return tuple(rows)


MARKING_KEYS: tuple[tuple[str, str], ...] = _marking_keys()


def menu_shortcuts(window: QMainWindow) -> list[tuple[str, str, str]]:
    """(menu, command, key) of every menu command with a shortcut, in menu order."""
    out = []
    bar = window.menuBar()
    # findChildren, not QAction.menu(): a wrapper PySide6 hands back from menu() can own the
    # menu and delete it when collected.
    menus = {m.title(): m for m in bar.findChildren(QMenu)}
    for top in bar.actions():
        menu = menus.get(top.text())
        if menu is None:
            continue
        for action in menu.actions():
            key = action.shortcut()
            if action.isSeparator() or key.isEmpty():
                continue
            out.append(
                (
                    top.text().replace("&", ""),
                    action.text().replace("&", "").replace("…", ""),
                    key.toString(QKeySequence.SequenceFormat.NativeText),
                )
            )
    return out


def shortcuts_html(window: QMainWindow | None) -> str:
    """The keyboard-shortcuts sheet as HTML."""

    def table(rows: list[tuple[str, str]]) -> str:
        body = "".join(
            f"<tr><td style='padding:2px 16px 2px 0'><b>{html.escape(k)}</b></td>"
            f"<td>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        return f"<table cellspacing='0'>{body}</table>"

    parts = ["<h1>Keyboard shortcuts</h1>"]
    if window is not None:
        by_menu: dict[str, list[tuple[str, str]]] = {}
        for menu, command, key in menu_shortcuts(window):
            by_menu.setdefault(menu, []).append((key, command))
        for menu, rows in by_menu.items():
            parts.append(f"<h2>{html.escape(menu)} menu</h2>" + table(rows))
    parts.append(
        "<h2>Mark video</h2><p>With the video or its timeline focused:</p>"
        + table(list(MARKING_KEYS))
    )
    parts.append("<p><a href='guide'>Back to the user guide</a></p>")
    return "".join(parts)


class HelpDialog(QDialog):
    """A non-modal reader for the guide and the shortcuts sheet (links between them work)."""

    def __init__(self, window: QMainWindow | None, page: str = "guide",
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent or window)
        self.window_ = window
        self.setWindowTitle("Stride Clinic — help")
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(False)  # offline: nothing leaves the program
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._follow)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.resize(760, 620)  # fits 1280×720 with the window's frame
        self.show_page(page)

    def show_page(self, page: str) -> None:
        """``"guide"`` (optionally ``"guide#section"``) or ``"shortcuts"``."""
        name, _, anchor = page.partition("#")
        if name == SHORTCUTS_URL:
            self.browser.setHtml(shortcuts_html(self.window_))
            self.page = SHORTCUTS_URL
            return
        path = resource_path(GUIDE)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            text = f"<p>The user guide is missing from this installation ({html.escape(str(path))}).</p>"
        self.browser.setHtml(text)
        self.page = "guide"
        if anchor:
            self.browser.scrollToAnchor(anchor)

    def _follow(self, url: QUrl) -> None:
        target = url.toString()
        if target.startswith("#"):
            self.browser.scrollToAnchor(target[1:])
        elif target.split("#")[0] in ("guide", SHORTCUTS_URL):
            self.show_page(target)
        # any other link (there are none in the guide) is ignored: the help is offline
