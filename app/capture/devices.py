"""Which cameras are connected, with names and formats where the platform tells them.

Linux names come from ``/sys/class/video4linux/video*/name`` (only each device's first node:
UVC cameras also expose a metadata node that delivers no pictures); formats from
``v4l2-ctl --list-formats-ext`` when v4l-utils is installed. Windows and macOS give OpenCV no
names, so this module returns nothing there and the UI adds the names Qt's
``QMediaDevices.videoInputs()`` reports (in the same order as the OpenCV indices).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .errors import NoCameraError
from .packets import MJPEG, CameraFormat
from .sources import OpenCVCameraSource, default_backend

SYSFS_V4L = Path("/sys/class/video4linux")

#: Said when no camera is listed at all: what to check, for the clinician.
NO_CAMERA_MESSAGE = NoCameraError.default_message()
#: The rear-view box when there is no camera at all (not “only one camera”).
NO_CAMERA_REAR_MESSAGE = (
    "No camera connected. The rear view needs two cameras: connect the side camera first, "
    "then a second one."
)
#: The rear-view box when exactly one camera is connected.
ONE_CAMERA_MESSAGE = (
    "Only one camera is connected. Plug in a second camera to film the rear view at the same time."
)


@dataclass(frozen=True)
class DeviceInfo:
    """A camera the computer reports: OpenCV ``index``, display ``name``, known formats."""

    index: int
    name: str
    path: str | None = None  # /dev/videoN on Linux
    formats: tuple[CameraFormat, ...] = field(default=())

    @property
    def key(self) -> str:
        """Stable-ish identifier for remembering the choice (name plus index)."""
        return f"camera:{self.index}:{self.name}"


_FOURCC_NAMES = {"MJPG": MJPEG, "YUYV": "YUYV", "H264": "H264", "NV12": "NV12", "GREY": "GREY"}


def parse_v4l2_formats(text: str) -> list[CameraFormat]:
    """Parse ``v4l2-ctl --list-formats-ext`` output into formats (fps from frame intervals)."""
    formats: set[CameraFormat] = set()
    pixel = None
    size: tuple[int, int] | None = None
    for line in text.splitlines():
        m = re.search(r"\[\d+\]: '(\w+)'", line)
        if m:
            pixel = _FOURCC_NAMES.get(m.group(1), m.group(1))
            size = None
            continue
        m = re.search(r"Size: Discrete (\d+)x(\d+)", line)
        if m:
            size = (int(m.group(1)), int(m.group(2)))
            continue
        m = re.search(r"Interval: Discrete [\d.]+s \(([\d.]+) fps\)", line)
        if m and pixel and size:
            formats.add(CameraFormat(size[0], size[1], float(m.group(1)), pixel))
    return sorted(formats, key=lambda f: (f.pixel_format != MJPEG, -f.width * f.height, -f.fps))


def v4l2_formats(device: str, timeout_s: float = 3.0) -> list[CameraFormat]:
    """Formats of ``/dev/videoN`` via v4l2-ctl, or [] when the tool is missing or fails."""
    tool = shutil.which("v4l2-ctl")
    if not tool:
        return []
    try:
        out = subprocess.run(
            [tool, "-d", device, "--list-formats-ext"],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_v4l2_formats(out)


def list_devices(sysfs_root: Path = SYSFS_V4L, *, with_formats: bool = True) -> list[DeviceInfo]:
    """Cameras connected now (empty on a machine without cameras; never raises)."""
    if not sys.platform.startswith("linux") and sysfs_root == SYSFS_V4L:
        return []
    devices = []
    try:
        nodes = sorted(sysfs_root.glob("video*"), key=lambda p: int(re.sub(r"\D", "", p.name) or 0))
    except OSError:
        return []
    for node in nodes:
        try:
            number = int(node.name.removeprefix("video"))
            name = (node / "name").read_text(encoding="utf-8", errors="replace").strip()
            index_file = node / "index"
            if index_file.exists() and index_file.read_text().strip() not in ("", "0"):
                continue  # metadata / secondary node of a camera already listed
        except (OSError, ValueError):
            continue
        path = f"/dev/{node.name}"
        fmts = tuple(v4l2_formats(path)) if with_formats and sysfs_root == SYSFS_V4L else ()
        devices.append(DeviceInfo(number, name or f"Camera {number + 1}", path, fmts))
    return devices


def open_device(info: DeviceInfo) -> OpenCVCameraSource:
    """A (not yet opened) camera source for ``info`` with the platform's OpenCV backend."""
    return OpenCVCameraSource(
        info.index,
        name=info.name,
        device_path=info.path,
        backend=default_backend(),
        known_formats=list(info.formats),
    )
