"""``stride-clinic program``: write a patient's home program as a PDF file.

The PDF is drawn by Qt (:mod:`ui.home_program`), imported lazily so that this module, like all
of ``app/``, never imports Qt at module level. Without a display (a server, a CI runner) Qt's
``offscreen`` platform is used.

Exit codes: 0 written; 2 bad input or missing data (one plain sentence on stderr), e.g. a patient
without a prescription: the message says what is missing; ``--without-cadence`` prints the
exercises and pain guidance on their own.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from types import ModuleType

from app.clinic import open_clinic
from app.db import DatabaseError
from app.paths import DataFolderError
from app.reports.exercises import ExerciseLibrary, ExerciseLibraryError
from app.reports.home_program import (
    HomeProgramError,
    NoPrescriptionError,
    build_content,
    list_programs,
    load_program,
    record_program,
)
from app.reports.stills import crop_stills
from app.reports.templates import TemplateError, TemplateStore

PROG = "stride-clinic program"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the home-program options to ``parser`` (a sub-command parser)."""
    parser.add_argument("--patient", help="patient number (as shown in the patient list)")
    parser.add_argument("--out", help="PDF file to write")
    parser.add_argument("--page-size", choices=("A4", "Letter"), default="A4")
    parser.add_argument(
        "--without-cadence",
        action="store_true",
        help="print exercises and pain guidance even if the patient has no prescription yet",
    )
    parser.add_argument(
        "--exercises",
        help="comma-separated exercise ids from the library (default: the standard selection)",
    )
    parser.add_argument(
        "--template",
        help="complaint template id (low_back_pain, patellofemoral_pain, achilles_tendinopathy, "
        "mtss_bone_stress, itb_syndrome, general); default: chosen from the patient's complaint",
    )
    parser.add_argument("--next-appointment", default="", help="text, e.g. 'Tue 3 Dec, 10:30'")
    parser.add_argument("--note", default="", help="the clinician's note for the patient")
    parser.add_argument("--before-still", help="PNG still at initial contact, first visit")
    parser.add_argument("--after-still", help="PNG still at initial contact, this visit")
    parser.add_argument(
        "--list", action="store_true", help="list the patient's printed programs and exit"
    )
    parser.add_argument(
        "--reprint", metavar="PROGRAM", help="render a past program again exactly as given"
    )
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="do not keep a copy with the visit (by default every export is recorded)",
    )


def _gui_module() -> ModuleType:
    """Import the Qt renderer with a GUI application object, offscreen when there is no screen."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    gui = importlib.import_module("ui.home_program")
    gui.ensure_gui_application()
    return gui


def _int(value: str | None, what: str) -> int:
    if value is None or not str(value).strip():
        raise HomeProgramError(f"Please give {what}.")
    try:
        return int(str(value).strip())
    except ValueError:
        raise HomeProgramError(f"{what.capitalize()} must be a number (got {value!r}).") from None


def run(args: argparse.Namespace) -> int:
    """Write (or list) the program; 0 on success, 2 with one line on stderr otherwise."""
    try:
        clinic = open_clinic(demo=getattr(args, "demo", False))
    except (DataFolderError, DatabaseError) as e:
        print(f"{PROG}: error: {getattr(e, 'message', e)}", file=sys.stderr)
        return 2
    for warning in clinic.settings_warnings:  # bad settings fell back to their defaults
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    try:
        return _run(args, clinic)
    except NoPrescriptionError as e:
        print(f"{PROG}: error: {e} (Use --without-cadence to print without it.)", file=sys.stderr)
        return 2
    except (HomeProgramError, ExerciseLibraryError, TemplateError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # the renderer's RenderError (a Qt-side class we do not import here)
        if type(e).__name__ != "RenderError":
            raise
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    finally:
        clinic.close()


def _run(args: argparse.Namespace, clinic) -> int:  # type: ignore[no-untyped-def]
    root = clinic.folder.root
    if args.list:
        pid = _int(args.patient, "the patient number (--patient)")
        with clinic.db.session() as s:
            records = list_programs(s, root, pid)
        if not records:
            print("No home program has been printed for this patient yet.")
        for r in records:
            when = f"{r.printed_at:%Y-%m-%d %H:%M}" if r.printed_at else "not printed"
            pdf = str(r.pdf_path) if r.pdf_path else "(PDF copy missing)"
            print(f"{r.id}\tvisit of {r.visit_date}\t{when}\t{pdf}")
        return 0
    if not args.out:
        raise HomeProgramError("Please give the PDF file to write with --out FILE.pdf.")
    out = Path(args.out).expanduser()
    if out.suffix.lower() != ".pdf":
        raise HomeProgramError(f"The output file must end in .pdf (got {out.name}).")
    templates = TemplateStore.for_data_folder(root)
    if args.template and templates.get(args.template) is None:
        known = ", ".join(t.id for t in templates.templates())
        raise HomeProgramError(f"There is no template {args.template!r}; choose one of {known}.")
    with clinic.db.session() as s:
        if args.reprint:
            content = load_program(s, _int(args.reprint, "the program number (--reprint)"))
        else:
            pid = _int(args.patient, "the patient number (--patient)")
            ids = [x.strip() for x in args.exercises.split(",")] if args.exercises else None
            content = build_content(
                s,
                pid,
                clinic.settings,
                library=ExerciseLibrary.for_data_folder(root),
                exercise_ids=ids,
                allow_without_prescription=args.without_cadence,
                before_still=args.before_still,
                after_still=args.after_still,
                next_appointment=args.next_appointment,
                templates=templates,
                template_id=args.template,
            )
            crop_stills(s, content, clinic.folder.cache, clinic.videos_root)
            content.clinician_note = args.note
    for w in content.warnings:
        print(f"{PROG}: note: {w}", file=sys.stderr)
    gui = _gui_module()
    pages = gui.export_pdf(content, out, args.page_size)
    if not args.no_record and not args.reprint:
        with clinic.db.session() as s:
            row = record_program(s, root, content, out)
            kept = row.pdf_path
        print(f"Wrote {out} ({pages} page{'s' if pages != 1 else ''}); a copy is kept as {kept}.")
    else:
        print(f"Wrote {out} ({pages} page{'s' if pages != 1 else ''}).")
    return 0
