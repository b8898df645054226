"""Safe default file names built from text a clinician typed (a patient's name, a title).

One function, used wherever the program proposes a file name, so that no name can produce a
path that fails to save, lands in another folder, or shows a different extension than it has:

* NFC, so "Zoë" typed on a Mac and on Windows gives the same bytes;
* path separators and characters Windows refuses (``\\ / : * ? " < > |``), control and
  invisible format characters (bidi overrides: "report\\u202efdp.exe") become spaces;
* no leading dots (hidden files) and no trailing dots or spaces (Windows drops them);
* Windows' reserved device names (CON, NUL, COM1, …) get an underscore;
* the result is capped in UTF-8 *bytes*, not characters (most file systems allow 255 bytes
  per name; a 300-character name in Cyrillic or Chinese is 600–900 bytes), cut at a character
  boundary, with room left for the extension.
"""

from __future__ import annotations

import re
import unicodedata

# 255 bytes is the per-name limit of ext4, APFS and NTFS (UTF-16 there, which is never longer
# in code units than UTF-8 in bytes for these characters); leave room for an extension, a
# " (2)" that save dialogs add, and a temporary suffix used by atomic writers.
MAX_STEM_BYTES = 180

_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"COM{i}" for i in range(10)]
    + [f"LPT{i}" for i in range(10)]
    + [f"COM{c}" for c in "¹²³"]
    + [f"LPT{c}" for c in "¹²³"]
)
_FORBIDDEN = re.compile(r'[\\/:*?"<>|]')


def _is_unsafe_char(ch: str) -> bool:
    cat = unicodedata.category(ch)
    # Cc control, Cf format (bidi overrides, zero-width), Cs lone surrogates, Zl/Zp separators
    return cat in ("Cc", "Cf", "Cs", "Zl", "Zp") or bool(_FORBIDDEN.match(ch))


def _cap_bytes(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    # errors="ignore" drops a multi-byte character cut in half, never producing invalid UTF-8.
    cut = encoded[:max_bytes].decode("utf-8", errors="ignore")
    # Do not leave a base letter without the accent that followed it.
    while cut and unicodedata.combining(cut[-1]):
        cut = cut[:-1]
    return cut


def safe_file_stem(
    text: str, *, fallback: str = "Stride Clinic", max_bytes: int = MAX_STEM_BYTES
) -> str:
    """A file name without extension made from ``text``, safe on Windows, macOS and Linux.

    Never empty (``fallback`` is used when nothing usable is left) and at most ``max_bytes``
    bytes in UTF-8. Example: ``safe_file_stem("Home program - A/B: Ana") ==
    "Home program - A B Ana"``.
    """
    text = unicodedata.normalize("NFC", text or "")
    cleaned = "".join(" " if _is_unsafe_char(ch) else ch for ch in text)
    stem = " ".join(cleaned.split())
    stem = _cap_bytes(stem, max_bytes)
    stem = stem.lstrip(". ").rstrip(". ")
    if not stem:
        stem = fallback
    # "CON", "con.backup", "NUL " are device names on Windows whatever the extension.
    if stem.split(".")[0].strip().upper() in _WINDOWS_RESERVED:
        stem = _cap_bytes(f"_{stem}", max_bytes).rstrip(". ")
    return stem


def safe_file_name(
    text: str, suffix: str, *, fallback: str = "Stride Clinic", max_bytes: int = MAX_STEM_BYTES
) -> str:
    """:func:`safe_file_stem` of ``text`` plus ``suffix`` (for example ``".pdf"``)."""
    return safe_file_stem(text, fallback=fallback, max_bytes=max_bytes) + suffix
