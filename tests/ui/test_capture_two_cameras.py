"""Capture panel with a second camera (rear view): recording both on one time line, a failing
rear camera, release/resume of both cameras, one camera only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.capture import (
    CameraBusyError,
    DeviceInfo,
    RecorderState,
    StopReason,
    SyntheticSource,
    read_sidecar,
)
from app.capture.fakes import UnavailableSource, UnpluggedSource
from ui.capture_panel import CapturePanel

FPS = 100


def _count(text: str) -> int:
    return int(text) if text.isdigit() else -1


def _cam(name: str) -> SyntheticSource:
    """A small camera that never skips frames on a loaded machine (the panel is under test)."""
    return SyntheticSource(320, 240, FPS, max_lag_frames=10**6, name=name)


def _live(panel: CapturePanel) -> bool:
    side, rear = panel.recorder, panel.second.recorder
    return (
        side is not None
        and side.state is RecorderState.LIVE
        and rear is not None
        and rear.state is RecorderState.LIVE
    )


@pytest.fixture
def panel(qtbot, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("ui.capture_panel.list_devices", lambda: [])  # no real cameras here
    w = CapturePanel(developer_sources=True, recorder_options={"min_free_bytes": 0})
    qtbot.addWidget(w)
    w.resize(1200, 760)
    w.show()
    w.add_developer_source("dev:side", "Side test camera", lambda: _cam("side"))
    assert w.select_camera("dev:side")
    yield w
    w.shutdown()


def _enable_rear(panel: CapturePanel, key: str) -> None:
    assert panel.second.select_camera(key)
    panel.second.enable_check.setChecked(True)


def test_two_cameras_record_on_one_time_line(qtbot, panel: CapturePanel, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel.add_developer_source("dev:rear", "Rear test camera", lambda: _cam("rear"))
    assert panel.camera_combo.currentData() == "dev:side"  # adding a source keeps the choice
    # The rear picker offers every camera except the side one.
    rear_keys = [
        panel.second.camera_combo.itemData(i) for i in range(panel.second.camera_combo.count())
    ]
    assert "dev:side" not in rear_keys and {"dev:rear", "dev:synthetic"} <= set(rear_keys)
    _enable_rear(panel, "dev:rear")
    qtbot.waitUntil(lambda: panel.camera_box.title() == "Side camera", timeout=1000)
    session = tmp_path / "visit"
    panel.set_destination(session, "Jane Doe — visit 1")
    qtbot.waitUntil(lambda: _live(panel) and panel.second.preview.image is not None, timeout=5000)
    rear_files: list[tuple[str, float]] = []
    panel.second_recording_finished.connect(lambda p, f: rear_files.append((p, f)))

    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)
    assert panel.second.is_recording and not panel.second.camera_combo.isEnabled()
    assert not panel.second.enable_check.isEnabled()
    qtbot.waitUntil(
        lambda: (
            min(_count(panel.written_value.text()), _count(panel.second.written_value.text()))
            >= FPS
        ),
        timeout=5000,
    )
    assert panel.second.preview.badge == "● REC"
    assert not panel.release_camera()  # never during a recording
    with qtbot.waitSignal(panel.second_recording_finished, timeout=5000) as rear_sig:
        qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(panel.review_button.isEnabled, timeout=5000)
    side, rear = panel.last_result, panel.second.last_result
    assert side is not None and rear is not None
    assert side.stop_reason is rear.stop_reason is StopReason.USER
    # One folder, names that say which view.
    assert side.path.parent == rear.path.parent == session
    assert side.path.name.endswith("_side.mkv") and rear.path.name.endswith("_rear.mkv")
    assert side.path.name[: -len("_side.mkv")] == rear.path.name[: -len("_rear.mkv")]
    assert side.path.exists() and rear.path.exists()
    assert rear_sig.args == [str(rear.path), rear.measured_fps] and len(rear_files) == 1
    assert 0.9 * FPS < rear.measured_fps <= FPS * 1.01
    # Per-camera counts on screen are the final ones of each file.
    assert panel.written_value.text() == str(side.written)
    assert panel.second.written_value.text() == str(rear.written)
    assert panel.second.captured_value.text() == str(rear.captured)
    assert panel.second.dropped_value.text() == str(rear.dropped)
    assert side.written >= FPS and rear.written >= FPS
    # Shared time zero: the same t0 in both files, and both first frames are the cameras'
    # first frames at or after it, so within one frame period of each other.
    t0 = {
        json.loads(p.with_suffix(".recording.json").read_text())["t0_ns"]
        for p in (side.path, rear.path)
    }
    assert len(t0) == 1
    first_side, first_rear = read_sidecar(side.path)[0], read_sidecar(rear.path)[0]
    period_ns = 1e9 / FPS
    assert abs(first_side[2] - first_rear[2]) <= period_ns
    assert 0 <= first_side[2] - t0.pop() <= period_ns
    assert len(read_sidecar(rear.path)) == rear.written
    with qtbot.waitSignal(panel.recording_finished, timeout=1000) as side_sig:
        qtbot.mouseClick(panel.review_button, Qt.MouseButton.LeftButton)
    assert side_sig.args == [str(side.path), side.measured_fps]  # the side signal is unchanged
    assert len(rear_files) == 1  # the rear file is handed over once only


def test_rear_camera_unplugged_side_keeps_recording(
    qtbot, panel: CapturePanel, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    panel.add_developer_source(
        "dev:rear-unplug", "Rear camera that gets unplugged",
        lambda: UnpluggedSource(_cam("rear"), after_frames=40),
    )  # fmt: skip
    _enable_rear(panel, "dev:rear-unplug")
    panel.set_destination(tmp_path, "session")
    qtbot.waitUntil(lambda: _live(panel), timeout=5000)
    rear_files: list[str] = []
    panel.second_recording_finished.connect(lambda p, _f: rear_files.append(p))
    panel.toggle_recording()
    qtbot.waitUntil(lambda: bool(rear_files), timeout=5000)  # the finished rear part is handed over
    note = panel.second.note_label.text()
    assert "Rear camera" in note and "camera stopped sending pictures" in note
    assert "side camera goes on recording" in note and not panel.second.note_label.isHidden()
    assert panel.recorder.is_recording and panel.record_button.text().endswith("Stop")
    written = _count(panel.written_value.text())
    qtbot.waitUntil(lambda: _count(panel.written_value.text()) > written + 20, timeout=5000)
    panel.toggle_recording()
    qtbot.waitUntil(panel.review_button.isEnabled, timeout=5000)
    side, rear = panel.last_result, panel.second.last_result
    assert side.stop_reason is StopReason.USER and side.written > rear.written
    assert rear.stop_reason is StopReason.CAMERA_DISCONNECTED and rear.path.exists()
    assert rear_files == [str(rear.path)] and 0 < rear.written <= 40
    # After the recording the rear camera can be retried.
    qtbot.waitUntil(lambda: not panel.second.retry_button.isHidden(), timeout=2000)


def test_rear_camera_busy_side_records_alone(qtbot, panel: CapturePanel, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel.add_developer_source(
        "dev:busy",
        "Busy camera",
        lambda: UnavailableSource(CameraBusyError(), width=320, height=240),
    )
    _enable_rear(panel, "dev:busy")
    panel.set_destination(tmp_path, "session")
    qtbot.waitUntil(lambda: "another program" in panel.second.note_label.text(), timeout=5000)
    assert not panel.second.retry_button.isHidden()
    qtbot.waitUntil(panel.record_button.isEnabled, timeout=5000)  # the rear camera does not block
    rear_files: list[str] = []
    panel.second_recording_finished.connect(lambda p, _f: rear_files.append(p))
    panel.toggle_recording()
    assert panel.recorder.is_recording
    assert "rear camera is not recording" in panel.second.note_label.text()
    qtbot.waitUntil(lambda: _count(panel.written_value.text()) >= 20, timeout=5000)
    note = panel.second.note_label.text()  # still said while recording, with the reason
    assert "side camera records alone" in note and "another program" in note
    assert panel.second.retry_button.isHidden()  # no retry in the middle of a recording
    panel.toggle_recording()
    qtbot.waitUntil(panel.review_button.isEnabled, timeout=5000)
    assert panel.last_result.written >= 20 and panel.last_result.path.name.endswith("_side.mkv")
    assert rear_files == [] and panel.second.last_result is None
    qtbot.waitUntil(lambda: not panel.second.retry_button.isHidden(), timeout=2000)
    assert panel.second.note_label.text().startswith("Rear camera: The camera is being used")


def test_release_and_resume_both_cameras(qtbot, panel: CapturePanel) -> None:  # type: ignore[no-untyped-def]
    panel.add_developer_source("dev:rear", "Rear test camera", lambda: _cam("rear"))
    _enable_rear(panel, "dev:rear")
    qtbot.waitUntil(lambda: _live(panel), timeout=5000)
    first_rear = panel.second.recorder
    assert panel.release_camera()
    assert panel.recorder is None and panel.second.recorder is None
    assert first_rear.state is RecorderState.CLOSED
    assert "paused" in panel.second.note_label.text()
    panel.resume_camera()
    qtbot.waitUntil(lambda: _live(panel) and panel.second.preview.image is not None, timeout=5000)
    assert panel.second.camera_combo.currentData() == "dev:rear"  # same rear camera again
    rear = panel.second.recorder
    panel.shutdown()
    assert panel.second.recorder is None and rear.state is RecorderState.CLOSED


def test_side_camera_taken_from_rear_switches_rear(qtbot, panel: CapturePanel) -> None:  # type: ignore[no-untyped-def]
    panel.add_developer_source("dev:rear", "Rear test camera", lambda: _cam("rear"))
    _enable_rear(panel, "dev:rear")
    qtbot.waitUntil(lambda: _live(panel), timeout=5000)
    assert panel.select_camera("dev:rear")  # the clinician picks the rear camera as side camera
    assert panel.second.camera_combo.currentData() not in ("dev:rear", None)
    rear_keys = [
        panel.second.camera_combo.itemData(i) for i in range(panel.second.camera_combo.count())
    ]
    assert "dev:rear" not in rear_keys and "dev:side" in rear_keys


def test_one_camera_only_disables_the_rear_view(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(
        "ui.capture_panel.list_devices",
        lambda: [DeviceInfo(63, "Sports cam 240", "/nonexistent/video63")],
    )
    w = CapturePanel()
    qtbot.addWidget(w)
    assert not w.second.enable_check.isEnabled() and not w.second.camera_combo.isEnabled()
    assert "Only one camera is connected" in w.second.note_label.text()
    assert not w.second.note_label.isHidden() and w.second.recorder is None
    w.shutdown()
