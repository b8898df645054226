"""Render ``resources/icons/stride-clinic.svg`` to the PNG, ICO and ICNS files installers need.

Qt (QtSvg) draws the SVG; the ICO (Windows) and ICNS (macOS) containers are written by hand
with PNG-compressed entries, which both systems accept, so no imaging library is needed. The
outputs are committed; re-run after changing the SVG::

    QT_QPA_PLATFORM=offscreen .venv/bin/python installer/make_icons.py
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SVG = ICONS / "stride-clinic.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS types holding PNG data: ic07 128, ic08 256, ic09 512, ic11 32 (16@2x), ic12 64 (32@2x)
ICNS_TYPES = ((b"ic11", 32), (b"ic12", 64), (b"ic07", 128), (b"ic08", 256), (b"ic09", 512))


def render_png(size: int) -> bytes:
    """The SVG drawn at ``size`` x ``size`` pixels, PNG-encoded."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: cannot read {SVG}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico whose entries are PNG images (supported since Windows Vista)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        blob = pngs[size]
        # width/height 0 means 256; colour count 0, planes 1, 32 bits per pixel
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset)
        offset += len(blob)
        blobs += blob
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns with PNG chunks."""
    chunks = b"".join(
        kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(chunks)) + chunks


def main() -> int:
    pngs = {size: render_png(size) for size in PNG_SIZES}
    for size in PNG_SIZES:
        (ICONS / f"stride-clinic-{size}.png").write_bytes(pngs[size])
    (ICONS / "stride-clinic.ico").write_bytes(ico_bytes({s: pngs[s] for s in ICO_SIZES}))
    (ICONS / "stride-clinic.icns").write_bytes(icns_bytes(pngs))
    print(f"make_icons: wrote {len(PNG_SIZES)} PNGs, stride-clinic.ico and .icns in {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
