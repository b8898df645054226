"""Run a GUI test module again on a real X screen: its own Xvfb and openbox (Debian: xvfb
openbox xdotool, installed by scripts/bootstrap.sh), the module run in a child pytest with
``STRIDE_X11_KEYS=1`` so that it presses real keys and clicks with xdotool.

Without a window manager, shortcuts stop reaching the window; offscreen, Qt's key bindings
differ from X11's (Redo: Ctrl+Y offscreen, Ctrl+Shift+Z on X11) and a click moves no focus.
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


def missing_tools() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


needs_x11_tools = pytest.mark.skipif(
    bool(missing_tools()), reason=f"needs {', '.join(TOOLS)} (apt-get install xvfb openbox xdotool)"
)


def run_on_x_screen(module: str, select: str | None = None, size: str = "1600x1000") -> str:
    """Run ``module`` (a path under the repository, optionally ``-k select``) on a fresh X
    screen with a window manager; fails the calling test with the child's output unless it
    passed. Returns the child's stdout."""
    display = f":{random.randint(300, 900)}"
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", STRIDE_X11_KEYS="1")
    xvfb = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
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
        args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", module]
        if select:
            args += ["-k", select]
        run = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    finally:
        if wm is not None:
            wm.terminate()
            wm.wait(10)
        xvfb.terminate()
        xvfb.wait(10)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout, run.stdout[-4000:]
    return run.stdout
