"""Entry point of the ``stride-clinic`` command: batch subcommands stay Qt-free, the GUI is lazy."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def _gui(*, demo: bool) -> int:
    from ui.application import run_gui

    return run_gui(demo=demo)


def main(argv: Sequence[str] | None = None) -> int:
    from app.cli import main as cli_main

    return cli_main(argv, gui=_gui)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
