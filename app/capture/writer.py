"""Crash-safe writing of one recording: a Matroska video file plus a timestamp sidecar.

Why Matroska with MJPEG inside:
* MJPEG frames from the camera are muxed as they came (no re-encoding, no quality loss, almost
  no CPU), and every frame is a key frame, so the annotation view can step frame-exactly.
* libavformat writes the Matroska segment with an "unknown size" until the file is closed and
  (every frame being a key frame over 4 KB) closes a cluster per frame; a cluster is written
  out when the next frame arrives, and ``flush_packets`` pushes it past PyAV's 32 KB buffer to
  the operating system at once. So a killed program loses at most the newest frame (measured:
  file size grows by one frame per mux), and the file is a valid, decodable stream up to its
  last complete frame (``tests/app/test_capture_crash.py`` proves it with SIGKILL). Only the cue
  index and duration written on close are missing; :func:`repair_recording` rebuilds them.
* The sidecar ``<name>.timestamps.csv`` gets one line per written frame (flushed each frame,
  fsync'd every second with the video), holding the exact capture clock in nanoseconds.
"""

from __future__ import annotations

import contextlib
import os
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import av  # imported up front: a first import while a camera runs holds the GIL for ~0.1 s
import cv2

from .packets import FramePacket

#: Container time base: Matroska stores millisecond timestamps; the sidecar keeps nanoseconds.
TIME_BASE = Fraction(1, 1000)
SIDECAR_SUFFIX = ".timestamps.csv"
SIDECAR_HEADER = "frame,camera_frame,capture_ns,time_s,pts_ms\n"


def sidecar_path(video: Path) -> Path:
    """``session/run.mkv`` → ``session/run.timestamps.csv``."""
    return video.with_name(video.stem + SIDECAR_SUFFIX)


