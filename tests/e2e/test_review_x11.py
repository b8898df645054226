"""The review flow on a real X screen: Xvfb + openbox, real key presses from xdotool.

Offscreen, Qt's Redo is Ctrl+Y; on X11 it is Ctrl+Shift+Z, which the old code bound twice so
that neither fired. Runs tests/e2e/test_review_flow.py there (tests/e2e/x11.py).
"""

from __future__ import annotations

from tests.e2e.x11 import needs_x11_tools, run_on_x_screen


@needs_x11_tools
def test_review_keys_on_a_real_x_screen() -> None:
    run_on_x_screen("tests/e2e/test_review_flow.py", "keys")
