"""Home program PDFs read back with pypdf: content, page count, pictures, scripts, layout."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtGui import QPdfWriter
from sqlalchemy import select

from app.clinic import open_clinic
from app.db.models import HomeProgram, Patient, Prescription
from app.demo import ensure_demo_data
from app.paths import DataFolder
from app.prescription.plan import plan_for
from app.prescription.rules import baseline_from_measurement
from app.records.patients import PatientData, create_patient
from app.records.visits import VisitData, create_visit
from app.reports.exercises import ExerciseLibrary
from app.reports.home_program import HomeProgramContent, build_content
from ui.home_program import ProgramRenderer, export_pdf, page_layout
from ui.pdf_text import fix_pdf_text_mapping
from ui.program_assets import cjk_font_available


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One demo clinic per module (building it takes seconds); tests only add to it."""
    c = open_clinic(demo=True, folder=DataFolder(tmp_path_factory.mktemp("demo")))
    ensure_demo_data(c)
    yield c
    c.close()


def runner_without_prescription(clinic, name: str = "Chloé Neu") -> int:  # type: ignore[no-untyped-def]
    """A patient with one visit and no prescription (demo patients all have one)."""
    with clinic.db.session() as s:
        p = create_patient(s, PatientData(full_name=name))
        create_visit(s, p.id, VisitData())
        return p.id


def prescribe(clinic, name_part: str, baseline: float = 158, percent: float = 5) -> int:  # type: ignore[no-untyped-def]
    plan = plan_for(baseline_from_measurement(baseline, (9, 9)), percent)
    with clinic.db.session() as s:
        p = s.scalars(select(Patient).where(Patient.full_name.contains(name_part))).one()
        s.add(
            Prescription(
                visit_id=p.visits[-1].id,
                baseline_spm=baseline,
                target_spm=plan.target_spm,
                increase_pct=percent,
                plan=plan.to_dict(),
            )
        )
        return p.id


def content_for(clinic, pid: int) -> HomeProgramContent:  # type: ignore[no-untyped-def]
    lib = ExerciseLibrary.for_data_folder(clinic.folder.root)
    with clinic.db.session() as s:
        return build_content(s, pid, clinic.settings, library=lib)


def pdf_text(path: Path) -> tuple[PdfReader, str]:
    reader = PdfReader(str(path))
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    return reader, text


@pytest.mark.parametrize("size", ["A4", "Letter"])
def test_demo_patient_program_pdf(demo, tmp_path: Path, size: str) -> None:  # type: ignore[no-untyped-def]
    pid = prescribe(demo, "Anna", 158, 5)
    content = content_for(demo, pid)
    out = tmp_path / f"anna-{size}.pdf"
    pages = export_pdf(content, out, size)
    reader, text = pdf_text(out)
    assert pages == len(reader.pages) <= 2
    assert "Anna Lindqvist" in text
    assert "166" in text and "beats per minute" in text
    for ex in content.exercises:
        assert ex.name in text, ex.name
    assert "0–3" in text and "next morning" in text
    n_images = sum(len(p.images) for p in reader.pages)
    assert n_images >= len(content.exercises) == 5
    # paper size as asked (points): A4 595 × 842, Letter 612 × 792
    box = reader.pages[0].mediabox
    expected = {"A4": (595, 842), "Letter": (612, 792)}[size]
    assert (round(float(box.width)), round(float(box.height))) == expected


