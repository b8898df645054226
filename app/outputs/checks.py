"""Checks of a written file before it takes its real name (see :mod:`app.outputs`)."""

from __future__ import annotations

import os
import wave
import zipfile
from pathlib import Path

from app.outputs.base import Check, OutputError

# --- result checks ------------------------------------------------------------------------------


def read_back(expected: bytes) -> Check:
    """A check that the file holds exactly ``expected``."""

    def check(path: Path) -> None:
        if path.read_bytes() != expected:
            raise OutputError("what was read back differs from what was written (disk error?).")

    return check


def check_pdf(path: Path) -> None:
    """A complete PDF: starts with ``%PDF-`` and ends with ``%%EOF``."""
    with open(path, "rb") as fh:
        head = fh.read(5)
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 1024))
        tail = fh.read()
    if head != b"%PDF-" or b"%%EOF" not in tail:
        raise OutputError("the PDF is incomplete (the disk may be full).")


def check_png(path: Path) -> None:
    """A complete PNG: the signature and the final ``IEND`` chunk."""
    with open(path, "rb") as fh:
        head = fh.read(8)
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 12))
        tail = fh.read()
    if head != b"\x89PNG\r\n\x1a\n" or b"IEND" not in tail:
        raise OutputError("the picture is incomplete (the disk may be full).")


def check_zip(path: Path) -> None:
    """A readable zip (also .xlsx): every member's CRC checks out."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, EOFError) as exc:
        raise OutputError("the file is incomplete (the disk may be full).") from exc
    if bad is not None:
        raise OutputError(f"the part {bad} of the file is damaged (disk error?).")


def check_wav(frames: int, sample_rate: int) -> Check:
    """A WAV whose header is readable and announces ``frames`` samples at ``sample_rate``, with
    the data really present."""

    def check(path: Path) -> None:
        try:
            with wave.open(str(path), "rb") as w:
                n, sr, width, ch = (
                    w.getnframes(),
                    w.getframerate(),
                    w.getsampwidth(),
                    w.getnchannels(),
                )
        except (wave.Error, EOFError) as exc:
            raise OutputError("the sound file's header is damaged.") from exc
        if n != frames or sr != sample_rate:
            raise OutputError(f"the sound file holds {n} samples, {frames} were expected.")
        if path.stat().st_size < 44 + n * width * ch:
            raise OutputError("the sound file is shorter than its header says (disk full?).")

    return check


def check_audio_duration(seconds: float, tolerance_s: float = 0.5) -> Check:
    """A compressed audio file (M4A, MP3) that opens and lasts ``seconds`` (± ``tolerance_s``)."""

    def check(path: Path) -> None:
        import av

        try:
            with av.open(str(path)) as c:
                if not c.streams.audio:
                    raise OutputError("the sound file holds no sound.")
                s = c.streams.audio[0]
                if s.duration is not None and s.time_base is not None:
                    got = float(s.duration * s.time_base)
                elif c.duration is not None:
                    got = c.duration / 1_000_000
                else:
                    got = _decoded_seconds(c)
        except OutputError:
            raise
        except Exception as exc:  # PyAV's errors: the file is unreadable
            raise OutputError("the sound file cannot be read back (the disk may be full).") from exc
        if abs(got - seconds) > tolerance_s:
            raise OutputError(f"the sound file lasts {got:.1f} s, {seconds:.1f} s were expected.")

    return check


def _decoded_seconds(container) -> float:  # type: ignore[no-untyped-def]
    s = container.streams.audio[0]
    n = sum(f.samples for f in container.decode(s))
    return n / float(s.rate or 1)
