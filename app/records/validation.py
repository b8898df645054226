"""Validation of what clinicians type, with messages they understand."""

from __future__ import annotations

import datetime as dt
import math
import unicodedata

from app.annotation.geometry import GeometryError, check_cm_per_px
from app.errors import ValidationError

# ValidationError itself lives in app.errors (the bottom layer), so that storage can raise
# its edit conflict as one (app.db.conflicts) without importing the records layer.


HEIGHT_RANGE_CM = (50.0, 250.0)
LEG_LENGTH_RANGE_CM = (30.0, 140.0)
SPEED_RANGE_KMH = (0.5, 30.0)
INCLINE_RANGE_PCT = (-10.0, 40.0)
SEXES = ("female", "male", "other", "unspecified")
MAX_NAME = 300


# Letters that Unicode does not decompose into base letter + accent.
_FOLD = str.maketrans(
    {
        "ø": "o",
        "Ø": "o",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ß": "ss",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
    }
)


def name_key(name: str) -> str:
    """Case- and accent-insensitive search key: "José Ñúñez" -> "jose nunez", "Sørensen" -> "sorensen"."""
    decomposed = unicodedata.normalize("NFKD", name.translate(_FOLD))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


# Characters that change how text is *displayed* without being visible: a right-to-left
# override (U+202E) makes "Anna\u202eztiM" show as "AnnaMitze", so two records look alike and
# a file name can hide its real extension. Never legitimate in a name or a note.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Zero-width (non-)joiners are real parts of Persian, Hindi and other names, and of emoji.
_NAME_FORMAT_OK = frozenset("\u200c\u200d")
MAX_TEXT = 5000
MAX_LINE = 300


def _text_problem(text: str, *, multiline: bool) -> str | None:
    """Why ``text`` cannot be stored (None when it can): one plain sentence."""
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cs":
            # A lone surrogate cannot be written as UTF-8 (SQLite, PDF, CSV all fail later).
            return "contains a damaged character (often from copy and paste); please retype it"
        if ch in BIDI_CONTROLS:
            return (
                f"contains an invisible text-direction character (U+{ord(ch):04X}) that "
                "changes how it is shown; please retype it"
            )
        if cat == "Cc" and not (multiline and ch in "\n\t"):
            return "contains control characters; please retype it"
        if cat == "Cf" and not multiline and ch not in _NAME_FORMAT_OK:
            return (
                f"contains an invisible formatting character (U+{ord(ch):04X}); please retype it"
            )
    return None


def clean_text(
    value: object,
    field: str,
    label: str,
    *,
    multiline: bool = False,
    max_len: int | None = None,
    required: bool = False,
) -> str | None:
    """Validated free text (NFC-normalised), or None when empty and not ``required``.

    Single-line text has its runs of whitespace collapsed to one space. Lone surrogates,
    control characters (except newline and tab in ``multiline`` text), bidirectional
    overrides and, in single-line text, invisible format characters are refused with a
    :class:`ValidationError` naming ``label``: they make text unprintable or misleading.
    """
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    else:
        raise ValidationError(field, f"{label} must be text.")
    limit = max_len if max_len is not None else (MAX_TEXT if multiline else MAX_LINE)
    if multiline:
        text = "\n".join(line.rstrip() for line in text.strip().splitlines())
    else:
        text = " ".join(text.split())  # a pasted line break or tab in a name becomes a space
    problem = _text_problem(text, multiline=multiline)
    if problem:
        raise ValidationError(field, f"{label} {problem}.")
    text = unicodedata.normalize("NFC", text)
    if not text:
        if required:
            raise ValidationError(field, f"Please enter {label.lower()}.")
        return None
    if len(text) > limit:
        raise ValidationError(field, f"{label} is longer than {limit} characters.")
    return text


def clean_name(value: str | None) -> str:
    """The patient's name, validated by :func:`clean_text` (required, at most 300 characters)."""
    if value is not None and not isinstance(value, str):
        raise ValidationError("full_name", "The name must be text.")
    name = clean_text(value, "full_name", "The name", max_len=MAX_NAME)
    if name is None:
        raise ValidationError("full_name", "Please enter the patient's name.")
    return name


def parse_date(
    value: str | dt.date | None, field: str, *, allow_future: bool = False
) -> dt.date | None:
    """Accept a date or ISO text (YYYY-MM-DD); reject impossible and future dates."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        date = value
    else:
        try:
            date = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError(
                field, f"“{value}” is not a valid date. Use the form YYYY-MM-DD, e.g. 1985-04-23."
            ) from None
    today = dt.date.today()
    if not allow_future and date > today:
        raise ValidationError(field, "The date lies in the future.")
    if date.year < 1900:
        raise ValidationError(field, "The date is before 1900; please check it.")
    return date


def optional_number(
    value: object, field: str, label: str, bounds: tuple[float, float], unit: str
) -> float | None:
    """A number within plausible bounds, or None when left empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(str(value).replace(",", ".")) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(field, f"{label} must be a number ({unit}).") from None
    if not math.isfinite(number):
        raise ValidationError(field, f"{label} must be a finite number.")
    lo, hi = bounds
    if not lo <= number <= hi:
        raise ValidationError(
            field,
            f"{label} of {number:g} {unit} is outside the plausible range {lo:g}–{hi:g} {unit}.",
        )
    return number


def optional_score(value: object, field: str, label: str) -> int | None:
    """A 0–10 pain score (NPRS), or None."""
    number = optional_number(value, field, label, (0, 10), "points")
    if number is None:
        return None
    if number != int(number):
        raise ValidationError(field, f"{label} must be a whole number from 0 to 10.")
    return int(number)


def calibration_scale(value: object) -> float | None:
    """A stored calibration (cm per pixel): None (not calibrated) or a positive finite number.

    Raises :class:`ValidationError` on ``cm_per_px``; the rule itself is
    :func:`app.annotation.geometry.check_cm_per_px`, shared with the marking panel and the CLI.
    """
    if value is None:
        return None
    try:
        return check_cm_per_px(value)
    except GeometryError as exc:
        raise ValidationError("cm_per_px", exc.message) from None
