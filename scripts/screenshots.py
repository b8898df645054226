"""Screenshots of every main screen, as a clinician sees them, on a real X screen.

Run by ``scripts/screenshots.sh`` (which starts Xvfb and openbox at each size). This script
opens the demo clinic in a throwaway data folder, maximises the main window, selects the demo
patient with the most visits, opens its first recording in "Mark video", visits every tab and
saves a grab of the whole screen (window frame included) as ``OUT/<size>/<n>-<tab>.png``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def main(out: Path) -> int:
    os.environ.setdefault("STRIDE_CLINIC_HOME", tempfile.mkdtemp(prefix="stride_shots_"))
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.clinic import open_clinic
    from app.demo import ensure_demo_data
    from ui.application import make_application
    from ui.main_window import MainWindow

    app = make_application()
    clinic = open_clinic(demo=True)
    ensure_demo_data(clinic)
    window = MainWindow(clinic)
    window.showMaximized()
    screen = app.primaryScreen()
    size = screen.size()
    folder = out / f"{size.width()}x{size.height()}"
    folder.mkdir(parents=True, exist_ok=True)

    def settle(ms: int = 600) -> None:
        loop = QEventLoop()  # not app.exec()/quit(): Qt 6's quit() closes every window
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    settle(1500)
    summary = getattr(window.patient_view, "summary", None)
    if summary is not None and summary.visits and summary.visits[-1].recordings:
        window.annotation.open_recording(summary.visits[-1].recordings[0].id)
    saved = []
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        settle(1200)
        name = re.sub(r"[^a-z0-9]+", "-", window.tabs.tabText(i).replace("&&", "and").lower())
        path = folder / f"{i + 1}-{name.strip('-')}.png"
        if shutil.which("import"):  # ImageMagick reads the X screen as the clinician sees it
            subprocess.run(["import", "-window", "root", str(path)], check=True)
        else:
            screen.grabWindow(0).save(str(path))
        saved.append(path)
    for path in saved:
        print(path)
    window.close()
    clinic.close()
    QApplication.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screens")))
