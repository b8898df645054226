"""Every exception class defined in app/ derives from the one base, ``app.errors.ClinicError``.

So the window and the command line can catch the program's own errors by type, and anything
else reaching the top is known to be a programming error (logged, shown as "Something went
wrong").
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import app
from app.errors import ClinicError, message_of


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(app.__path__, "app."):
        if ".migrations" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__ == module.__name__  # defined here, not imported
            ):
                found[f"{module.__name__}.{name}"] = obj
    return found


def test_app_defines_exception_classes() -> None:
    # The walk must see the known roots (else the test below would pass on nothing).
    names = _exception_classes()
    for expected in (
        "app.video.errors.VideoError",
        "app.db.database.DatabaseUnavailable",
        "app.errors.ValidationError",
        "app.db.conflicts.EditConflict",
    ):
        assert expected in names
    assert len(names) >= 40


def test_every_app_exception_derives_from_clinic_error() -> None:
    outside = sorted(n for n, cls in _exception_classes().items() if not issubclass(cls, ClinicError))
    assert outside == []


def test_existing_message_semantics_kept() -> None:
    from app.analysis.errors import AnalysisError
    from app.annotation.geometry import GeometryError
    from app.prescription.rules import PrescriptionError
    from app.records.validation import ValidationError
    from app.video.errors import CorruptVideo

    assert GeometryError("Click them apart.").message == "Click them apart."
    assert str(PrescriptionError("Enter a number.")) == "Enter a number."
    assert PrescriptionError("Enter a number.").message == "Enter a number."
    assert isinstance(PrescriptionError("x"), ValueError)  # callers catching ValueError still do
    v = ValidationError("height", "Too tall.")
    assert (v.field, v.message, str(v)) == ("height", "Too tall.", "Too tall.")
    c = CorruptVideo(detail="moov atom not found")
    assert c.message and c.detail == "moov atom not found"
    assert message_of(AnalysisError("No contacts.")) == "No contacts."
    assert message_of(RuntimeError("boom")) is None
