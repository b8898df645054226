"""The review flow on a real X screen: Xvfb + openbox, real key presses from xdotool.

Offscreen, Qt's Redo is Ctrl+Y; on X11 it is Ctrl+Shift+Z, which the old code bound twice so
that neither fired. This starts its own Xvfb and openbox (Debian: xvfb openbox xdotool, installed
by scripts/bootstrap.sh) and runs tests/e2e/test_review_flow.py there with STRIDE_X11_KEYS=1.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("Xvfb", "openbox", "xdotool")


def _missing() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


@pytest.mark.skipif(
    bool(_missing()), reason=f"needs {', '.join(TOOLS)} (apt-get install xvfb openbox xdotool)"
)
def test_review_keys_on_a_real_x_screen(tmp_path: Path) -> None:
    display = f":{random.randint(300, 900)}"
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", STRIDE_X11_KEYS="1")
    xvfb = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wm = None
    try:
        for _ in range(100):
            if Path(f"/tmp/.X11-unix/X{display[1:]}").exists():
                break
            time.sleep(0.05)
        wm = subprocess.Popen(
            ["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(0.5)  # the window manager takes the screen before the program starts
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "tests/e2e/test_review_flow.py",
                "-k",
                "keys",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        if wm is not None:
            wm.terminate()
            wm.wait(10)
        xvfb.terminate()
        xvfb.wait(10)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout
