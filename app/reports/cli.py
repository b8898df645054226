"""``stride-clinic program``: write a patient's home program as a PDF file.

The PDF is drawn by a renderer the entry point injects (``args.render_pdf``, set by
:func:`app.cli.main` from its ``render_pdf`` argument; :mod:`ui.launcher` passes Qt's), so this
module, like all of ``app/``, never imports Qt or ``ui``.

Exit codes: 0 written; 2 bad input or missing data (one plain sentence on stderr), e.g. a patient
without a prescription: the message says what is missing; ``--without-cadence`` prints the
exercises and pain guidance on their own.

The PDF goes through :mod:`app.outputs` (never over an input, the database or the data folder;
an existing file only with ``--force``; a missing folder only with ``--parents``; checked for a
complete PDF before it gets its name). The kept copy and the audit entry are written in one
transaction *before* the PDF is renamed into place, so either the runner's file, its record and
its audit entry all exist, or none does. With sign-in in use, ``--user`` is required.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from app.cli import CliError, add_output_arguments, record_number, sign_in
from app.clinic import open_clinic
from app.db import DatabaseError
from app.outputs import OutputError, check_pdf, rules_for_clinic, writing
from app.paths import DataFolderError
from app.reports.exercises import ExerciseLibrary, ExerciseLibraryError
from app.reports.home_program import (
    HomeProgramContent,
    HomeProgramError,
    NoPrescriptionError,
    RenderError,
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
    add_output_arguments(parser)
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
    parser.add_argument(
        "--user",
        help="your clinician name, when sign-in is in use (password: prompt or "
        "STRIDE_CLINIC_PASSWORD)",
    )


#: ``render_pdf(content, path, page_size) -> pages``: injected by the entry point
#: (:mod:`ui.launcher` passes Qt's renderer to :func:`app.cli.main`), so ``app`` never imports it.
RenderPdf = Callable[[HomeProgramContent, Path, str], int]


def _int(value: str | None, what: str) -> int:
    try:
        return record_number(value, what)
    except CliError as e:
        if "no record" in e.message:
            noun = "patient" if "patient" in what else "saved home program"
            raise HomeProgramError(f"There is no {noun} with number {value}.") from None
        raise HomeProgramError(e.message) from None


def _still(value: str | None, which: str) -> str | None:
    """A still given on the command line must exist and be a picture: never silently dropped."""
    if not value:
        return None
    p = Path(value).expanduser()
    if not p.is_file():
        raise HomeProgramError(f"The {which} still (--{which}-still) {p} was not found.")
    if p.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise HomeProgramError(f"The {which} still must be a PNG or JPEG picture (got {p.name}).")
    return str(p)


def run(args: argparse.Namespace) -> int:
    """Write (or list) the program; 0 on success, 2 with one line on stderr otherwise."""
    try:
        clinic = open_clinic(demo=getattr(args, "demo", False))
    except (DataFolderError, DatabaseError) as e:
        print(f"{PROG}: error: {getattr(e, 'message', e)}", file=sys.stderr)
        return 2
    if clinic.demo:
        from app.demo import ensure_demo_data

        ensure_demo_data(clinic)  # an entry point: it seeds the demo clinic, opening does not
    # Bad settings that fell back to their defaults, and the start-up findings the window shows
    # in its bar (a changed audit trail, a failed start-up backup): never only in the log.
    for warning in [*clinic.settings_warnings, *clinic.warnings]:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    try:
        return _run(args, clinic)
    except NoPrescriptionError as e:
        print(f"{PROG}: error: {e} (Use --without-cadence to print without it.)", file=sys.stderr)
        return 2
    except (HomeProgramError, ExerciseLibraryError, TemplateError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except (CliError, OutputError, RenderError) as e:
        print(f"{PROG}: error: {e.message}", file=sys.stderr)
        return 2
    finally:
        clinic.close()


def _run(args: argparse.Namespace, clinic) -> int:  # type: ignore[no-untyped-def]
    from app.safety import audit

    root = clinic.folder.root
    if args.list:
        pid = _int(args.patient, "the patient number (--patient)")
        sign_in(clinic, args.user, prog=PROG)
        with clinic.db.session() as s:
            records = list_programs(s, root, pid)
            audit.record(s, "view", pid, detail="home programs listed (command line)")
        if not records:
            print("No home program has been printed for this patient yet.")
        for r in records:
            when = f"{r.printed_at:%Y-%m-%d %H:%M}" if r.printed_at else "not printed"
            pdf = str(r.pdf_path) if r.pdf_path else "(PDF copy missing)"
            print(f"{r.id}\tvisit of {r.visit_date}\t{when}\t{pdf}")
        return 0
    if not args.out:
        raise HomeProgramError("Please give the PDF file to write with --out FILE.pdf.")
    if args.out != "-" and Path(args.out).suffix.lower() != ".pdf":
        raise HomeProgramError(f"The output file must end in .pdf (got {Path(args.out).name}).")
    templates = TemplateStore.for_data_folder(root)
    if args.template and templates.get(args.template) is None:
        known = ", ".join(t.id for t in templates.templates())
        raise HomeProgramError(f"There is no template {args.template!r}; choose one of {known}.")
    before = _still(args.before_still, "before")
    after = _still(args.after_still, "after")
    rules = rules_for_clinic(
        clinic,
        inputs=[before, after],
        force=args.force,
        parents=args.parents,
    )
    if args.out != "-":
        rules.check(args.out)  # refuse before any work (and before asking for a password)
    sign_in(clinic, args.user, prog=PROG)
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
                before_still=before,
                after_still=after,
                next_appointment=args.next_appointment,
                templates=templates,
                template_id=args.template,
            )
            crop_stills(s, content, clinic.folder.cache, clinic.videos_root)
            content.clinician_note = args.note
    for w in content.warnings:
        print(f"{PROG}: note: {w}", file=sys.stderr)
    render: RenderPdf | None = getattr(args, "render_pdf", None)
    if render is None:
        raise RenderError(
            "This copy of the program cannot draw PDF files (no renderer was given): start it "
            "with the 'stride-clinic' command."
        )
    record = not args.no_record and not args.reprint
    kept: str | None = None
    # One transaction around the write: the record and the audit entry are flushed (a locked
    # or read-only database fails here, before the file gets its name) and committed only after
    # the file was delivered, so nothing is recorded for a file nobody received.
    existed = args.out != "-" and Path(args.out).expanduser().exists()
    delivered: Path | None = None
    try:
        with clinic.db.session() as s:
            with writing(args.out, rules, private=True, check=check_pdf) as pdf:
                pages = render(content, pdf.temp, args.page_size)
                pdf.verify()  # a PDF cut short by a full disk is never recorded as given
                if record:
                    row = record_program(s, root, content, pdf.temp)
                    kept = row.pdf_path
                what = "reprint" if args.reprint else "export"
                audit.record(
                    s, "export", content.patient_id, detail=f"home program PDF, CLI {what}"
                )
                s.flush()
            delivered = pdf.target
    except BaseException:
        if kept:  # the transaction failed: do not leave a copy that no row describes
            (root / kept).unlink(missing_ok=True)
        if delivered is not None and not existed:  # delivered but not recorded: take it back
            delivered.unlink(missing_ok=True)
        raise
    where = "standard output" if pdf.target is None else str(pdf.target)
    plural = "s" if pages != 1 else ""
    tail = f"; a copy is kept as {kept}." if kept else "."
    print(
        f"Wrote {where} ({pages} page{plural}){tail}",
        file=sys.stderr if pdf.target is None else sys.stdout,
    )
    return 0
