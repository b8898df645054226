"""Entry script of the frozen Stride Clinic (PyInstaller): the same ``main`` as the console command.

``ui.launcher.main`` runs a subcommand (``analyze``, ``metronome``, ``program``) or opens the
desktop program, exactly like ``.venv/bin/stride-clinic``.
"""

from __future__ import annotations

import multiprocessing
import sys

if __name__ == "__main__":
    # A frozen program re-executes itself for every multiprocessing child; without this call a
    # worker process would open a second main window instead of running its task.
    multiprocessing.freeze_support()
    from ui.launcher import main

    sys.exit(main())
