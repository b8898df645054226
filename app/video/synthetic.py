"""Synthetic test clips whose frames carry their own index, for tests and benchmarks.

Each frame has a binary "stamp" (a row of black/white blocks, most significant bit first)
across its top band, so a decoded image can be checked for *which* frame it is, whatever
route the decoder took to reach it. The rest of the picture moves and changes every frame
so that codecs have real work to do (a flat picture would make stepping unrealistically cheap).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

STAMP_BITS = 16


@functools.lru_cache(maxsize=4)
def _grids(width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.int32)
    # A fixed fine texture (like skin, fabric, treadmill belt) so compressed sizes are realistic.
    texture = np.random.default_rng(1234).integers(0, 40, size=(height, width), dtype=np.int32)
    return yy, xx, texture


def stamp_frame(index: int, width: int, height: int, *, bits: int = STAMP_BITS) -> np.ndarray:
    """Return an RGB uint8 image (height x width x 3) that encodes ``index`` in its top band."""
    yy, xx, texture = _grids(width, height)
    # Moving diagonal gradient, a drifting texture and a bouncing disc: every frame differs.
    tex = np.roll(texture, shift=2 * index, axis=1)
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[..., 0] = (xx + 3 * index + tex) % 256
    img[..., 1] = (yy * 2 + 5 * index) % 256
    img[..., 2] = ((xx + yy) // 2 + 7 * index + tex) % 256
    cx = int((index * 7) % max(width, 1))
    cy = height // 2 + int((height // 4) * np.sin(index / 5.0))
    rad = max(2, min(width, height) // 8)
    y0, y1 = max(0, cy - rad), min(height, cy + rad)
    x0, x1 = max(0, cx - rad), min(width, cx + rad)
    disc = (xx[y0:y1, x0:x1] - cx) ** 2 + (yy[y0:y1, x0:x1] - cy) ** 2 < rad * rad
    img[y0:y1, x0:x1][disc] = (255, 255, 255)
    band = max(4, height // 8)
    block = width // bits
    img[:band] = 0
    for bit in range(bits):
        if (index >> (bits - 1 - bit)) & 1:
            img[:band, bit * block : (bit + 1) * block] = 255
    return img


def read_stamp(img: np.ndarray, *, bits: int = STAMP_BITS) -> int:
    """Decode the index stamped by :func:`stamp_frame` from an RGB image (unrotated)."""
    height, width = img.shape[:2]
    band = max(4, height // 8)
    block = width // bits
    value = 0
    for bit in range(bits):
        # Sample the centre of each block so codec ringing at block edges does not matter.
        y0, y1 = band // 4, max(band // 4 + 1, 3 * band // 4)
        x0 = bit * block + block // 4
        x1 = max(x0 + 1, bit * block + 3 * block // 4)
        on = float(img[y0:y1, x0:x1].mean()) > 127.0
        value = (value << 1) | int(on)
    return value


def write_clip(
    path: str | Path,
    *,
    n_frames: int = 60,
    width: int = 320,
    height: int = 240,
    fps: int | Fraction = 30,
    codec: str = "libx264",
    gop: int = 250,
    pix_fmt: str | None = None,
    pts: Sequence[int] | None = None,
    time_base: Fraction | None = None,
    rotation: int | None = None,
    container_metadata: dict[str, str] | None = None,
    options: dict[str, str] | None = None,
    bframes: bool = True,
    container_options: dict[str, str] | None = None,
    format: str | None = None,  # noqa: A002 - PyAV's name for the muxer
    audio: str | None = None,
) -> Path:
    """Write a stamped clip with PyAV and return its path.

    ``pts`` (with ``time_base``) sets explicit presentation timestamps, which makes a
    variable-frame-rate clip. ``rotation`` writes display-matrix rotation metadata the way
    phones do. ``container_metadata`` adds global tags (e.g. ``com.android.capture.fps``).
    ``bframes`` writes two B-frames between references (H.264, MPEG-2). ``format`` names the
    muxer when the suffix does not (``"vob"`` for an MPEG-2 program stream); ``audio`` adds
    a quiet tone in that codec (``"mp2"``, ``"ac3"``, ``"aac"``), timed like the video.
    """
    path = Path(path)
    fmt_pix = pix_fmt or ("yuvj420p" if codec == "mjpeg" else "yuv420p")
    container_options = dict(container_options or {})
    if container_metadata and path.suffix.lower() in (".mp4", ".mov", ".m4v"):
        # Arbitrary keys (as Android writes them) need the 'mdta' metadata box.
        flags = container_options.get("movflags", "")
        container_options["movflags"] = (flags + "+use_metadata_tags").lstrip("+")
    with av.open(str(path), mode="w", format=format, container_options=container_options) as out:
        if container_metadata:
            out.metadata.update(container_metadata)
        stream = out.add_stream(codec, rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = fmt_pix
        opts = dict(options or {})
        if codec in ("libx264", "libx265"):
            stream.codec_context.gop_size = gop
            opts.setdefault("preset", "ultrafast")
            if codec == "libx264":
                # Phones write long GOPs without periodic scene-cut keyframes.
                opts.setdefault("x264-params", f"keyint={gop}:min-keyint={gop}:scenecut=0")
                if bframes:
                    # "bf" (max_b_frames) is the option libx264 honours over its preset
                    # (ultrafast alone writes none); an unknown key would be ignored silently.
                    opts.setdefault("bf", "2")
            else:
                opts.setdefault("x265-params", f"keyint={gop}:min-keyint={gop}:log-level=error")
        if codec in ("mpeg2video", "mpeg1video"):
            # Camcorder/DVD style: short GOPs with B-frames (decode order differs from display).
            stream.codec_context.gop_size = gop
            if bframes:
                opts.setdefault("bf", "2")
        if codec == "mjpeg":
            stream.codec_context.qmin = 2
            stream.codec_context.qmax = 4
        stream.codec_context.options = opts
        if time_base is not None:
            # The encoder rebases frame pts to its own time base: keep it fine-grained too,
            # or irregular timestamps would round onto each other.
            stream.codec_context.time_base = time_base
            stream.time_base = time_base
        if rotation is not None:
            stream.set_display_rotation(rotation)
        sound = _Tone(out, audio, pts, time_base or Fraction(1, int(fps))) if audio else None
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(stamp_frame(i, width, height), format="rgb24")
            frame = frame.reformat(format=fmt_pix)
            if pts is not None:
                frame.pts = int(pts[i])
                frame.time_base = time_base or stream.time_base
            for packet in stream.encode(frame):
                out.mux(packet)
            if sound is not None:
                sound.until((i + 1) / float(fps))
        for packet in stream.encode(None):
            out.mux(packet)
        if sound is not None:
            sound.finish()
    return path


class _Tone:
    """A quiet 440 Hz tone muxed beside the video (camcorder files always carry sound)."""

    RATE = 48000

    def __init__(
        self, out: av.container.OutputContainer, codec: str, pts: Sequence[int] | None, tb: Fraction
    ) -> None:
        self.out = out
        self.stream = out.add_stream(codec, rate=self.RATE)
        self.stream.layout = "stereo"
        # Same start as the video (an offset camcorder clock applies to both streams).
        self.start = round(float(int(pts[0]) * tb) * self.RATE) if pts is not None else 0
        self.sent = 0

    def until(self, seconds: float) -> None:
        size = self.stream.codec_context.frame_size or 1024
        while self.sent + size <= seconds * self.RATE:
            t = (np.arange(self.sent, self.sent + size) / self.RATE).astype(np.float32)
            tone = (0.05 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
            fmt = self.stream.codec_context.format.name
            if fmt == "s16":
                data = np.repeat((tone * 32767).astype(np.int16)[None, :], 2, axis=0)
                frame = av.AudioFrame.from_ndarray(
                    data.T.reshape(1, -1), format="s16", layout="stereo"
                )
            else:  # planar float (ac3, aac)
                frame = av.AudioFrame.from_ndarray(
                    np.vstack([tone, tone]), format="fltp", layout="stereo"
                )
            frame.sample_rate = self.RATE
            frame.pts = self.start + self.sent
            frame.time_base = Fraction(1, self.RATE)
            for packet in self.stream.encode(frame):
                self.out.mux(packet)
            self.sent += size

    def finish(self) -> None:
        for packet in self.stream.encode(None):
            self.out.mux(packet)


def write_long_clip(
    path: str | Path,
    *,
    seconds: float = 60.0,
    fps: int = 240,
    width: int = 1920,
    height: int = 1080,
    gop: int = 240,
    bitrate: int = 50_000_000,
    unique: int = 48,
) -> Path:
    """Write a long stamped H.264 clip quickly (phone slow motion: 1080p240, ~50 Mbit/s).

    Only ``unique`` pictures are drawn (the slow part, ~50 ms each at 1080p); every frame
    reuses one of them and gets its own index stamped straight into the luma plane (a copy
    and a few slice writes), so the cost is the encoder's alone. Frames are still all
    different (the stamp) and the moving texture makes the bitrate realistic; the rate is
    held by libx264's average-bitrate control with 2 B-frames and a fixed GOP, like a phone.
    """
    path = Path(path)
    n_frames = int(round(seconds * fps))
    base = []
    for i in range(unique):
        frame = av.VideoFrame.from_ndarray(stamp_frame(i, width, height), format="rgb24")
        base.append(frame.reformat(format="yuv420p").to_ndarray())
    band = max(4, height // 8)
    block = width // STAMP_BITS
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = bitrate
        stream.codec_context.gop_size = gop
        stream.codec_context.options = {
            "preset": "ultrafast",
            "bf": "2",
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0",
        }
        for i in range(n_frames):
            yuv = base[i % unique].copy()
            yuv[:band, :] = 16  # black band (video range), chroma there is already neutral
            for bit in range(STAMP_BITS):
                if (i >> (STAMP_BITS - 1 - bit)) & 1:
                    yuv[:band, bit * block : (bit + 1) * block] = 235
            for packet in stream.encode(av.VideoFrame.from_ndarray(yuv, format="yuv420p")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path
