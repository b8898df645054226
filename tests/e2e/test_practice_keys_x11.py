"""Practice by keys on a real X screen: Xvfb + openbox, real key presses and clicks from
xdotool (tests/e2e/x11.py): Space, M and End after a real click has put the focus on the
metronome's button, at the size of a small clinic screen."""

from __future__ import annotations

from tests.e2e.x11 import needs_x11_tools, run_on_x_screen


@needs_x11_tools
def test_practice_keys_on_a_real_x_screen() -> None:
    run_on_x_screen("tests/e2e/test_practice_keys.py", size="1280x720")
