"""The Practice tab with a file-backed camera (real footage at its real rate; no real camera)."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from app.capture.errors import CameraBusyError
from app.capture.fakes import RealRateFileSource, UnavailableSource, UnpluggedSource
from app.practice.session import State
from app.practice.store import sessions_for_visit
from app.records import measurements
from app.records.patients import PatientData, create_patient
from app.records.visits import VisitData, create_visit
from ui.metronome_widget import AudioUnavailable
from ui.practice_panel import PracticePanel
from ui.runner_view import RunnerView

CLIP = "treadmill_run_side_30fps.mp4"


def _no_audio(_sr, _parent):  # type: ignore[no-untyped-def]
    raise AudioUnavailable("No sound device in the tests.")


@pytest.fixture
def visit(clinic):  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        p = create_patient(s, PatientData(full_name="Ana Ruiz"))
        v = create_visit(s, p.id, VisitData(visit_date=dt.date(2026, 3, 2)))
        vid = v.id
    with clinic.db.session() as s:
        measurements.save_prescription(s, vid, {"target_spm": 172, "baseline_spm": 164, "percent": 5})
    return vid


@pytest.fixture
def panel(qtbot, clinic):  # type: ignore[no-untyped-def]
    w = PracticePanel(clinic, audio_factory=_no_audio)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.shutdown()


def test_live_cadence_from_the_clip_then_saved(qtbot, panel, visit, shared_data, clinic) -> None:
    panel.set_visit(visit)
    assert panel.target_spin.value() == 172 and "this visit" in panel.target_note.text()
    panel.add_camera("test:clip", "clip", lambda: RealRateFileSource(shared_data / CLIP, loop=True))
    panel.setFocus()
    qtbot.keyClick(panel, Qt.Key.Key_Space)  # start
    assert panel.session is not None and panel.session.state is State.RUNNING
    qtbot.waitUntil(lambda: panel.cadence_label.text() != "—", timeout=10000)
    cadence = float(panel.cadence_label.text())
    assert 163 <= cadence <= 175  # the clip runs at 168.9 spm
    assert panel.band_label.text() == "TOO SLOW · quicker steps" or abs(cadence - 172) <= 2
    assert panel.metronome.is_running()  # faded schedule: the metronome starts on
    assert panel.runner.big_text() == panel.cadence_label.text()
    qtbot.keyClick(panel, Qt.Key.Key_M)  # the clinician silences it
    qtbot.waitUntil(lambda: not panel.metronome.is_running(), timeout=2000)
    qtbot.wait(1200)
    qtbot.keyClick(panel, Qt.Key.Key_End)  # stop
    qtbot.waitUntil(lambda: panel.last_saved_id is not None, timeout=5000)
    assert not panel.metronome.is_running()
    saved = sessions_for_visit(clinic.db, visit)
    assert len(saved) == 1
    got = saved[0]
    assert got.target_spm == 172 and got.tolerance_spm == 2.0
    measured = [s.spm for s in got.samples if s.spm is not None]
    assert measured and all(160 < x < 180 for x in measured)
    assert got.spans[0][2] is True and got.spans[-1][2] is False
    assert any("clinician" in n for n in got.notes)
    assert "saved with the visit" in panel.result_label.text()


def test_no_camera_the_metronome_still_runs(qtbot, panel, visit, clinic) -> None:
    panel.set_visit(visit)
    panel.add_camera("test:busy", "busy", lambda: UnavailableSource(CameraBusyError()))
    panel.start_or_pause()
    qtbot.waitUntil(lambda: "another program" in panel.camera_state.text(), timeout=5000)
    assert "session goes on" in panel.camera_state.text()
    assert panel.camera_button.text() == "Retry camera"
    assert panel.metronome.is_running()
    assert panel.cadence_label.text() == "—"
    qtbot.wait(1100)
    panel.stop()
    qtbot.waitUntil(lambda: panel.last_saved_id is not None, timeout=5000)
    got = sessions_for_visit(clinic.db, visit)[0]
    assert got.samples and all(s.spm is None for s in got.samples)


def test_camera_stops_mid_session(qtbot, panel, visit, shared_data, clinic) -> None:
    panel.set_visit(visit)
    make = lambda: UnpluggedSource(RealRateFileSource(shared_data / CLIP), after_frames=150)  # noqa: E731
    panel.add_camera("test:unplug", "unplugs", make)
    panel.start_or_pause()
    qtbot.waitUntil(lambda: panel.cadence_label.text() != "—", timeout=8000)
    qtbot.waitUntil(lambda: "session goes on" in panel.camera_state.text(), timeout=8000)
    assert panel.session.state is State.RUNNING and panel.metronome.is_running()
    qtbot.waitUntil(lambda: panel.cadence_label.text() == "—", timeout=4000)
    qtbot.wait(1200)  # at least one more 1 Hz sample, without a camera
    panel.stop()
    qtbot.waitUntil(lambda: panel.last_saved_id is not None, timeout=5000)
    got = sessions_for_visit(clinic.db, visit)[0]
    spm = [s.spm for s in got.samples]
    assert any(x is not None for x in spm) and spm[-1] is None  # measured, then not


def test_without_a_visit_nothing_starts(qtbot, panel) -> None:
    panel.set_visit(None)
    assert not panel.start_button.isEnabled()
    panel.start_or_pause()
    assert panel.session is None


def test_runner_view_states(qtbot) -> None:
    v = RunnerView()
    qtbot.addWidget(v)
    v.show()
    v.set_state(None, None, 172, "Nobody is moving in view of the camera.")
    assert v.big_text() == "—" and "Nobody" in v.band_text()
    v.set_state(171.6, "on", 172, cue=True)
    assert v.big_text() == "172" and v.band_text() == "ON TARGET"
    v.flash()
    assert v._level() > 0.5
    v.grab()  # paints without error
    qtbot.keyClick(v, Qt.Key.Key_F11)
    assert v.isFullScreen()
    qtbot.keyClick(v, Qt.Key.Key_Escape)
    assert not v.isFullScreen()


def test_no_camera_message_is_said_once_in_full(qtbot, panel) -> None:  # type: ignore[no-untyped-def]
    from app.capture.devices import NO_CAMERA_MESSAGE

    panel.open_camera()  # nothing to open here: no camera is connected
    assert panel.camera_state.text() == NO_CAMERA_MESSAGE  # what to check, beside the choice
    assert panel.preview.placeholder == "No camera connected"  # the picture: the headline only


def test_the_metronome_button_is_not_a_second_session_start(qtbot, panel, visit) -> None:  # type: ignore[no-untyped-def]
    """Practice shows the session's Start beside the metronome's own button: they must not both
    say "Start" (a clinician read the metronome's as the session's)."""
    panel.set_visit(visit)
    session_text = panel.start_button.text()
    metronome_text = panel.metronome._start_btn.text()
    assert "session" in session_text.lower() and "metronome" in metronome_text.lower()
    assert "session" not in metronome_text.lower()
    panel.add_camera("test:busy", "busy", lambda: UnavailableSource(CameraBusyError()))
    panel.start_or_pause()
    qtbot.waitUntil(panel.metronome.is_running, timeout=5000)
    assert panel.start_button.text() == "❚❚  Pause session  (Space)"
    assert panel.metronome._start_btn.text() == "Metronome off  (M)"
    panel.stop()
