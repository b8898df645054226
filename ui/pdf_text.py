"""Repair of the text layer of the PDFs Qt writes, so copied or searched text reads right.

Qt writes each glyph's text mapping (ToUnicode CMap) from the *lowest* code point that shares the
glyph, so "山" came out as the Kangxi radical "⼭" and a space as a tab; :func:`fix_pdf_text_mapping`
repairs those entries in place, keeping the byte length so the file's offsets stay valid.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

_CMAP = re.compile(rb"begincmap(.*?)endcmap", re.S)
_HEX4 = re.compile(rb"<([0-9A-Fa-f]{4})>")


def _better_code_point(cp: int) -> int:
    if cp == 0x09:
        return 0x20  # the space glyph is also the tab's: text should read as a space
    if 0x2E80 <= cp <= 0x2FDF:  # CJK radicals share glyphs with the unified ideographs
        norm = unicodedata.normalize("NFKC", chr(cp))
        if len(norm) == 1 and ord(norm) <= 0xFFFF:
            return ord(norm)
    return cp


def fix_pdf_text_mapping(path: str | Path) -> int:
    """Repair Qt's ToUnicode maps in place (same byte length, so offsets stay valid).

    Only the *destination* entries inside ``[...]`` arrays and single ``bfchar`` targets are
    touched. Returns how many entries were changed. Never raises for a readable file.
    """
    p = Path(path)
    if not p.is_file():
        # Never read a device or a pipe back: a read of /dev/full returns zeros for ever (this
        # made ``program --out`` hang instead of failing).
        return 0
    data = p.read_bytes()
    changed = 0

    def fix_hex(m: re.Match[bytes]) -> bytes:
        nonlocal changed
        cp = int(m.group(1), 16)
        new = _better_code_point(cp)
        if new == cp:
            return m.group(0)
        changed += 1
        return b"<%04X>" % new

    def fix_cmap(m: re.Match[bytes]) -> bytes:
        body = re.sub(rb"\[[^\]]*\]", lambda a: _HEX4.sub(fix_hex, a.group(0)), m.group(1))
        body = re.sub(
            rb"(beginbfchar)(.*?)(endbfchar)",
            lambda b: (
                b.group(1)
                + re.sub(
                    rb"(<[0-9A-Fa-f]+>\s*)(<[0-9A-Fa-f]{4}>)",
                    lambda d: d.group(1) + _HEX4.sub(fix_hex, d.group(2)),
                    b.group(2),
                )
                + b.group(3)
            ),
            body,
            flags=re.S,
        )
        return b"begincmap" + body + b"endcmap"

    fixed = _CMAP.sub(fix_cmap, data)
    if changed and len(fixed) == len(data):
        p.write_bytes(fixed)
    return changed
