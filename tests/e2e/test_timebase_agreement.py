"""One time base for every figure (issue 16, part 1), end to end.

A runner (the RBDS rearfoot trial's markers in place of the pose model, sampled at each frame's
real time) is filmed two awkward ways a phone films: a variable-frame-rate clip (60 fps, then
30 fps) and a slow-motion clip (240 fps captured, a 30 fps file tagged
``com.android.capture.fps``). ``stride-clinic analyze --json`` finds the contacts; the clinician
marks the same frames in the marking panel; then the sidebar, the visits table, the Prescribe
baseline, the History point, the printed program's baseline and ``analyze`` must agree within
0.1 steps/min, and the contact times must be the file's own timestamps (not ``frame / fps``,
which on the VFR clip is off by several steps/min: checked, so the test can fail).
"""

from __future__ import annotations

import argparse
import json
import math
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from app.analysis import analyze
from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.analysis.keypoints import KeypointTrack
from app.analysis.metrics import temporal_metrics
from app.records.patients import PatientData, create_patient
from app.records.recordings import import_recording
from app.records.visits import VisitData, create_visit
from app.video.synthetic import write_clip
from app.video.timebase import Timebase
from tests.app._analysis_helpers import load_trial

TB = Fraction(1, 1200)
TOLERANCE_SPM = 0.1
FIGURES: dict[str, dict[str, float]] = {}  # measured agreement, printed at the end (-s)


def _vfr_clip(tmp_path: Path) -> tuple[Path, np.ndarray, float]:
    times = np.concatenate([np.arange(0.0, 5.0, 1 / 60), 5.0 + np.arange(0.0, 4.9, 1 / 30)])
    pts = np.round(times / float(TB)).astype(int)
    clip = write_clip(
        tmp_path / "vfr.mp4", n_frames=len(pts), width=96, height=64, fps=45, pts=list(pts),
        time_base=TB,
    )  # fmt: skip
    return clip, times, 45.0


def _slow_motion_clip(tmp_path: Path) -> tuple[Path, np.ndarray, float]:
    real = np.arange(0.0, 5.9, 1 / 240)
    clip = write_clip(
        tmp_path / "slomo.mp4", n_frames=len(real), width=96, height=64, fps=30, codec="mjpeg",
        container_metadata={"com.android.capture.fps": "240"},
    )  # fmt: skip
    return clip, real, 30.0


def _markers_at(track: KeypointTrack, real_times: np.ndarray) -> np.ndarray:
    t = track.times - track.times[0]
    flat = track.xy.reshape(track.n_frames, -1)
    out = np.stack([np.interp(real_times, t, flat[:, k]) for k in range(flat.shape[1])], axis=1)
    return out.reshape(len(real_times), *track.xy.shape[1:])


def _fake_pose(monkeypatch: pytest.MonkeyPatch, xy: np.ndarray, decoder_fps: float) -> None:
    def run_pose(video, **_kw):  # type: ignore[no-untyped-def]
        track = KeypointTrack(np.arange(len(xy)) / decoder_fps, xy.copy())
        track.meta.update({"fps": decoder_fps, "detected_fraction": 1.0, "jumps": 0})
        return track

    monkeypatch.setattr("app.analysis.pose.run_pose", run_pose)


