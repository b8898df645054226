"""A corpus of damaged video files, generated from tiny valid clips (tests and benchmarks).

Kinds: cut short at random points, random bytes flipped, wrong extensions, zero length,
headers claiming huge pictures (MP4 ``tkhd`` and ``avc1`` sizes, AVI ``avih``/``strf`` sizes,
JPEG ``SOF0`` sizes inside MJPEG frames). Everything is derived from a seed, so a failure can be
reproduced from the file name alone.

Odd but valid inputs sit beside them: camcorder files (H.264 in MPEG-TS and AVCHD .m2ts with
clocks far from zero or across the 2^33 wrap, MPEG-2 in .mpg and .ts: they must import and
step exactly), photos renamed as videos (``still-picture``: refused as pictures) and a
fragmented MP4 cut off while being written (``cut-fragmented``: imported, with a note).
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2

from app.video.synthetic import stamp_frame, write_clip

# (file name, codec) of the valid clips everything else is derived from: tiny and quick.
BASES = (("base.mp4", "libx264"), ("base.avi", "mjpeg"), ("base.mkv", "mjpeg"))
W, H, FRAMES = 64, 48, 12


@dataclass(frozen=True)
class Case:
    path: Path
    kind: str


# Camcorder clocks: 10 h from zero, and 0.2 s before the 33-bit 90 kHz clock wraps.
_TEN_HOURS = [10 * 3600 * 30 + i for i in range(FRAMES)]
_WRAP = [2**33 // 3000 - 6 + i for i in range(FRAMES)]
_COPYTS = {"mpegts_copyts": "1"}
# (file name, write_clip arguments) of valid camcorder-style clips.
CAMCORDER = (
    ("camcorder.ts", {"pts": _TEN_HOURS, "container_options": _COPYTS}),
    (
        "camcorder.m2ts",
        {"pts": _WRAP, "audio": "ac3", "container_options": {**_COPYTS, "mpegts_m2ts_mode": "1"}},
    ),
    ("camcorder-mpeg2.mpg", {"codec": "mpeg2video", "audio": "mp2"}),
    ("camcorder-mpeg2.ts", {"codec": "mpeg2video", "pts": _WRAP, "container_options": _COPYTS}),
)


def make_bases(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, codec in BASES:
        out[name] = write_clip(
            folder / name, n_frames=FRAMES, width=W, height=H, fps=30, codec=codec, gop=6
        )
    return out


def make_camcorder(folder: Path) -> dict[str, Path]:
    """Valid camcorder-style clips (see :data:`CAMCORDER`), ``FRAMES`` stamped frames each."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, kw in CAMCORDER:
        kw = dict(kw)
        if "pts" in kw:
            kw["time_base"] = Fraction(1, 30)
        out[name] = write_clip(folder / name, n_frames=FRAMES, width=W, height=H, gop=6, **kw)
    return out


def _picture(ext: str) -> bytes:
    ok, buf = cv2.imencode(ext, stamp_frame(1, W, H))
    assert ok
    return buf.tobytes()


def _cut_fragmented(folder: Path) -> bytes:
    """A 90-frame fragmented MP4 cut at 55 %, as a camera leaves it while still writing."""
    p = write_clip(
        folder / "fragmented.mp4",
        n_frames=90,
        width=W,
        height=H,
        gop=15,
        container_options={"movflags": "frag_keyframe+empty_moov+default_base_moof"},
    )
    data = p.read_bytes()
    return data[: int(len(data) * 0.55)]


def _patch_all(data: bytearray, tag: bytes, offset: int, fmt: str, value: int) -> int:
    """Write ``value`` at ``offset`` after every occurrence of ``tag``; returns the count."""
    n, start = 0, 0
    size = struct.calcsize(fmt)
    while (i := data.find(tag, start)) >= 0:
        at = i + offset
        if at + size <= len(data):
            struct.pack_into(fmt, data, at, value)
            n += 1
        start = i + 1
    return n


def huge_mp4(data: bytes, side: int = 65535) -> bytes:
    """MP4 with ``tkhd`` (16.16 fixed) and ``avc1`` sample-entry sizes set to ``side``."""
    b = bytearray(data)
    # tkhd (version 0): tag, then 76 bytes until width/height (flags+times+matrix).
    _patch_all(b, b"tkhd", 4 + 76, ">I", side << 16)
    _patch_all(b, b"tkhd", 4 + 80, ">I", side << 16)
    # avc1: 6 reserved + 2 data-ref + 16 pre-defined, then width and height (uint16).
    _patch_all(b, b"avc1", 4 + 24, ">H", side)
    _patch_all(b, b"avc1", 4 + 26, ">H", side)
    return bytes(b)


