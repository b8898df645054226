"""Recorder: frames and timestamps on disk, measured fps, camera states, unplug, disk full,
unwritable folder, delayed view, two cameras on one clock."""

from __future__ import annotations

import errno
import json
import time
from pathlib import Path

import av
import pytest

from app.capture import (
    CameraBusyError,
    CameraProblem,
    DestinationError,
    DiskFullError,
    MultiRecorder,
    NoCameraError,
    Recorder,
    RecorderState,
    StopReason,
    SyntheticSource,
    read_sidecar,
    repair_recording,
)
from app.capture.fakes import RawSyntheticSource, UnavailableSource, UnpluggedSource
from app.capture.writer import RecordingWriter


def _wait(cond, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def _cam(width: int, height: int, fps: float, **kw) -> SyntheticSource:
    """A synthetic camera that never skips frames, even if a loaded CI machine stalls the
    capture thread: these tests check the recorder, not the machine's scheduling."""
    return SyntheticSource(width, height, fps, max_lag_frames=10**6, **kw)


def _file_pts(path: Path) -> list[int]:
    with av.open(str(path)) as c:
        return [f.pts for f in c.decode(video=0)]


@pytest.fixture
def recorders():
    made: list[Recorder] = []
    yield made.append
    for r in made:
        r.close()


def _live(source, recorders, **kw) -> Recorder:
    rec = Recorder(source, min_free_bytes=0, **kw)
    recorders(rec)
    rec.start()
    assert rec.wait_live(5), rec.error
    return rec


def test_recording_frames_and_timestamps_match(tmp_path: Path, recorders) -> None:
    src = _cam(320, 240, 100)
    rec = _live(src, recorders)
    path = rec.start_recording(tmp_path / "session", "run1")
    assert rec.state is RecorderState.RECORDING
    _wait(lambda: rec.stats().written >= 50)
    stats = rec.stats()
    assert stats.recording and stats.file_bytes > 0 and stats.elapsed_s > 0
    result = rec.stop_recording()
    assert result.stop_reason is StopReason.USER and not result.ended_early
    assert result.written == result.captured >= 50 and result.dropped == 0
    assert result.measured_fps == pytest.approx(100, rel=0.02)
    rows = read_sidecar(path)
    assert len(rows) == result.written
    assert [r[0] for r in rows] == list(range(len(rows)))
    # Consecutive camera frame numbers, exact 10 ms spacing of the capture clock.
    cams = [r[1] for r in rows]
    assert cams == list(range(cams[0], cams[0] + len(cams)))
    assert all(
        b[2] - a[2] == pytest.approx(1e7, abs=2) for a, b in zip(rows, rows[1:], strict=False)
    )
    assert _file_pts(path) == [r[4] for r in rows]
    meta = json.loads(path.with_suffix(".recording.json").read_text())
    assert meta["written"] == result.written and meta["stop_reason"] == "stopped"
    assert rec.state is RecorderState.LIVE  # preview goes on after recording


def test_raw_frames_are_encoded(tmp_path: Path, recorders) -> None:
    rec = _live(RawSyntheticSource(160, 120, 60), recorders)
    path = rec.start_recording(tmp_path)
    _wait(lambda: rec.stats().written >= 10)
    result = rec.stop_recording()
    assert len(_file_pts(path)) == result.written >= 10


def test_camera_that_lies_about_fps_records_measured_rate(tmp_path: Path, recorders) -> None:
    rec = _live(_cam(160, 120, 120, actual_fps=50), recorders)
    _wait(lambda: rec.stats().measured_fps > 0)
    path = rec.start_recording(tmp_path)
    _wait(lambda: rec.stats().written >= 30)
    result = rec.stop_recording()
    assert result.requested_fps == 120
    assert result.measured_fps == pytest.approx(50, rel=0.03)
    assert json.loads(path.with_suffix(".recording.json").read_text())["measured_fps"] == (
        pytest.approx(50, rel=0.03)
    )


@pytest.mark.parametrize(
    ("error", "problem"),
    [(NoCameraError(), CameraProblem.NO_CAMERA), (CameraBusyError(), CameraProblem.BUSY)],
)
def test_camera_states_and_retry(error, problem, recorders) -> None:
    src = UnavailableSource(error, fail_times=1, width=160, height=120, fps=30)
    rec = Recorder(src)
    recorders(rec)
    rec.start()
    assert not rec.wait_live(5)
    assert rec.state is RecorderState.ERROR and rec.error.problem is problem
    assert "Retry" in rec.error.message
    with pytest.raises(type(error)):
        rec.start_recording(Path("/nonexistent"))
    rec.close()
    retry = Recorder(src)  # Retry = a fresh recorder on the same source
    recorders(retry)
    retry.start()
    assert retry.wait_live(5) and retry.error is None


@pytest.mark.parametrize("mode", ["raise", "none"])
def test_unplug_mid_recording_keeps_everything(tmp_path: Path, recorders, mode: str) -> None:
    src = UnpluggedSource(SyntheticSource(160, 120, 100), after_frames=60, mode=mode)
    rec = _live(src, recorders, silence_timeout_s=0.3)
    path = rec.start_recording(tmp_path)
    _wait(lambda: rec.last_result is not None)
    result = rec.last_result
    assert result.stop_reason is StopReason.CAMERA_DISCONNECTED and result.ended_early
    assert "camera stopped" in result.message
    assert rec.state is RecorderState.ERROR and rec.error.problem is CameraProblem.DISCONNECTED
    assert result.written == result.captured > 0
    assert len(_file_pts(path)) == len(read_sidecar(path)) == result.written


def test_disk_filling_up_stops_cleanly_and_keeps_frames(tmp_path: Path, recorders) -> None:
    free = [10**12]
    rec = _live(SyntheticSource(160, 120, 100), recorders, disk_check_interval_s=0.05)
    rec.min_free_bytes = 500 * 1024**2
    rec.free_space = lambda _p: free[0]
    path = rec.start_recording(tmp_path)
    _wait(lambda: rec.stats().written >= 20)
    free[0] = 100 * 1024**2  # another program filled the disk
    _wait(lambda: rec.last_result is not None)
    result = rec.last_result
    assert result.stop_reason is StopReason.DISK_FULL
    assert "kept" in result.message and "GB" in result.message
    assert result.written >= 20
    assert len(_file_pts(path)) == len(read_sidecar(path)) == result.written
    assert rec.state is RecorderState.LIVE  # the camera is fine; only recording stopped


def test_disk_full_before_start_and_unwritable_folder(tmp_path: Path, recorders) -> None:
    rec = _live(SyntheticSource(160, 120, 30), recorders)
    rec.min_free_bytes = 500 * 1024**2
    rec.free_space = lambda _p: 200 * 1024**2
    with pytest.raises(DiskFullError) as info:
        rec.start_recording(tmp_path)
    assert "0.2 GB is free" in str(info.value)
    rec.free_space = lambda _p: 10**12
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(DestinationError) as info2:
        rec.start_recording(blocker / "session")
    assert "cannot be created" in str(info2.value)
    assert not rec.is_recording and rec.state is RecorderState.LIVE


def test_write_error_mid_recording(tmp_path: Path, recorders, monkeypatch) -> None:
    real_write = RecordingWriter.write

    def write(self, packet):
        if self.frames >= 15:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, packet)

    monkeypatch.setattr(RecordingWriter, "write", write)
    rec = _live(SyntheticSource(160, 120, 100), recorders)
    path = rec.start_recording(tmp_path)
    _wait(lambda: rec.last_result is not None)
    result = rec.last_result
    assert result.stop_reason is StopReason.DISK_FULL and result.written == 15
    assert "disk is full" in result.message
    assert len(_file_pts(path)) == 15


