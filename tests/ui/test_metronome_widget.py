"""Metronome widget (offscreen, no sound device on the test machine)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QObject

from app.prescription.click_track import ClickTrack
from app.prescription.metronome import detect_onsets
from ui.metronome_widget import (
    AudioBackend,
    AudioUnavailable,
    MetronomeWidget,
    probe_audio,
)

SR = 44100


class FakeBackend(AudioBackend):
    """Plays nothing; renders the track when the test pulls, reports whatever play position
    the test sets and can fail on demand. Changes apply from what has been pulled."""

    instances: list[FakeBackend] = []

    def __init__(self, sr: int, parent: QObject | None = None):
        super().__init__(parent)
        self.sr = sr
        self.position = 0
        self.taken = 0
        self.track: ClickTrack | None = None
        self.lock: threading.Lock | None = None
        self.stopped = False
        FakeBackend.instances.append(self)

    def start(self, track: ClickTrack, lock: threading.Lock) -> None:
        self.track, self.lock = track, lock

    def stop(self) -> None:
        self.stopped = True

    def played_samples(self) -> int:
        return self.position

    def change(self, fn) -> None:  # type: ignore[no-untyped-def]
        assert self.track is not None
        fn(self.track, self.taken)

    def pull(self, n_samples: int) -> bytes:
        assert self.track is not None
        data = self.track.render(self.taken, self.taken + n_samples).astype("<i2").tobytes()
        self.taken += n_samples
        self.position = self.taken
        return data


@pytest.fixture
def fake_widget(qtbot):
    FakeBackend.instances.clear()
    w = MetronomeWidget(audio_factory=lambda sr, parent: FakeBackend(sr, parent), bpm=120)
    qtbot.addWidget(w)
    yield w
    w.stop()


def test_no_sound_device_says_so_and_visual_beat_advances(qtbot) -> None:
    w = MetronomeWidget(bpm=240)  # real Qt audio path: this machine has no usable output
    qtbot.addWidget(w)
    w.resize(400, 400)
    w.show()
    if probe_audio() is None:
        pytest.skip("this machine has a sound device")
    assert "Visual beat only" in w.status_text()
    w.start()
    assert w.is_running() and not w.audio_active()
    assert "Visual beat only" in w.status_text()
    # 240 bpm: a beat every 250 ms from the clock
    qtbot.waitUntil(lambda: w.current_beat() >= 2, timeout=3000)
    w.stop()
    assert not w.is_running()


def test_clock_mode_beats_follow_elapsed_time(qtbot) -> None:
    def unavailable(sr, parent):
        raise AudioUnavailable("No sound device found.")

    w = MetronomeWidget(audio_factory=unavailable, bpm=200)
    qtbot.addWidget(w)
    beats: list[int] = []
    w.beat.connect(lambda n, accent: beats.append(n))
    with qtbot.waitSignal(w.started, timeout=1000):
        w.start()
    assert "No sound device found" in w.status_text()
    qtbot.waitUntil(lambda: w.current_beat() >= 3, timeout=3000)
    assert beats[0] == 0 and beats == sorted(beats)
    w.set_bpm(201)  # live change in clock mode keeps running
    n = w.current_beat()
    qtbot.waitUntil(lambda: w.current_beat() >= n + 2, timeout=3000)
    with qtbot.waitSignal(w.stopped, timeout=1000):
        w.close()
    assert not w._timer.isActive()


def test_visual_beat_follows_audio_position_not_a_timer(qtbot, fake_widget) -> None:
    w = fake_widget
    w.set_accent_every(2)
    w.start()
    assert w.audio_active() and w.status_text() == ""
    backend = FakeBackend.instances[-1]
    # the device generates the click stream: 120 bpm -> beats every 22050 samples
    data = np.frombuffer(backend.pull(SR * 2), dtype="<i2")
    onsets = np.rint(detect_onsets(data, SR) * SR).astype(int)
    assert np.abs(onsets - np.array([0, 22050, 44100, 66150])).max() < SR / 1000
    backend.position = 0
    w._tick()
    assert w.current_beat() == 0
    backend.position = 22049
    w._tick()
    assert w.current_beat() == 0  # nothing played past the next beat yet: no flash
    backend.position = 22050
    w._tick()
    assert w.current_beat() == 1
    backend.position = 44100 + 10
    with qtbot.waitSignal(w.beat, timeout=1000) as sig:
        w._tick()
    assert sig.args == [2, True]


def test_plus_minus_buttons_change_tempo_live(qtbot, fake_widget) -> None:
    w = fake_widget
    w.start()
    backend = FakeBackend.instances[-1]
    backend.pull(30000)  # last beat played at 22050
    with qtbot.waitSignal(w.bpm_changed, timeout=1000) as sig:
        w._plus.click()
    assert sig.args == [121] and w.bpm() == 121
    w._minus.click()
    w._minus.click()
    assert w.bpm() == 119
    # the next beat is one new interval after the last beat
    nb = w._track.beats(30000, 30000 + SR)[0]
    assert nb.sample == 22050 + round(SR * 60 / 119)


def test_device_failure_falls_back_to_visual_beat(qtbot, fake_widget) -> None:
    w = fake_widget
    w.start()
    backend = FakeBackend.instances[-1]
    backend.pull(SR)
    with qtbot.waitSignal(w.audio_status_changed, timeout=1000):
        backend.failed.emit("The sound device stopped working.")
    assert backend.stopped and not w.audio_active() and w.is_running()
    assert "stopped working" in w.status_text() and "Visual beat only" in w.status_text()
    n = w.current_beat()
    qtbot.waitUntil(lambda: w.current_beat() >= n + 1, timeout=3000)


def test_stop_stops_backend_and_timer(qtbot, fake_widget) -> None:
    w = fake_widget
    w.start()
    backend = FakeBackend.instances[-1]
    w._start_btn.click()  # the Start button toggles to Stop
    assert backend.stopped and not w.is_running() and not w._timer.isActive()
    assert w._start_btn.text() == "Start metronome"
    w._start_btn.click()
    assert w.is_running() and w._start_btn.text() == "Stop metronome"


def test_volume_and_accent_reach_the_stream(qtbot, fake_widget) -> None:
    w = fake_widget
    w.start()
    w.set_volume(0.25)
    w.set_accent_every(4)
    assert w._track.volume_at(10**9) == 0.25 and w._track.accent_every_at(10**9) == 4
    w.set_volume(0)
    backend = FakeBackend.instances[-1]
    backend.pull(100)  # flush
    assert not np.frombuffer(backend.pull(SR), dtype="<i2").any()


def test_held_open_stop_silences_from_the_next_beat_and_start_resumes(qtbot, fake_widget) -> None:
    w = fake_widget
    w.keep_audio_open(True)
    w.start()
    backend = FakeBackend.instances[-1]
    backend.pull(30000)  # beats at 0 and 22050 taken
    w.stop()
    assert not w.is_running() and not backend.stopped  # the sound goes on, silent
    assert not np.frombuffer(backend.pull(SR * 2), dtype="<i2").any()
    w.start()
    data = np.frombuffer(backend.pull(SR * 2), dtype="<i2")
    onsets = detect_onsets(data, SR) * SR + 30000 + SR * 2
    # back on the same grid (every 22050 samples) from the first beat not yet taken (118200)
    assert np.abs(onsets - np.array([6, 7, 8, 9]) * 22050).max() < SR / 1000
    w.keep_audio_open(False)
    w.stop()
    assert backend.stopped


def test_planned_cue_switches_are_in_the_sound_ahead(qtbot, fake_widget) -> None:
    w = fake_widget  # 120 bpm: a beat every 0.5 s
    w.keep_audio_open(True)
    w.start()
    backend = FakeBackend.instances[-1]
    now = time.monotonic()
    w.plan_cue([(now + 1.25, False), (now + 2.25, True)])  # off for beats 3, 4
    data = np.frombuffer(backend.pull(SR * 4), dtype="<i2")
    onsets = np.rint(detect_onsets(data, SR) * SR / 22050).astype(int)
    assert list(onsets) == [0, 1, 2, 5, 6, 7]
    w.plan_cue([])
    w.keep_audio_open(False)
