"""Entry point of the ``stride-clinic`` command: batch subcommands stay Qt-free, the GUI is lazy."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def _gui(*, demo: bool) -> int:
    if _no_display():
        print(
            "stride-clinic: no screen found (DISPLAY/WAYLAND_DISPLAY are not set). Start it from "
            "the desktop, or use a subcommand such as 'stride-clinic analyze VIDEO'.",
            file=sys.stderr,
        )
        return 2
    from ui.application import run_gui

    return run_gui(demo=demo)


def _render_pdf(content: object, path: object, page_size: str = "A4") -> int:
    """Qt's home-program renderer for ``stride-clinic program`` (offscreen without a screen).

    Draws into ``path`` (the checked temporary file of :func:`app.outputs.writing`)."""
    if _no_display():
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ui.home_program import ensure_gui_application, render_pdf

    ensure_gui_application()
    return render_pdf(content, path, page_size)  # type: ignore[arg-type]


def _no_display() -> bool:
    """On Linux without X11/Wayland, Qt would abort with a cryptic plugin error."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: Sequence[str] | None = None) -> int:
    from app.cli import main as cli_main

    return cli_main(argv, gui=_gui, render_pdf=_render_pdf)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
