"""What goes into the Stride Clinic bundle and what stays out (read by ``stride-clinic.spec``).

Kept in a plain module so ``tests/app/test_installer_files.py`` can check the lists against what
the program really imports, without running PyInstaller.
"""

from __future__ import annotations

import re

APP_NAME = "stride-clinic"
DISPLAY_NAME = "Stride Clinic"
BUNDLE_ID = "org.strideclinic.StrideClinic"

#: Shown by macOS the first time Stride Clinic opens a camera (Info.plist).
CAMERA_USAGE = (
    "Stride Clinic films the runner on the treadmill so you can review each foot landing frame "
    "by frame. Videos stay on this computer."
)

#: Qt modules Stride Clinic never imports. ui/ uses QtCore, QtGui, QtWidgets, QtSvg,
#: QtPrintSupport and QtMultimedia; pyqtgraph adds QtOpenGL, QtOpenGLWidgets and QtTest at import.
#: Excluding a Python module keeps its Qt libraries, plugins, QML files and translations out.
QT_EXCLUDES: tuple[str, ...] = tuple(
    f"PySide6.{name}"
    for name in [
        "Qt3DAnimation",
        "Qt3DCore",
        "Qt3DExtras",
        "Qt3DInput",
        "Qt3DLogic",
        "Qt3DRender",
        "QtAxContainer",
        "QtBluetooth",
        "QtCharts",
        "QtConcurrent",
        "QtDataVisualization",
        "QtDBus",
        "QtDesigner",
        "QtGraphs",
        "QtGraphsWidgets",
        "QtHelp",
        "QtHttpServer",
        "QtLocation",
        "QtMultimediaWidgets",
        "QtNetworkAuth",
        "QtNfc",
        "QtPdf",
        "QtPdfWidgets",
        "QtPositioning",
        "QtQml",
        "QtQuick",
        "QtQuick3D",
        "QtQuickControls2",
        "QtQuickTest",
        "QtQuickWidgets",
        "QtRemoteObjects",
        "QtScxml",
        "QtSensors",
        "QtSerialBus",
        "QtSerialPort",
        "QtSpatialAudio",
        "QtSql",
        "QtStateMachine",
        "QtSvgWidgets",
        "QtTextToSpeech",
        "QtUiTools",
        "QtWebChannel",
        "QtWebEngineCore",
        "QtWebEngineQuick",
        "QtWebEngineWidgets",
        "QtWebSockets",
        "QtWebView",
        "QtXml",
    ]
)

#: Other packages kept out of the bundle.
OTHER_EXCLUDES: tuple[str, ...] = (
    # one Qt binding only: a second one makes PyInstaller's run-time check abort the start
    "PyQt5",
    "PyQt6",
    "PySide2",
    "shiboken2",
    # MediaPipe's metadata asks for these but solutions.pose never imports them
    # (shared/docs/pose-model.md); tkinter is only a matplotlib GUI backend.
    "tkinter",
    "_tkinter",
    "jax",
    "jaxlib",
    "torch",
    "tensorflow",
    "sentencepiece",
    "sounddevice",
    # mediapipe.tasks.python imports the genai package itself, never its converter or bundler
    "mediapipe.tasks.python.genai.converter",
    "mediapipe.tasks.python.genai.bundler",
    "mediapipe.model_maker",
    "mediapipe.util.sequence",
    # developer tools that optional imports (pandas, matplotlib) would otherwise drag in
    "IPython",
    "jupyter_client",
    "notebook",
    "pytest",
    "pytestqt",
    "hypothesis",
    "pypdf",
    "sphinx",
    "docutils",
)

EXCLUDES: tuple[str, ...] = QT_EXCLUDES + OTHER_EXCLUDES

#: Qt plugins (and the libraries only they need) that PySide6's hooks collect but a desktop clinic
#: program never loads: the on-screen virtual keyboard, the PDF image-format plugin (pulls QtPdf;
#: home programs are *written* through QtGui), and kiosk/embedded platforms (eglfs, linuxfb,
#: vnc, Vulkan display). Matched against file names on every system.
UNUSED_QT_BINARY = re.compile(
    r"^(lib)?(qtvirtualkeyboardplugin|qt6virtualkeyboard(qml)?|qpdf|qt6pdf|qeglfs.*|qt6eglfs.*"
    r"|qvnc|qlinuxfb|qvkkhrdisplay|qminimalegl)[.]",
    re.IGNORECASE,
)

#: PySide6 modules the bundle must contain (the smoke test and the tests check these).
QT_REQUIRED: tuple[str, ...] = (
    "PySide6.QtCore",
    "PySide6.QtGui",
    "PySide6.QtWidgets",
    "PySide6.QtSvg",
    "PySide6.QtPrintSupport",
    "PySide6.QtMultimedia",
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtTest",
)
