"""A throwaway PulseAudio server with a null output, and a recorder of what is played to it.

For the metronome test (tests/e2e/test_practice_audio.py) and benchmarks/practice.py: the
program plays to the server's only output, a null sink; ``parec`` records its monitor, so the
check sees exactly what the program played. Debian packages ``pulseaudio`` and
``pulseaudio-utils`` (``scripts/bootstrap.sh`` installs them where it can). The server and the
recorder get real-time scheduling where allowed (a desktop's sound server has it, through
rtkit): on a machine shared with other work, a recorder that wakes late loses samples, and
the measurement, not the program, would be wrong.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from app.prescription.metronome import detect_onsets

RATE = 44100


def unavailable_reason() -> str | None:
    for tool in ("pulseaudio", "parec", "pactl"):
        if shutil.which(tool) is None:
            return (f"{tool} is not installed (Debian: pulseaudio, pulseaudio-utils), so the "
                    "played metronome cannot be recorded")  # fmt: skip
    return None


def _realtime() -> list[str]:
    if shutil.which("chrt") is None:
        return []
    ok = subprocess.run(["chrt", "-r", "10", "true"], capture_output=True).returncode == 0
    return ["chrt", "-r", "10"] if ok else []


class NullSink:
    """``with NullSink(folder) as env:`` a running server; ``env`` for the program's process."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.server: subprocess.Popen[bytes] | None = None
        self.recorder: subprocess.Popen[bytes] | None = None
        run = self.folder / "pulse"
        run.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ, PULSE_RUNTIME_PATH=str(run), XDG_RUNTIME_DIR=str(run),
                        HOME=str(self.folder), PULSE_SERVER=f"unix:{run}/native")  # fmt: skip
        self._run = run

    def __enter__(self) -> dict[str, str]:
        rt = _realtime()
        self.server = subprocess.Popen(
            [*rt, "pulseaudio", "-n", "--daemonize=no", "--realtime=yes", "--high-priority=yes",
             "--exit-idle-time=-1", "--use-pid-file=no", "--system=false",
             "-L", f"module-native-protocol-unix socket={self._run}/native auth-anonymous=1",
             "-L", f"module-null-sink sink_name=stride_null rate={RATE} channels=1",
             "-L", "module-always-sink"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(100):
            if subprocess.run(["pactl", "info"], env=self.env, capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            self.close()
            raise RuntimeError("the PulseAudio test server did not start")
        subprocess.run(["pactl", "set-default-sink", "stride_null"], env=self.env, check=True)
        if rt:  # all the server's threads: its main thread passes the clients' data
            subprocess.run(["chrt", "-a", "-r", "-p", "10", str(self.server.pid)], capture_output=True)
        return self.env

    def record(self, raw: Path) -> None:
        """Start recording what is played (16-bit mono) into ``raw``."""
        out = raw.open("wb")
        self.recorder = subprocess.Popen(
            [*_realtime(), "parec", "--device=stride_null.monitor", "--format=s16le",
             f"--rate={RATE}", "--channels=1", "--raw", "--latency-msec=100"],
            env=self.env, stdout=out,
        )  # fmt: skip
        out.close()
        time.sleep(0.5)

    def stop_recording(self) -> None:
        if self.recorder is not None:
            time.sleep(0.5)
            self.recorder.terminate()
            self.recorder.wait(10)
            self.recorder = None

    def close(self) -> None:
        self.stop_recording()
        if self.server is not None:
            self.server.terminate()
            self.server.wait(10)
            self.server = None

    def __exit__(self, *exc: object) -> None:
        self.close()


def beat_check(raw: Path, bpm: float) -> dict[str, object]:
    """The recorded beats against the grid: each beat's place ``k`` and its error (ms).

    The first and the last click are cut by the sound device starting and stopping (seen: the
    first gap 5.6 ms short, the last 17 ms long); every beat between is measured.
    """
    samples = np.frombuffer(raw.read_bytes(), dtype="<i2").astype(np.float64)
    onsets = detect_onsets(samples, RATE)
    period = 60.0 / bpm
    inner = onsets[1:-1]
    if inner.size < 2:
        return {"onsets": int(onsets.size), "inner": inner, "k": np.zeros(0, int),
                "off_ms": np.zeros(0)}  # fmt: skip
    k = np.rint((inner - inner[0]) / period).astype(int)
    off_ms = (inner - inner[0] - k * period) * 1000
    return {"onsets": int(onsets.size), "first_s": float(onsets[0]), "inner": inner, "k": k,
            "off_ms": off_ms}  # fmt: skip