def _analyze(clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    parser = argparse.ArgumentParser()
    analyze.add_arguments(parser)
    args = parser.parse_args([str(clip), "--cache-dir", str(tmp_path), "--json", "-"])
    assert analyze.run(args) == 0
    return json.loads(capsys.readouterr().out)


def _number(text: str) -> float:
    m = re.search(r"-?\d+(?:\.\d+)?", text)
    assert m, text
    return float(m.group())


def _pooled_contact_ms(m) -> float:  # type: ignore[no-untyped-def]
    stats = [m.contact_time_s[f.value] for f in Foot]
    n = sum(s.n for s in stats)
    return 1000 * sum(s.mean * s.n for s in stats if s.n) / n


@pytest.mark.parametrize("kind", ["variable_frame_rate", "slow_motion"])
def test_every_figure_uses_the_files_clock(  # type: ignore[no-untyped-def]
    kind, qtbot, clinic, shared_data, tmp_path, monkeypatch, capsys
) -> None:
    from ui.annotation_panel import AnnotationPanel
    from ui.main_window import MainWindow

    make = _vfr_clip if kind == "variable_frame_rate" else _slow_motion_clip
    clip, real_times, decoder_fps = make(tmp_path)
    track, _truth = load_trial(shared_data, "rearfoot", seconds=10.0)
    _fake_pose(monkeypatch, _markers_at(track, real_times), decoder_fps)
    out = _analyze(clip, tmp_path, capsys)
    analyzed = [e for e in out["events"]]
    assert sum(e["type"] == "initial_contact" for e in analyzed) >= 12

    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Clock Runner")).id
        vid = create_visit(s, pid, VisitData(visit_date="2026-11-20", treadmill_speed_kmh="10")).id
    rid = import_recording(clinic.db, clinic.videos_root, vid, clip)

    # --- the clinician marks analyze's frames in the marking panel ------------------------------
    panel = AnnotationPanel(clinic)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.open_recording(rid)
    for e in analyzed:
        panel.go_to(e["frame"])
        panel.mark(Foot(e["foot"]), EventType(e["type"]))
    qtbot.waitUntil(lambda: panel.unsaved_edits() == 0, timeout=10000)
    sidebar_text = panel.sidebar.cadence.text()
    marked = panel.session.reviewed_events()
    sidebar = temporal_metrics(marked)  # the figure the sidebar shows (1 decimal on screen)
    assert abs(_number(sidebar_text) - sidebar.cadence_spm) <= 0.05 + 1e-9
    panel.shutdown()

    # --- the file's own clock: every mark's time is its frame's timestamp (real time) ---------
    clock = Timebase.from_file(clip)
    for e in marked:
        assert e.time_s == pytest.approx(clock.time_of(e.frame), abs=1e-6)
    truth_times = [
        FootEvent(e.foot, e.type, e.frame, clock.time_of(e.frame), EventSource.MANUAL) for e in marked
    ]
    file_clock = temporal_metrics(truth_times)

    # --- the rest of the program ---------------------------------------------------------------
    w = MainWindow(clinic)
    qtbot.addWidget(w)
    w.show()
    w.patient_list.select(pid)
    visit_row = w.patient_view.summary.visits[0]
    table_text = w.patient_view.visits.item(0, 3).text()
    assert table_text == f"{visit_row.cadence_spm:.0f} spm"
    w.tabs.setCurrentWidget(w._prescription_tab)
    qtbot.waitUntil(lambda: w.prescription.visit_id == vid, timeout=5000)
    prescribe_text = w.prescription.panel.baseline_edit.text()
    saved = w.prescription.panel.save()
    assert saved is not None
    qtbot.waitUntil(lambda: _stored_plan(clinic, pid) is not None, timeout=5000)
    printed = _stored_plan(clinic, pid)
    w.tabs.setCurrentWidget(w._history_tab)
    qtbot.waitUntil(
        lambda: w.history.patient_id == pid and not w._history_refresh.needed, timeout=5000
    )
    history = w.history.history
    history_point = float(history.series["cadence"].mean[0])
    history_contact = float(history.series["contact_time"].mean[0])
    w.close()

    figures = {
        "sidebar": sidebar.cadence_spm,
        "visits_table": visit_row.cadence_spm,
        "prescribe_baseline": _number(prescribe_text),
        "history_point": history_point,
        "printed_program_baseline": printed,
        "analyze_json": out["metrics"]["cadence_spm"],
        "file_timestamps": file_clock.cadence_spm,
    }
    FIGURES[kind] = figures
    spread = max(figures.values()) - min(figures.values())
    print(f"\n{kind}: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items())
          + f"; spread {spread:.3f} spm")  # fmt: skip
    assert spread <= TOLERANCE_SPM, figures

    # contact times: sidebar, History and analyze are the file's timestamps
    ct_file = _pooled_contact_ms(file_clock)
    assert _pooled_contact_ms(sidebar) == pytest.approx(ct_file, abs=1e-6)
    assert history_contact == pytest.approx(ct_file, abs=1e-6)
    # analyze gives sub-frame times on the same clock: each is its frame's timestamp to within
    # half a frame interval, and the mean contact time to within one frame interval
    steps = np.diff(clock.times_s)
    for e in analyzed:
        f = e["frame"]
        half = 0.5 * max(steps[max(f - 1, 0)], steps[min(f, len(steps) - 1)])
        assert abs(e["time_s"] - clock.time_of(f)) <= half + 1e-6
    ct_json = out["metrics"]["contact_time_s"]
    ct_analyze = 1000 * sum(ct_json[f]["mean"] * ct_json[f]["n"] for f in ("left", "right")) / sum(
        ct_json[f]["n"] for f in ("left", "right")
    )
    assert abs(ct_analyze - ct_file) <= 1000 * float(np.max(steps))
    print(f"{kind}: contact time {ct_file:.2f} ms (sidebar, History, analyze {ct_analyze:.2f})")

    if kind == "variable_frame_rate":
        # The old way, frame / stored rate, is visibly wrong here: the test can fail.
        with clinic.db.session() as s:
            from app.db.models import Recording

            rate = s.get(Recording, rid).capture_fps
        naive = temporal_metrics(
            [FootEvent(e.foot, e.type, e.frame, e.frame / rate, EventSource.MANUAL) for e in marked]
        )
        assert abs(naive.cadence_spm - file_clock.cadence_spm) > 1.0
        print(f"{kind}: frame / {rate:g} fps would say {naive.cadence_spm:.2f} spm")
    assert math.isfinite(file_clock.cadence_spm)


def _stored_plan(clinic, pid: int) -> float | None:  # type: ignore[no-untyped-def]
    """The baseline the printed home program uses (its latest prescription's plan)."""
    from app.prescription.plan import CadencePlan
    from app.reports.home_program import latest_prescription

    with clinic.db.session() as s:
        rx = latest_prescription(s, pid)
        if rx is None:
            return None
        return float(CadencePlan.from_dict(rx.plan).baseline_spm) if rx.plan else rx.baseline_spm


def test_marks_at_170_spm_on_an_old_recording_agree_once_its_video_is_opened(  # type: ignore[no-untyped-def]
    qtbot, clinic, tmp_path
) -> None:
    """A recording from before the stored clock (0005): until its video is opened the figures
    use the stored rate; opening it in the marking panel stores the file's clock, and from then
    on the visits table, History and the export give the sidebar's figures, on the file's
    timestamps, for contacts placed at known real times 60/170 s apart."""
    from app.db.models import Recording
    from app.history.export import history_tables
    from app.history.trends import load_history
    from app.records.measurements import visit_measurement
    from ui.annotation_panel import AnnotationPanel

    clip, _times, _fps = _vfr_clip(tmp_path)
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Old Runner")).id
        vid = create_visit(s, pid, VisitData(visit_date="2026-11-21")).id
    rid = import_recording(clinic.db, clinic.videos_root, vid, clip)
    with clinic.db.session() as s:
        s.get(Recording, rid).timestamps = None  # as imported before revision 0005
    clock = Timebase.from_file(clip)
    step = 60.0 / 170.0
    contacts = np.arange(0.2, 9.6, step)
    panel = AnnotationPanel(clinic)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.open_recording(rid)  # the first open stores the file's clock
    for k, t in enumerate(contacts):
        foot = Foot.LEFT if k % 2 == 0 else Foot.RIGHT
        for etype, when in ((EventType.INITIAL_CONTACT, t), (EventType.TOE_OFF, t + 0.25)):
            panel.go_to(clock.frame_at(when))
            panel.mark(foot, etype)
    qtbot.waitUntil(lambda: panel.unsaved_edits() == 0, timeout=10000)
    sidebar = temporal_metrics(panel.session.reviewed_events())
    panel.shutdown()

    with clinic.db.session() as s:
        assert s.get(Recording, rid).timestamps is not None
        table = visit_measurement(s, vid)
        history = load_history(s, pid)
    tables = history_tables(history)
    exported = tables["events"]
    for frame, time_s in zip(exported["frame"], exported["time_s"], strict=True):
        assert time_s == pytest.approx(clock.time_of(int(frame)), abs=1e-6)
    figures = {
        "sidebar": sidebar.cadence_spm,
        "visits_table": table.cadence_spm,
        "history_point": float(history.series["cadence"].mean[0]),
        "export": float(tables["metrics"]["cadence_mean"][0]),
    }
    print("\n170 spm marks on an old recording: "
          + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()))  # fmt: skip
    assert max(figures.values()) - min(figures.values()) <= TOLERANCE_SPM
    # whole frames at 30 fps shift the first and last contact by at most 1/60 s each
    assert sidebar.cadence_spm == pytest.approx(170.0, abs=170.0 * (2 / 60) / (contacts[-1] - contacts[0]))
    assert _pooled_contact_ms(sidebar) == pytest.approx(250.0, abs=1000 / 30)
