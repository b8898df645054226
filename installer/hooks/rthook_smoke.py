"""Runtime hook for the smoke test: with ``STRIDE_CLINIC_SMOKE_EXIT_MS`` set, close after start-up.

Does nothing unless the variable is set. When it is, the first turn of the Qt event loop checks
that a main window is visible, prints one line ``stride-clinic smoke: main window shown ...``
with the wall-clock time (the smoke test subtracts its launch time to get the cold start), waits
the given milliseconds and closes the window through its normal ``closeEvent`` (so workers are
stopped as on a real exit). It also probes Qt Multimedia (the main window does not load it at
start-up). Exit code 0 when a main window appeared, 3 when none did, 4 when the window refused to
close, 5 when Qt Multimedia has no backend (its FFmpeg plugin did not load).
``STRIDE_CLINIC_SMOKE_SHOT=/path.png`` also saves a screenshot.

This lives in the bundle, not in ``ui/``, so the frozen program can be tested without changing
the application; if ``ui.application`` gains the same variable, delete this hook from the spec.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time


def _say(text: str, *, error: bool = False) -> None:
    """Print one line; a closed pipe (e.g. ``| grep -m1``) must not stop the shutdown."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr if error else sys.stdout, flush=True)


def _multimedia_ok() -> bool:
    """Qt Multimedia's FFmpeg backend loads (cameras are listed and the metronome plays through
    it); the main window does not touch it at start-up, so probe it here."""
    from PySide6.QtMultimedia import QMediaDevices, QMediaFormat

    cameras = len(QMediaDevices.videoInputs())
    outputs = len(QMediaDevices.audioOutputs())
    formats = len(QMediaFormat().supportedFileFormats(QMediaFormat.ConversionMode.Decode))
    _say(
        f"stride-clinic smoke: multimedia backend: {formats} decodable file formats, "
        f"{cameras} cameras, {outputs} audio outputs"
    )
    if formats == 0:
        _say("stride-clinic smoke: no Qt Multimedia backend loaded", error=True)
    return formats > 0


def _install(delay_ms: int) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    # exec() is static in PySide6 (called as app.exec() or QApplication.exec()).
    original_exec = QApplication.exec

    def _exec(*_args: object) -> int:
        app = QApplication.instance()

        def check() -> None:
            windows = [
                w
                for w in QApplication.topLevelWidgets()
                if isinstance(w, QMainWindow) and w.isVisible()
            ]
            if not windows:
                _say("stride-clinic smoke: no main window is visible", error=True)
                app.exit(3)
                return
            window = windows[0]
            _say(
                f"stride-clinic smoke: main window shown at {time.time():.3f}: "
                f"{type(window).__name__} {window.windowTitle()!r} "
                f"{window.width()}x{window.height()}"
            )
            shot = os.environ.get("STRIDE_CLINIC_SMOKE_SHOT")
            if shot:
                window.grab().save(shot)
            if not _multimedia_ok():
                app.exit(5)
                return

            def close() -> None:
                if not window.close():
                    _say("stride-clinic smoke: the main window refused to close", error=True)
                    app.exit(4)

            QTimer.singleShot(delay_ms, close)

        QTimer.singleShot(0, check)
        return original_exec()

    QApplication.exec = staticmethod(_exec)  # type: ignore[method-assign,assignment]


_delay = os.environ.get("STRIDE_CLINIC_SMOKE_EXIT_MS")
if _delay is not None:
    _install(max(0, int(_delay or 0)))
