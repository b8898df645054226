"""A whole short practice session through the main window, from the file-backed camera:
live cadence, the faded metronome switching itself off, a recording, and what was saved."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.capture.fakes import RealRateFileSource
from app.db.models import Recording
from app.practice.report import latest_sentence
from app.practice.session import State, faded
from app.practice.store import sessions_for_visit


def test_practice_session_is_saved_with_the_visit(
    qtbot, practice_visit, practice_panel, main_window, clinic, shared_data
) -> None:
    pid, vid = practice_visit
    w, panel = main_window, practice_panel
    assert panel.target_spin.value() == 170
    clip = shared_data / "treadmill_run_side_30fps.mp4"
    panel.add_camera("test:clip", "Treadmill clip", lambda: RealRateFileSource(clip, loop=True))
    panel.set_schedule(faded(first_on_s=4, off_s=(120,), cue_s=0))
    panel.record_check.setChecked(True)
    panel.start_or_pause()
    assert panel.session.state is State.RUNNING
    qtbot.waitUntil(lambda: panel.metronome.is_running(), timeout=2000)
    qtbot.waitUntil(lambda: not panel.metronome.is_running(), timeout=6000)  # faded: off at 4 s
    qtbot.waitUntil(lambda: panel.cadence_label.text() != "—", timeout=8000)
    qtbot.wait(3000)  # some seconds measured without the cue
    panel.stop()
    qtbot.waitUntil(lambda: panel.last_saved_id is not None, timeout=10000)

    saved = sessions_for_visit(clinic.db, vid)
    assert len(saved) == 1
    got = saved[0]
    assert got.target_spm == 170 and got.duration_s > 6
    assert got.spans[0][:1] == [0.0] and got.spans[0][2] is True
    assert got.spans[1][0] == pytest.approx(4.0, abs=0.1) and got.spans[1][2] is False
    measured = [s for s in got.samples if s.spm is not None]
    assert len(measured) >= 3 and all(160 < s.spm < 178 for s in measured)
    assert got.totals.measured_nocue_s >= 3
    assert got.recording_path and got.recording_path.endswith(".mkv")
    with clinic.db.session() as s:
        recs = s.scalars(select(Recording).where(Recording.visit_id == vid)).all()
        assert len(recs) == 1  # the practice video is linked to the visit
    # Seconds, not minutes, without the cue: nothing worth printing for the runner yet.
    assert got.totals.measured_nocue_s < 60 and latest_sentence(clinic.db, pid) is None

    w.tabs.setCurrentWidget(w._history_tab)
    qtbot.waitUntil(lambda: w.history.practice_box.isVisible(), timeout=5000)
    box = w.history.practice_box
    assert box.table.rowCount() == 1 and box.table.item(0, 1).text() == "1"
    assert "spm" in box.table.item(0, 5).text()

    # and in the visit's details on Patient & visits: one line for the session
    w.tabs.setCurrentWidget(w.patient_view)
    pv = w.patient_view
    qtbot.waitUntil(lambda: pv.practice.count() == 1 and not pv.practice.isHidden(), timeout=5000)
    line = pv.practice.item(0).text()
    assert "target 170 ± 2 spm" in line and "without" in line and "recorded" in line
