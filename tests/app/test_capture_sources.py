"""Camera sources and device listing: synthetic stamping, video-file camera, OpenCV camera
states (no camera, busy, disconnected) with a fake VideoCapture, sysfs enumeration."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from app.capture import (
    MJPEG,
    CameraBusyError,
    CameraDisconnectedError,
    CameraFormat,
    CameraProblem,
    FileSource,
    NoCameraError,
    OpenCVCameraSource,
    SyntheticSource,
    VideoFileError,
    best_format,
    list_devices,
)
from app.capture.devices import parse_v4l2_formats


def _decode(jpeg: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None
    return img


def test_synthetic_frames_are_valid_jpegs_with_a_visible_changing_stamp() -> None:
    src = SyntheticSource(320, 240, 60, realtime=False, pool_size=2)
    fmt = src.open()
    assert fmt == CameraFormat(320, 240, 60.0, MJPEG)
    a, b, c = src.read(), src.read(), src.read()
    assert [p.index for p in (a, b, c)] == [0, 1, 2]
    assert b.timestamp_ns - a.timestamp_ns == pytest.approx(1e9 / 60, abs=1)
    ia, ic = _decode(a.jpeg), _decode(c.jpeg)  # a and c share a pool picture
    assert ia.shape == (240, 320, 3)
    band = src._pool[0].band_height
    # Only the stamp band differs (frame number / time), the rest is the same pool picture.
    assert np.abs(ia[:band].astype(int) - ic[:band]).max() > 100
    assert np.abs(ia[band + 8 :].astype(int) - ic[band + 8 :]).mean() < 1.0
    src.close()
    assert not src.is_open


def test_synthetic_realtime_pacing_and_lying_camera() -> None:
    src = SyntheticSource(160, 120, 120, actual_fps=40)
    src.open()
    packets = [src.read() for _ in range(9)]
    src.close()
    span = (packets[-1].timestamp_ns - packets[0].timestamp_ns) / 1e9
    # Advertises 120 fps, delivers 40: 8 intervals take 0.2 s, not 0.067 s.
    assert 8 / span == pytest.approx(40, rel=0.02)
    assert src.current_format is None


def test_synthetic_skips_frames_when_reader_is_late() -> None:
    now = [0]
    src = SyntheticSource(160, 120, 100, clock=lambda: now[0], max_lag_frames=2)
    src.open()
    assert src.read().index == 0
    now[0] = int(0.5e9)  # the reader stalled for half a second
    p = src.read()
    assert p.index == 50 and src.produced == 51


def test_best_format_prefers_mjpeg_then_fps() -> None:
    fmts = [
        CameraFormat(1920, 1080, 30, "YUYV"),
        CameraFormat(1280, 720, 120, MJPEG),
        CameraFormat(1920, 1080, 60, MJPEG),
    ]
    assert best_format(fmts) == CameraFormat(1280, 720, 120, MJPEG)
    assert best_format([]) is None


def _make_video(path: Path, codec: str, n: int = 12, fps: int = 50) -> None:
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=fps)
        s.width, s.height = 64, 48
        s.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        for i in range(n):
            img = np.full((48, 64, 3), i * 20, np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for pkt in s.encode(frame):
                c.mux(pkt)
        for pkt in s.encode(None):
            c.mux(pkt)


@pytest.mark.parametrize("codec", ["mjpeg", "mpeg4"])
def test_file_source_plays_in_real_time_and_loops(tmp_path: Path, codec: str) -> None:
    video = tmp_path / f"clip_{codec}.mkv"
    _make_video(video, codec, n=6, fps=50)
    src = FileSource(video)
    fmt = src.open()
    assert (fmt.width, fmt.height, fmt.fps) == (64, 48, 50.0)
    packets = [src.read() for _ in range(10)]  # more than the file holds: it loops
    src.close()
    assert [p.index for p in packets] == list(range(10))
    if codec == "mjpeg":
        assert all(p.jpeg is not None for p in packets)  # delivered compressed, like a camera
    else:
        assert all(p.image is not None and p.image.shape == (48, 64, 3) for p in packets)
    span = (packets[-1].timestamp_ns - packets[0].timestamp_ns) / 1e9
    assert span == pytest.approx(9 / 50, abs=0.01)


def test_file_source_end_without_loop_and_bad_file(tmp_path: Path) -> None:
    video = tmp_path / "short.mkv"
    _make_video(video, "mjpeg", n=3)
    src = FileSource(video, loop=False, realtime=False)
    src.open()
    for _ in range(3):
        assert src.read() is not None
    with pytest.raises(CameraDisconnectedError):
        src.read()
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    with pytest.raises(VideoFileError) as info:
        FileSource(bad).open()
    assert "notes.mp4" in str(info.value)


def test_file_source_on_sample_video(shared_data: Path) -> None:
    src = FileSource(shared_data / "treadmill_run_side_30fps.mp4", realtime=False)
    fmt = src.open()
    p = src.read()
    src.close()
    assert (fmt.width, fmt.height, fmt.fps) == (720, 1280, 30.0)
    assert p.image is not None and p.image.shape == (1280, 720, 3)


class FakeCapture:
    """Stands in for cv2.VideoCapture: scripted opened / read results."""

    def __init__(self, opened: bool = True, reads: list | None = None, jpeg: bool = True) -> None:
        self.opened = opened
        self.reads = reads
        self.jpeg = jpeg
        self.props: dict[int, float] = {}
        self.released = False

    def __call__(self, index: int, backend: int) -> FakeCapture:
        return self

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return self.opened

    def set(self, prop: int, value: float) -> bool:
        self.props[prop] = value
        return True

    def get(self, prop: int) -> float:
        return {
            cv2.CAP_PROP_FRAME_WIDTH: 64,
            cv2.CAP_PROP_FRAME_HEIGHT: 48,
            cv2.CAP_PROP_FPS: self.props.get(cv2.CAP_PROP_FPS, 30),
        }.get(prop, 0.0)

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.reads is not None:
            if not self.reads:
                return False, None
            if not self.reads.pop(0):
                return False, None
        img = np.full((48, 64, 3), 99, np.uint8)
        if self.jpeg:
            return True, cv2.imencode(".jpg", img)[1].reshape(1, -1)
        return True, img

    def release(self) -> None:
        self.released = True


def test_opencv_camera_missing_vs_busy(tmp_path: Path) -> None:
    absent = OpenCVCameraSource(0, device_path=str(tmp_path / "video9"),
                                capture_factory=FakeCapture(opened=False))  # fmt: skip
    with pytest.raises(NoCameraError) as info:
        absent.open()
    assert info.value.problem is CameraProblem.NO_CAMERA and info.value.retry
    node = tmp_path / "video0"
    node.touch()  # the device exists but another program holds it: opens, never delivers
    busy = OpenCVCameraSource(0, device_path=str(node),
                              capture_factory=FakeCapture(reads=[False]))  # fmt: skip
    with pytest.raises(CameraBusyError) as info:
        busy.open()
    assert "another program" in str(info.value)


def test_opencv_camera_mjpeg_passthrough_and_requested_mode() -> None:
    fake = FakeCapture()
    cam = OpenCVCameraSource(0, backend=cv2.CAP_V4L2, capture_factory=fake,
                             known_formats=[CameraFormat(64, 48, 30), CameraFormat(64, 48, 90)])  # fmt: skip
    fmt = cam.open()
    assert fmt.fps == 90  # highest fps offered was requested
    assert fake.props[cv2.CAP_PROP_FOURCC] == cv2.VideoWriter_fourcc(*"MJPG")
    assert fake.props[cv2.CAP_PROP_CONVERT_RGB] == 0
    p = cam.read()
    assert p.jpeg is not None and p.jpeg[:2] == b"\xff\xd8"
    cam.close()
    assert fake.released
    raw = OpenCVCameraSource(0, backend=cv2.CAP_DSHOW, capture_factory=FakeCapture(jpeg=False))
    raw.open()
    q = raw.read()
    assert q.jpeg is None and q.image.shape == (48, 64, 3)


def test_opencv_camera_disconnect_after_failed_reads(tmp_path: Path) -> None:
    node = tmp_path / "video0"
    node.touch()
    fake = FakeCapture(reads=[True, True, True, False, False])
    cam = OpenCVCameraSource(0, device_path=str(node), capture_factory=fake)
    cam.open()
    assert cam.read() is not None and cam.read() is not None
    assert cam.read() is None  # one failed read is not yet "unplugged"
    node.unlink()  # the device node vanished: unplugged
    with pytest.raises(CameraDisconnectedError) as info:
        cam.read()
    assert "unplugged" in str(info.value)


def test_list_devices_reads_sysfs_names(tmp_path: Path) -> None:
    for n, name, index in [(0, "HD Pro Webcam C920", "0"), (1, "HD Pro Webcam C920", "1"),
                           (2, "USB 3.0 High Speed Cam", "0")]:  # fmt: skip
        d = tmp_path / f"video{n}"
        d.mkdir()
        (d / "name").write_text(name + "\n")
        (d / "index").write_text(index + "\n")
    devices = list_devices(tmp_path)
    assert [(d.index, d.name, d.path) for d in devices] == [
        (0, "HD Pro Webcam C920", "/dev/video0"),
        (2, "USB 3.0 High Speed Cam", "/dev/video2"),
    ]
    assert list_devices(tmp_path / "missing") == []


def test_parse_v4l2_formats() -> None:
    text = """ioctl: VIDIOC_ENUM_FMT
	Type: Video Capture

	[0]: 'MJPG' (Motion-JPEG, compressed)
		Size: Discrete 1920x1080
			Interval: Discrete 0.008s (120.000 fps)
			Interval: Discrete 0.017s (60.000 fps)
		Size: Discrete 640x480
			Interval: Discrete 0.004s (260.000 fps)
	[1]: 'YUYV' (YUYV 4:2:2)
		Size: Discrete 1920x1080
			Interval: Discrete 0.200s (5.000 fps)
"""
    fmts = parse_v4l2_formats(text)
    assert CameraFormat(1920, 1080, 120.0, MJPEG) in fmts
    assert CameraFormat(640, 480, 260.0, MJPEG) in fmts
    assert CameraFormat(1920, 1080, 5.0, "YUYV") in fmts
    assert len(fmts) == 4
    assert best_format(fmts) == CameraFormat(640, 480, 260.0, MJPEG)