def huge_avi(data: bytes, side: int = 60000, *, frames: bool = True) -> bytes:
    """AVI with the main header, the stream format and (optionally) every JPEG SOF0 enlarged."""
    b = bytearray(data)
    _patch_all(b, b"avih", 8 + 32, "<I", side)  # dwWidth
    _patch_all(b, b"avih", 8 + 36, "<I", side)  # dwHeight
    _patch_all(b, b"strf", 8 + 4, "<i", side)  # biWidth
    _patch_all(b, b"strf", 8 + 8, "<i", side)  # biHeight
    if frames:
        huge_sof(b, side)
    return bytes(b)


def huge_sof(b: bytearray, side: int) -> None:
    """Set every baseline JPEG frame header (SOF0: FF C0 len prec H W) to side × side."""
    _patch_all(b, b"\xff\xc0", 5, ">H", min(side, 65535))
    _patch_all(b, b"\xff\xc0", 7, ">H", min(side, 65535))


def _flip(data: bytes, rng: random.Random, count: int) -> bytes:
    b = bytearray(data)
    for _ in range(count):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8) if rng.random() < 0.5 else rng.randrange(1, 256)
    return bytes(b)


def corpus(folder: Path, count: int, *, seed: int = 2026) -> list[Case]:
    """``count`` damaged files in ``folder`` (fixed cases first, then random cuts and flips)."""
    bases = make_bases(folder / "bases")
    raw = {name: p.read_bytes() for name, p in bases.items()}
    rng = random.Random(seed)
    cases: list[Case] = []

    def add(name: str, data: bytes, kind: str) -> None:
        p = folder / name
        p.write_bytes(data)
        cases.append(Case(p, kind))

    mp4, avi, mkv = raw["base.mp4"], raw["base.avi"], raw["base.mkv"]
    add("zero.mp4", b"", "zero-length")
    add("zero.avi", b"", "zero-length")
    add("text.mp4", b"This is a patient letter, not a video.\n" * 50, "wrong-extension")
    add(
        "png.mov",
        b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(3000)),
        "wrong-extension",
    )
    add("mp4-named.avi", mp4, "wrong-extension")  # still a valid video: may import fine
    add("avi-named.mp4", avi, "wrong-extension")
    add("random.mkv", bytes(rng.randrange(256) for _ in range(20000)), "random-bytes")
    add("huge-tkhd.mp4", huge_mp4(mp4), "huge-dimensions")
    add("huge-avi-header.avi", huge_avi(avi, frames=False), "huge-dimensions")
    add("huge-avi-frames.avi", huge_avi(avi, 60000), "huge-dimensions")
    add("huge-avi-16000.avi", huge_avi(avi, 16000), "huge-dimensions")
    b = bytearray(mkv)
    huge_sof(b, 16000)
    add("huge-sof-16000.mkv", bytes(b), "huge-dimensions")
    add("header-only.mp4", mp4[:64], "truncated")
    add("header-only.avi", avi[:256], "truncated")
    for name, path in make_camcorder(folder / "camcorder").items():
        add(name, path.read_bytes(), "camcorder")
    add("photo-png.mp4", _picture(".png"), "still-picture")
    add("photo-jpeg.mp4", _picture(".jpg"), "still-picture")
    add("photo-jpeg.mts", _picture(".jpg"), "still-picture")
    add("growing-fragmented.mp4", _cut_fragmented(folder / "bases"), "cut-fragmented")
    m2ts = (folder / "camcorder.m2ts").read_bytes()
    add("cut-camcorder.m2ts", m2ts[: len(m2ts) // 2 // 192 * 192 + 100], "truncated")
    names = list(raw)
    k = 0
    while len(cases) < count:
        name = names[k % len(names)]
        data = raw[name]
        ext = Path(name).suffix
        if k % 2 == 0:
            cut = rng.randrange(1, len(data))
            add(f"cut-{k:03d}-{cut}{ext}", data[:cut], "truncated")
        else:
            n = rng.choice((1, 4, 16, 64, 256))
            add(f"flip-{k:03d}-{n}{ext}", _flip(data, rng, n), "bytes-flipped")
        k += 1
    return cases[:count]


def iter_kinds(cases: list[Case]) -> Iterator[str]:
    return iter(sorted({c.kind for c in cases}))