class RecordingWriter:
    """Writes frame packets into ``path`` (.mkv) and its timestamp sidecar.

    ``t0_ns`` is the clock time of pts 0; recorders sharing one ``t0_ns`` produce files whose
    timestamps line up. Raw frames (``packet.image``) are JPEG-encoded at ``jpeg_quality``.
    Raises ``OSError`` (e.g. disk full) from :meth:`write`; :meth:`close` always tries to
    finish both files.
    """

    def __init__(self, path: Path, fps: float, t0_ns: int, *, jpeg_quality: int = 90,
                 fsync_interval_s: float = 1.0) -> None:  # fmt: skip
        self.path = Path(path)
        self.fps = fps
        self.t0_ns = t0_ns
        self.jpeg_quality = jpeg_quality
        self.fsync_interval_ns = int(fsync_interval_s * 1e9)
        self.frames = 0
        self.first_ns: int | None = None
        self.last_ns: int | None = None
        self._last_pts = -1
        self._last_sync = 0
        self._stream: Any = None
        # Unbuffered: PyAV's own 32 KB buffer is flushed per packet (flush_packets), and the
        # bytes go straight to the OS, so a killed process loses at most the frame in flight.
        # "x": created here or not at all. Two programs starting a recording in the same second
        # choose the same name; the second gets FileExistsError (the recorder then takes the
        # next name) instead of truncating the first one's video.
        self._file: IO[bytes] = open(self.path, "x+b", buffering=0)  # noqa: SIM115
        try:
            self._container = av.open(
                self._file, "w", format="matroska", container_options={"flush_packets": "1"}
            )
            self._sidecar = open(sidecar_path(self.path), "x", encoding="utf-8", newline="")  # noqa: SIM115
        except BaseException:
            self._file.close()
            self.path.unlink(missing_ok=True)  # the file this call created, still empty
            raise
        self._sidecar.write(SIDECAR_HEADER)
        self._sidecar.flush()
        self._closed = False

    @property
    def size_bytes(self) -> int:
        """Bytes written to the video file so far."""
        try:
            return os.fstat(self._file.fileno()).st_size
        except (OSError, ValueError):
            return self.path.stat().st_size if self.path.exists() else 0

    def _ensure_stream(self, packet: FramePacket) -> None:
        if self._stream is None:
            self._stream = self._container.add_mux_stream(
                "mjpeg",
                rate=Fraction(self.fps).limit_denominator(1001),
                width=packet.width,
                height=packet.height,
                time_base=TIME_BASE,
            )

    def write(self, packet: FramePacket) -> None:
        """Append one frame (its JPEG as-is, or the raw image encoded) and its timestamp."""
        self._ensure_stream(packet)
        data = packet.jpeg
        if data is None:
            ok, buf = cv2.imencode(
                ".jpg", packet.image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality]
            )
            if not ok:
                raise ValueError("a camera frame could not be encoded")
            data = buf.tobytes()
        pts = max((packet.timestamp_ns - self.t0_ns) // 1_000_000, 0)
        if pts <= self._last_pts:  # Matroska needs increasing timestamps (ms resolution)
            pts = self._last_pts + 1
        av_packet = av.Packet(data)
        av_packet.stream = self._stream
        av_packet.pts = av_packet.dts = pts
        av_packet.time_base = TIME_BASE
        av_packet.is_keyframe = True
        self._container.mux(av_packet)
        self._last_pts = pts
        t_s = (packet.timestamp_ns - self.t0_ns) / 1e9
        self._sidecar.write(f"{self.frames},{packet.index},{packet.timestamp_ns},{t_s:.6f},{pts}\n")
        self._sidecar.flush()
        self.frames += 1
        if self.first_ns is None:
            self.first_ns = packet.timestamp_ns
        self.last_ns = packet.timestamp_ns
        if packet.timestamp_ns - self._last_sync >= self.fsync_interval_ns:
            self.sync()
            self._last_sync = packet.timestamp_ns

    def sync(self) -> None:
        """Force both files to the disk (survives power loss, not just a program crash)."""
        for f in (self._file, self._sidecar):
            with contextlib.suppress(OSError, ValueError):
                os.fsync(f.fileno())

    def close(self) -> None:
        """Finish the container (cue index, duration) and close both files; idempotent."""
        if self._closed:
            return
        self._closed = True
        errors: list[BaseException] = []
        try:
            self._container.close()
        except Exception as exc:  # disk full while writing the index: frames are already safe
            errors.append(exc)
        self.sync()
        for f in (self._sidecar, self._file):
            try:
                f.close()
            except Exception as exc:
                errors.append(exc)
        if self._stream is None:
            # Nothing was recorded: leave no empty, unplayable file behind.
            for p in (self.path, sidecar_path(self.path)):
                p.unlink(missing_ok=True)
        if errors:
            raise OSError(f"the recording could not be finished cleanly: {errors[0]}")


def read_sidecar(video: Path) -> list[tuple[int, int, int, float, int]]:
    """Rows ``(frame, camera_frame, capture_ns, time_s, pts_ms)``; a torn last line is skipped."""
    rows = []
    with open(sidecar_path(Path(video)), encoding="utf-8") as f:
        next(f, None)
        for line in f:
            parts = line.rstrip("\n").split(",")
            if len(parts) != 5 or not line.endswith("\n"):
                continue
            try:
                rows.append((int(parts[0]), int(parts[1]), int(parts[2]), float(parts[3]),
                             int(parts[4])))  # fmt: skip
            except ValueError:
                continue
    return rows


def repair_recording(video: Path, out: Path | None = None) -> Path:
    """Remux a recording cut off by a crash so it gets a cue index and duration again.

    Copies every complete packet (no re-encoding) into ``out`` (default ``<name>.repaired.mkv``)
    and returns its path.
    """
    video = Path(video)
    out = out or video.with_name(video.stem + ".repaired.mkv")
    with av.open(str(video)) as src, av.open(str(out), "w", format="matroska") as dst:
        s = src.streams.video[0]
        d = dst.add_mux_stream("mjpeg", rate=s.average_rate, width=s.codec_context.width,
                               height=s.codec_context.height, time_base=TIME_BASE)  # fmt: skip
        try:
            for pkt in src.demux(s):
                if pkt.size == 0 or pkt.pts is None:
                    continue
                pkt.stream = d
                dst.mux(pkt)
        except av.FFmpegError:
            pass  # a torn final frame: everything before it is kept
    return out