def test_delayed_view_shows_the_past(recorders) -> None:
    rec = _live(SyntheticSource(160, 120, 60), recorders)
    rec.set_delay(0.5)
    _wait(lambda: rec.delayed_preview() is not None)
    time.sleep(0.2)  # let the preview thread update both slots a few times
    latest, delayed = rec.latest_preview(), rec.delayed_preview()
    lag = (latest.timestamp_ns - delayed.timestamp_ns) / 1e9
    assert lag == pytest.approx(0.5, abs=0.2)
    assert delayed.image.shape == (120, 160, 3)
    rec.set_delay(None)
    assert rec.delayed_preview() is None


def test_two_cameras_share_one_clock(tmp_path: Path) -> None:
    multi = MultiRecorder([_cam(160, 120, 100), _cam(192, 108, 60)], min_free_bytes=0)
    try:
        multi.start()
        assert multi.wait_live(5)
        paths = multi.start_recording(tmp_path, "both")
        _wait(lambda: all(r.stats().written >= 30 for r in multi.recorders))
        results = multi.stop_recording()
    finally:
        multi.close()
    assert [p.name for p in paths] == ["both_cam1.mkv", "both_cam2.mkv"]
    assert [round(r.measured_fps) for r in results] == [100, 60]
    metas = [json.loads(p.with_suffix(".recording.json").read_text()) for p in paths]
    assert metas[0]["t0_ns"] == metas[1]["t0_ns"] == multi.t0_ns
    rows = [read_sidecar(p) for p in paths]
    for file_rows in rows:  # pts = capture clock − shared t0, in both files
        for _, _, t_ns, t_s, pts in file_rows:
            assert t_s == pytest.approx((t_ns - multi.t0_ns) / 1e9, abs=1e-6)
            assert abs(pts - (t_ns - multi.t0_ns) / 1e6) <= 2
    # Each file starts with its camera's first frame at or after the shared t0.
    for file_rows, fps in zip(rows, (100, 60), strict=True):
        assert 0 <= file_rows[0][2] - multi.t0_ns <= 1e9 / fps + 1


