"""Validation of what clinicians type, with messages they understand."""

from __future__ import annotations

import datetime as dt
import math
import unicodedata


class ValidationError(ValueError):
    """Input that cannot be saved. ``field`` names the form field, ``message`` says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


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


def clean_name(value: str | None) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise ValidationError("full_name", "Please enter the patient's name.")
    if len(name) > MAX_NAME:
        raise ValidationError("full_name", f"The name is longer than {MAX_NAME} characters.")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise ValidationError("full_name", "The name contains control characters.")
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
