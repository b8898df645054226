"""Cheap visible stamping of pre-encoded JPEGs (used by the synthetic camera).

Encoding a 1920×1080 JPEG costs several milliseconds; at 120 fps that alone would eat a core
and make the *test camera* the bottleneck of a benchmark meant to measure the recorder. So the
synthetic source encodes a small pool of full frames once, with a JPEG restart marker after
every row of MCUs. Restart intervals are independently entropy-coded, so a new top band
(frame number and time drawn in) can be encoded on its own — ~0.1 ms for a 32-pixel band —
and its restart intervals spliced in place of the base frame's first ones. Quantisation and
Huffman tables are identical because both are encoded by the same libjpeg with the same
quality (checked once at construction).
"""

from __future__ import annotations

import re

import cv2
import numpy as np

_RST = re.compile(rb"\xff[\xd0-\xd7]")
MCU = 16  # 4:2:0 chroma subsampling (OpenCV's default) gives 16×16-pixel MCUs


def _split_scan(jpeg: bytes) -> tuple[bytes, list[bytes]]:
    """Split a baseline JPEG into (headers up to the scan, entropy-coded restart intervals)."""
    sos = jpeg.index(b"\xff\xda")
    header_len = int.from_bytes(jpeg[sos + 2 : sos + 4], "big")
    scan_start = sos + 2 + header_len
    scan_end = jpeg.rindex(b"\xff\xd9")
    return jpeg[:scan_start], _RST.split(jpeg[scan_start:scan_end])


def _tables(header: bytes) -> bytes:
    """Everything before the frame header (SOF0): quantisation and Huffman tables."""
    return header[: header.index(b"\xff\xc0")]


class StampedJpeg:
    """A pre-encoded JPEG whose top band can be replaced cheaply.

    ``band_height`` is rounded up to a multiple of the 16-pixel MCU height.
    """

    def __init__(self, image: np.ndarray, quality: int = 85, band_height: int = 32) -> None:
        h, w = image.shape[:2]
        self.width, self.height = w, h
        self.band_height = min(h, -(-band_height // MCU) * MCU)
        self._params = [
            cv2.IMWRITE_JPEG_QUALITY,
            int(quality),
            cv2.IMWRITE_JPEG_RST_INTERVAL,
            -(-w // MCU),  # one restart interval per MCU row
        ]
        self._band_source = np.ascontiguousarray(image[: self.band_height])
        ok, buf = cv2.imencode(".jpg", image, self._params)
        if not ok:  # pragma: no cover - cv2 always encodes uint8 BGR
            raise ValueError("could not encode the synthetic frame")
        self.base = buf.tobytes()
        self._header, self._segments = _split_scan(self.base)
        band_header, band_segments = _split_scan(self._encode_band(self._band_source))
        # Splicing is only valid with identical tables; this holds for libjpeg at one quality.
        self.spliceable = _tables(band_header) == _tables(self._header) and len(
            band_segments
        ) <= len(self._segments)

    def band(self) -> np.ndarray:
        """A fresh copy of the top band, to draw the stamp on."""
        return self._band_source.copy()

    def _encode_band(self, band: np.ndarray) -> bytes:
        ok, buf = cv2.imencode(".jpg", band, self._params)
        if not ok:  # pragma: no cover
            raise ValueError("could not encode the stamp band")
        return buf.tobytes()

    def with_band(self, band: np.ndarray) -> bytes:
        """The full JPEG with its top ``band_height`` rows replaced by ``band``."""
        if not self.spliceable:  # pragma: no cover - fallback keeps the source working
            return self.base
        _, new = _split_scan(self._encode_band(band))
        segments = new + self._segments[len(new) :]
        parts = [self._header, segments[0]]
        for k, seg in enumerate(segments[1:]):
            parts.append(bytes((0xFF, 0xD0 + (k % 8))))
            parts.append(seg)
        parts.append(b"\xff\xd9")
        return b"".join(parts)