def test_repair_recording_rebuilds_a_clean_file(tmp_path: Path, recorders) -> None:
    rec = _live(SyntheticSource(160, 120, 60), recorders)
    path = rec.start_recording(tmp_path)
    _wait(lambda: rec.stats().written >= 10)
    n = rec.stop_recording().written
    fixed = repair_recording(path)
    assert _file_pts(fixed) == _file_pts(path) and len(_file_pts(fixed)) == n


def test_a_name_taken_between_check_and_open_is_never_overwritten(
    tmp_path: Path, recorders, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workstations starting a recording into one folder in the same second pick the same
    name; the one that opens second must take the next name, not truncate the first video."""
    from app.capture import recorder as recorder_module

    real = recorder_module.RecordingWriter
    other = tmp_path / "session" / "run.mkv"

    def racing_writer(path: Path, *a, **kw):  # type: ignore[no-untyped-def]
        if path == other and not other.exists():
            other.write_bytes(b"the other workstation's video")  # after our check, before our open
        return real(path, *a, **kw)

    monkeypatch.setattr(recorder_module, "RecordingWriter", racing_writer)
    rec = _live(_cam(160, 120, 60), recorders)
    path = rec.start_recording(tmp_path / "session", "run")
    _wait(lambda: rec.stats().written >= 5)
    rec.stop_recording()
    assert path.name == "run_2.mkv"
    assert other.read_bytes() == b"the other workstation's video"
    assert not (tmp_path / "session" / "run.timestamps.csv").exists()


def test_the_writer_refuses_an_existing_file(tmp_path: Path) -> None:
    existing = tmp_path / "run.mkv"
    existing.write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        RecordingWriter(existing, 30.0, 0)
    assert existing.read_bytes() == b"keep me"
    sidecar_taken = tmp_path / "two.mkv"
    (tmp_path / "two.timestamps.csv").write_text("keep")
    with pytest.raises(FileExistsError):
        RecordingWriter(sidecar_taken, 30.0, 0)
    assert not sidecar_taken.exists()  # the half-made pair is removed
    assert (tmp_path / "two.timestamps.csv").read_text() == "keep"
