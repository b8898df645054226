"""A corpus of damaged video files, generated from tiny valid clips (tests and benchmarks).

Kinds: cut short at random points, random bytes flipped, wrong extensions, zero length,
headers claiming huge pictures (MP4 ``tkhd`` and ``avc1`` sizes, AVI ``avih``/``strf`` sizes,
JPEG ``SOF0`` sizes inside MJPEG frames). Everything is derived from a seed, so a failure can be
reproduced from the file name alone.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.video.synthetic import write_clip

# (file name, codec) of the valid clips everything else is derived from: tiny and quick.
BASES = (("base.mp4", "libx264"), ("base.avi", "mjpeg"), ("base.mkv", "mjpeg"))
W, H, FRAMES = 64, 48, 12


@dataclass(frozen=True)
class Case:
    path: Path
    kind: str


def make_bases(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, codec in BASES:
        out[name] = write_clip(
            folder / name, n_frames=FRAMES, width=W, height=H, fps=30, codec=codec, gop=6
        )
    return out


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
