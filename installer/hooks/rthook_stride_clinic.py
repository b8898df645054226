"""Runtime hook: runs in the frozen program before ``ui.launcher`` is imported.

Qt must load plugins only from the bundle. PyInstaller's PySide6 hook sets ``QT_PLUGIN_PATH``
too; doing it here as well keeps that true whatever order the hooks run in. A clinic PC with
other Qt software may have ``QT_PLUGIN_PATH`` / ``QT_QPA_PLATFORM_PLUGIN_PATH`` pointing at a
different Qt build, whose plugins would fail to load ("could not load the Qt platform plugin
xcb") or crash the bundled Qt.
"""

from __future__ import annotations

import os
import sys

_bundle = getattr(sys, "_MEIPASS", None)
if _bundle:
    # PySide6 wheels keep plugins in PySide6/plugins on Windows, PySide6/Qt/plugins elsewhere.
    _qt = (
        os.path.join(_bundle, "PySide6")
        if os.name == "nt"
        else os.path.join(_bundle, "PySide6", "Qt")
    )
    _plugins = os.path.join(_qt, "plugins")
    if os.path.isdir(_plugins):
        os.environ["QT_PLUGIN_PATH"] = _plugins
    os.environ.pop("QT_QPA_PLATFORM_PLUGIN_PATH", None)