def test_pictures_are_rasterised_at_print_resolution(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    content = content_for(demo, prescribe(demo, "Jonas", 160, 5))
    out = tmp_path / "jonas.pdf"
    export_pdf(content, out)
    reader = PdfReader(str(out))
    widths = [img.image.width for p in reader.pages for img in p.images]
    # drawings print 28–33 mm wide: at 300 dpi that is 330–390 px; at screen resolution
    # (96 dpi) it would be ~125 px, visibly soft on paper
    assert widths and min(widths) >= 300


@pytest.mark.parametrize(
    "name", ["山田 花子 (Hanako Yamada)", "Мария Иванова", "Ørjan Søreide", "María José Núñez"]
)
def test_non_latin_names_are_extractable(demo, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    if any(unicodedata.east_asian_width(ch) == "W" for ch in name) and not cjk_font_available():
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk)")
    content = content_for(demo, prescribe(demo, "Anna"))
    content.patient_name = name
    out = tmp_path / "name.pdf"
    export_pdf(content, out)
    _, text = pdf_text(out)
    # pypdf inserts a space where the font changes ("(" drawn in the CJK font, "Hanako" not);
    # pdftotext reads it exactly. Compare without spaces, and the name's first part exactly.
    assert name.replace(" ", "") in text.replace(" ", "")
    assert name.split(" (")[0] in text


def test_demo_japanese_patient_from_the_database(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if not cjk_font_available():
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk)")
    content = content_for(demo, prescribe(demo, "山田", 162, 7.5))
    out = tmp_path / "yamada.pdf"
    assert export_pdf(content, out, "Letter") <= 2
    _, text = pdf_text(out)
    assert "山田 花子" in text and "174" in text  # round(162 × 1.075) = 174.15


def _check_layout(content: HomeProgramContent, size: str, tmp_path: Path) -> int:
    """No block crosses the footer and no two blocks on a page overlap."""
    writer = QPdfWriter(str(tmp_path / "layout.pdf"))
    writer.setResolution(300)
    writer.setPageLayout(page_layout(size))
    r = ProgramRenderer(content)
    placed = r.layout(writer)
    for page in {p.page for p in placed}:
        items = sorted((p for p in placed if p.page == page), key=lambda p: p.y)
        for a, b in zip(items, items[1:], strict=False):
            assert a.y + a.height <= b.y + 1
        assert items[-1].y + items[-1].height <= r.body_h + 1
    return max(p.page for p in placed) + 1


@pytest.mark.parametrize("size", ["A4", "Letter"])
def test_very_long_texts_wrap_and_never_overlap(demo, tmp_path: Path, size: str) -> None:  # type: ignore[no-untyped-def]
    content = content_for(demo, prescribe(demo, "Tomás", 152, 5))
    content.patient_name = "Maximiliana Alexandra Konstantinopoulou-Wolfeschlegelsteinhausen " * 3
    content.clinician_note = " ".join(f"word{i}" for i in range(1500)) + " THE-END"
    content.exercises[0].instructions = "Supercalifragilistic" * 30  # one unbreakable word
    pages = _check_layout(content, size, tmp_path)
    assert pages >= 3
    out = tmp_path / "long.pdf"
    assert export_pdf(content, out, size) == pages
    _, text = pdf_text(out)
    for probe in ("word0", "word777", "word1499", "THE-END"):
        assert probe in text, probe


def test_missing_and_corrupt_pictures_become_placeholders(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    content = content_for(demo, prescribe(demo, "Anna"))
    broken = tmp_path / "broken.svg"
    broken.write_text("<svg><g></svg", encoding="utf-8")
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"not a png")
    content.exercises[0].picture_path = str(tmp_path / "missing.svg")
    content.exercises[1].picture_path = str(broken)
    content.exercises[2].picture_path = str(garbage)
    content.exercises[3].picture_path = ""
    content.logo_path = str(garbage)
    out = tmp_path / "placeholders.pdf"
    export_pdf(content, out)
    reader, text = pdf_text(out)
    assert sum(len(p.images) for p in reader.pages) >= 5
    assert content.exercises[1].name in text


def test_stills_logo_and_note_are_printed(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QColor, QImage

    for name, colour in (
        ("before.png", "#884444"),
        ("after.png", "#448844"),
        ("logo.png", "#1f6f8b"),
    ):
        img = QImage(640, 360, QImage.Format.Format_RGB32)
        img.fill(QColor(colour))
        assert img.save(str(tmp_path / name))
    content = content_for(demo, prescribe(demo, "Anna"))
    content.before_still = str(tmp_path / "before.png")
    content.after_still = str(tmp_path / "after.png")
    content.logo_path = str(tmp_path / "logo.png")
    content.next_appointment = "Tuesday 3 December, 10:30"
    content.clinician_note = "Great progress: keep the rhythm on the easy runs."
    out = tmp_path / "stills.pdf"
    assert export_pdf(content, out, "A4") <= 2  # a full typical program still fits two pages
    assert export_pdf(content, out, "Letter") <= 2
    reader, text = pdf_text(out)
    assert "Tuesday 3 December, 10:30" in text and "Great progress" in text
    assert "How your landing looks" in text
    assert sum(len(p.images) for p in reader.pages) >= 5 + 3


def test_fix_pdf_text_mapping_rewrites_only_destinations(tmp_path: Path) -> None:
    cmap = (
        b"%PDF-1.4\nstream\n/CIDInit begin\nbegincmap\n2 beginbfrange\n"
        b"<0001> <0004> [<0041> <0009> <2F2D> <2F65> ]\nendbfrange\n"
        b"1 beginbfchar\n<2F2D> <2F26>\nendbfchar\nendcmap\nendstream\n"
    )
    path = tmp_path / "t.pdf"
    path.write_bytes(cmap)
    assert fix_pdf_text_mapping(path) == 4
    fixed = path.read_bytes()
    assert len(fixed) == len(cmap)
    assert b"[<0041> <0020> <5C71> <7530> ]" in fixed  # space, 山, 田
    assert b"<2F2D> <5B50>" in fixed  # the source code is untouched; 子 as destination


def test_cli_writes_and_records_the_program(demo_clinic, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from ui.launcher import main  # the entry point injects Qt's renderer into app.cli

    pid = prescribe(demo_clinic, "María", 166, 5)
    with demo_clinic.db.session() as s:
        before = set(s.scalars(select(HomeProgram.id)))
    out = tmp_path / "maria.pdf"
    rc = main(
        ["program", "--demo", "--patient", str(pid), "--out", str(out), "--page-size", "Letter"]
    )
    assert rc == 0, capsys.readouterr().err
    _, text = pdf_text(out)
    assert "María José Núñez" in text and "174" in text  # round(166 × 1.05) = 174.3
    with demo_clinic.db.session() as s:
        rows = [r for r in s.scalars(select(HomeProgram)) if r.id not in before]
        assert len(rows) == 1 and rows[0].pdf_path
        assert rows[0].content["patient_id"] == pid
        assert (demo_clinic.folder.root / rows[0].pdf_path).is_file()
        program_id = rows[0].id
    again = tmp_path / "again.pdf"
    assert main(["program", "--demo", "--reprint", str(program_id), "--out", str(again)]) == 0
    assert "María José Núñez" in pdf_text(again)[1]
