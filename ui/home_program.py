"""Home program on paper: layout and rendering to a printer or PDF, preview, print and export.

Layout: the document is a list of *blocks* (header, cadence, running, pain, one per exercise,
stills, note). Each block is a small :class:`QTextDocument` laid out on the printer itself (so
font metrics are the printer's, not the screen's) at the full text width; a block that does not
fit on the rest of a page moves to the next, so a heading never sits alone at a page foot and an
exercise picture is never cut. Text wraps inside its block, so nothing is clipped at A4 or
Letter; a block taller than a whole page (a very long note) is split at line boundaries.

Pictures and fonts come from :mod:`ui.program_assets` (SVG rasterised at the output resolution,
a labelled placeholder for a missing picture, a CJK family when installed); the PDF's text layer
is repaired by :mod:`ui.pdf_text` (Qt maps some glyphs to the wrong code point).
"""

from __future__ import annotations

import contextlib
import html
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QTextDocument,
)
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo, QPrintPreviewDialog
from PySide6.QtWidgets import (
    QMessageBox,
    QWidget,
)

from app.outputs import OutputRules, check_pdf, writing
from app.reports.home_program import (
    HomeProgramContent,
    RenderError,  # noqa: F401 - raised here, re-exported for the dialogs
)
from ui.pdf_text import fix_pdf_text_mapping
from ui.program_assets import (  # noqa: F401 - ensure_gui_application: re-exported for the CLI
    cjk_font_available,
    ensure_gui_application,
    font_families,
    load_picture,
    placeholder_image,
)

PAGE_SIZES = {"A4": QPageSize.PageSizeId.A4, "Letter": QPageSize.PageSizeId.Letter}
MARGINS_MM = QMarginsF(16, 14, 16, 12)
MAX_IMAGE_DPI = 300
PIC_W_MM, PIC_H_MM = 33.0, 22.0  # exercise drawings (3:2, like the SVG view boxes)
# Each still up to 80 × 90 mm (two side by side fill the text width): a crop of the legs
# printed this size shows the landing foot several centimetres tall.
STILL_W_MM, STILL_H_MM = 80.0, 90.0
GAP_MM = 3.5  # between sections
TARGET_PAGES = 2
COMPACTION_LEVELS = 4
ACCENT = "#1f6f8b"
MUTED = "#5b6770"
ZONE_COLOURS = {"green": "#d8f0dc", "amber": "#fdebc8", "red": "#f8d3d0"}


# --- text helpers ---------------------------------------------------------------------------------


def _esc(text: str) -> str:
    """HTML-escape and keep line breaks; long unbroken words may wrap anywhere (see CSS)."""
    return html.escape(text or "").replace("\n", "<br/>")


def _bullets(lines: list[str]) -> str:
    items = "".join(f"<li>{_esc(x)}</li>" for x in lines if x.strip())
    return f"<ul style='margin-top:2px;margin-bottom:2px'>{items}</ul>" if items else ""


def _h(text: str) -> str:
    return (
        f"<p style='font-size:13pt;font-weight:600;color:{ACCENT};margin-top:0;"
        f"margin-bottom:3px'>{_esc(text)}</p>"
    )


@dataclass
class Block:
    """A piece of the page that is kept together (unless taller than a whole page)."""

    html: str
    images: dict[str, QImage] = field(default_factory=dict)
    ruled_lines: int = 0
    """Empty lines drawn under the text for handwriting (clinician's note)."""
    min_ruled_lines: int | None = None
    """If set, fewer lines (down to this) are drawn rather than starting a new page."""
    gap_after_mm: float = GAP_MM


@dataclass
class _Placed:
    block: Block
    doc: QTextDocument
    page: int
    y: float
    height: float
    clip_from: float = 0.0  # for a split block: the slice of the document on this page
    clip_to: float | None = None


class ProgramRenderer:
    """Draws a :class:`HomeProgramContent` onto any paged device (QPrinter, QPdfWriter)."""

    def __init__(self, content: HomeProgramContent) -> None:
        self.content = content
        self.level = 0
        self._images: dict[tuple[str, int, int, str, tuple[float, ...]], QImage] = {}

    # -- units --
    def _setup(self, device: QPagedPaintDevice) -> None:
        self.dpi = float(device.logicalDpiY())
        rect = device.pageLayout().paintRectPixels(int(self.dpi))
        self.width = float(rect.width())
        self.height = float(rect.height())
        self.footer_h = self.mm(7)
        self.body_h = self.height - self.footer_h
        self.img_dpi = min(self.dpi, MAX_IMAGE_DPI)
        self.font = QFont()
        self.font.setFamilies(font_families())
        self.font.setPointSizeF(10)
        # Ligatures ("fl" in "hip-flexor") would be copied/searched as one odd character.
        for tag in ("liga", "clig"):
            self.font.setFeature(QFont.Tag(tag), 0)

    def mm(self, value: float) -> float:
        """Millimetres to device pixels (painting, page geometry)."""
        return value * self.dpi / 25.4

    @staticmethod
    def css(value: float) -> float:
        """Millimetres to HTML pixels: Qt scales HTML lengths from 96 dpi to the device."""
        return value * 96 / 25.4

    def _image(
        self, path: str, w_mm: float, h_mm: float, label: str, crop: list[float] | None = None
    ) -> QImage:
        w = round(w_mm * self.img_dpi / 25.4)
        h = round(h_mm * self.img_dpi / 25.4)
        key = (path, w, h, label, tuple(crop or ()))
        if key not in self._images:  # layout may run several times: rasterise once
            self._images[key] = load_picture(
                path, w, h, label, crop=crop or ()
            ) or placeholder_image(label, w, h)
        return self._images[key]

    def _img_tag(self, key: str, img: QImage, max_w_mm: float, max_h_mm: float) -> str:
        # Display size in device pixels, keeping the picture's aspect ratio.
        scale = min(self.css(max_w_mm) / img.width(), self.css(max_h_mm) / img.height())
        return f"<img src='img:{key}' width='{img.width() * scale:.0f}' height='{img.height() * scale:.0f}'/>"

    def _doc(self, block: Block, device: QPagedPaintDevice) -> QTextDocument:
        doc = QTextDocument()
        doc.documentLayout().setPaintDevice(device)
        doc.setDefaultFont(self.font)
        doc.setDocumentMargin(0)
        doc.setDefaultStyleSheet(
            "td { vertical-align: top; } "
            "table.grid { border-collapse: collapse; } "
            "table.grid td { border: 1px solid #b8c4ca; }"
        )
        for key, img in block.images.items():
            doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"img:{key}"), img)
        doc.setHtml(block.html)
        doc.setTextWidth(self.width)
        return doc

    # -- blocks --
    def blocks(self) -> list[Block]:
        c = self.content
        out = [self._header()]
        if c.cadence is not None:
            out.append(self._cadence())
        if c.run_plan or c.run_log_rows:
            out.append(self._running())
        out.append(self._pain())
        out += self._exercises()
        if c.before_still or c.after_still:
            out.append(self._stills())
        out.append(self._note())
        return out

    def _header(self) -> Block:
        c = self.content
        images: dict[str, QImage] = {}
        logo = ""
        img = load_picture(c.logo_path, 600, 300, "", placeholder=False)
        if img is not None:  # a missing or broken logo is left out, never a grey box
            images["logo"] = img
            logo = f"<td width='1%' style='padding-right:{self.css(3):.0f}px'>{self._img_tag('logo', img, 40, 16)}</td>"
        appt = _esc(c.next_appointment) if c.next_appointment.strip() else "_" * 24
        pad = f"{self.css(1.2):.0f}"
        return Block(
            f"<table width='100%' cellspacing='0' cellpadding='0'><tr>{logo}"
            f"<td><span style='font-size:15pt;font-weight:600;color:{ACCENT}'>{_esc(c.clinic_name)}</span>"
            + (
                f"<br/><span style='font-size:9pt;color:{MUTED}'>{_esc(c.clinic_contact)}</span>"
                if c.clinic_contact.strip()
                else ""
            )
            + "</td>"
            f"</tr></table>"
            f"<p style='font-size:18pt;font-weight:700;margin-top:{self.css(1.5):.0f}px;margin-bottom:{self.css(1):.0f}px'>{_esc(c.title)}</p>"
            f"<table width='100%' cellspacing='0' cellpadding='{pad}' bgcolor='#eef4f6'>"
            f"<tr><td width='50%'>For: <b>{_esc(c.patient_name)}</b></td>"
            f"<td width='50%'>Physiotherapist: <b>{_esc(c.clinician_name) or '_' * 20}</b></td></tr>"
            f"<tr><td>Date: {_esc(c.date_text)}</td><td>Next appointment: <b>{appt}</b></td></tr>"
            "</table>",
            images,
        )

    def _cadence(self) -> Block:
        c = self.content
        cad = c.cadence
        assert cad is not None
        pad = f"{self.css(1.2):.0f}"
        rows = "".join(
            f"<tr><td width='24%'><b>{_esc(str(r[0]) if r else '')}</b></td>"
            f"<td>{_esc(str(r[1]) if len(r) > 1 else '')}</td></tr>"
            for r in cad.schedule
        )
        expect = "".join(f"<li>{_esc(x)}</li>" for x in cad.expect if x.strip())
        cues = " · ".join(_esc(x) for x in cad.cues if x.strip())
        side = (
            f"{_esc(cad.intro)}"
            + (("<br/><b>Think:</b> " + cues) if cues else "")
            + f"<br/>{_esc(cad.practice)}"
            + (
                "<br/><b>What to expect:</b>"
                f"<ul style='margin-top:0;margin-bottom:0;margin-left:{self.css(4):.0f}px'>"
                f"{expect}</ul>"
                if expect
                else ""
            )
        )
        return Block(
            _h("Your running rhythm")
            + f"<table width='100%' cellspacing='0' cellpadding='{pad}'><tr>"
            f"<td width='24%' bgcolor='{ACCENT}' align='center' style='color:white'>"
            f"<span style='font-size:9pt'>Target cadence</span><br/>"
            f"<span style='font-size:28pt;font-weight:700'>{cad.target_spm}</span><br/>"
            f"<span style='font-size:9pt'>steps per minute</span><br/>"
            f"<span style='font-size:9pt'>Metronome at <b>{cad.metronome_bpm}</b><br/>"
            "beats per minute</span></td>"
            f"<td style='padding-left:{self.css(3):.0f}px'>{side}</td></tr></table>"
            + f"<p style='margin-top:{self.css(1.5):.0f}px;margin-bottom:1px'>"
            "<b>When to use the metronome</b> (one run = one session)</p>"
            + f"<table width='100%' cellspacing='0' cellpadding='{self.css(0.8):.0f}' class='grid'>"
            f"{rows}</table>"
            + (
                f"<p style='margin-top:{self.css(1):.0f}px;margin-bottom:0'>{_esc(cad.next_steps)}</p>"
                if cad.next_steps
                else ""
            )
        )

    def _running(self) -> Block:
        c = self.content
        log = ""
        # Exactly the rows the clinician asked for: compaction never drops any (issue 18); a long
        # table moves to the next page with the rest of the section.
        n_rows = c.run_log_rows
        if n_rows > 0:
            pad = f"{self.css(0.8):.0f}"
            head = (
                "<tr bgcolor='#eef4f6'><td width='9%'><b>Run</b></td><td width='17%'><b>Date</b></td>"
                "<td width='14%'><b>Minutes</b></td><td width='20%'><b>Pain during (0–10)</b></td>"
                "<td><b>Next morning: better / same / worse</b></td></tr>"
            )
            body = "".join(
                f"<tr><td>{i}</td><td></td><td></td><td></td><td></td></tr>"
                for i in range(1, n_rows + 1)
            )
            log = (
                f"<table width='100%' cellspacing='0' cellpadding='{pad}' class='grid' "
                f"style='font-size:9pt;margin-top:{self.css(1.5):.0f}px'>{head}{body}</table>"
            )
        return Block(_h(c.run_plan_title) + _bullets(c.run_plan) + log)

    def _pain(self) -> Block:
        c = self.content
        pad = f"{self.css(1.2):.0f}"
        rows = "".join(
            f"<tr><td width='28%' bgcolor='{ZONE_COLOURS.get(z.colour, '#eeeeee')}' align='center'>"
            f"<b>{_esc(z.scores)}</b><br/>{_esc(z.label)}</td>"
            f"<td>{_esc(z.meaning)}</td></tr>"
            for z in c.pain_zones
        )
        # The complaint's advice (template) follows the general pain rules in the same list.
        rules = "".join(f"<li>{_esc(x)}</li>" for x in [*c.pain_rules, *c.advice] if x.strip())
        return Block(
            _h(c.pain_title)
            + (f"<p style='margin:0'>{_esc(c.pain_intro)}</p>" if c.pain_intro.strip() else "")
            + "<table width='100%' cellspacing='0' cellpadding='0' style='margin-top:3px'><tr>"
            f"<td width='50%'><table width='100%' cellspacing='0' cellpadding='{pad}' class='grid'>"
            f"{rows}</table></td>"
            f"<td style='padding-left:{self.css(2):.0f}px'>"
            f"<ul style='margin-top:0;margin-bottom:0'>{rules}</ul></td></tr></table>"
        )

    def _exercises(self) -> list[Block]:
        """One block per exercise: picture left, name, dose and instructions right."""
        c = self.content
        pw, ph = (PIC_W_MM, PIC_H_MM) if self.level < 2 else (PIC_W_MM * 0.85, PIC_H_MM * 0.85)
        out: list[Block] = []
        for i, ex in enumerate(c.exercises):
            key = f"ex{i}"
            img = self._image(ex.picture_path, pw, ph, ex.name)
            card = (
                f"<table width='100%' cellspacing='0' cellpadding='{self.css(0.8):.0f}'><tr>"
                f"<td width='{self.css(pw + 3):.0f}'>{self._img_tag(key, img, pw, ph)}</td>"
                f"<td><b style='font-size:10.5pt'>{_esc(ex.name)}</b>"
                f"&nbsp;&nbsp;<span style='color:{ACCENT};font-weight:600'>{_esc(ex.dose_text)}"
                f"</span><br/><span style='font-size:9.5pt'>{_esc(ex.instructions)}</span></td>"
                "</tr></table>"
            )
            lead = ""
            if i == 0:  # keep the section title with the first exercise
                lead = _h(c.exercises_title) + (
                    f"<p style='margin:0'>{_esc(c.exercises_intro)}</p>"
                    if c.exercises_intro.strip()
                    else ""
                )
            out.append(Block(lead + card, {key: img}, gap_after_mm=1.0))
        if out:
            out[-1].gap_after_mm = GAP_MM
        return out

    def _stills(self) -> Block:
        c = self.content
        images: dict[str, QImage] = {}
        cells = []
        for key, path, caption, crop in (
            ("before", c.before_still, c.before_caption, c.before_crop),
            ("after", c.after_still, c.after_caption, c.after_crop),
        ):
            if not path:
                continue
            # Compaction shrinks the stills step by step, never below about 44 × 50 mm.
            scale = (1.0, 0.8, 0.65, 0.55)[self.level]
            sw, sh = STILL_W_MM * scale, STILL_H_MM * scale
            img = self._image(path, sw, sh, caption or "Still", crop)
            images[key] = img
            cells.append(
                f"<td width='50%' align='center'>{self._img_tag(key, img, sw, sh)}<br/>"
                f"<b>{_esc(caption)}</b></td>"
            )
        return Block(
            _h(c.stills_title)
            + f"<table width='100%' cellspacing='{self.css(2):.0f}' cellpadding='0'><tr>{''.join(cells)}</tr></table>"
            + (
                f"<p style='margin:0;font-size:9pt;color:{MUTED}'>{_esc(c.stills_note)}</p>"
                if c.stills_note
                else ""
            ),
            images,
        )

    def _note(self) -> Block:
        c = self.content
        text = (
            f"<p style='margin:0'>{_esc(c.clinician_note)}</p>" if c.clinician_note.strip() else ""
        )
        return Block(
            _h("Notes from your physiotherapist") + text,
            ruled_lines=3 if text else 6,
            min_ruled_lines=0 if text else 2,
            gap_after_mm=0,
        )

    # -- pagination and painting --
    def layout(self, device: QPagedPaintDevice) -> list[_Placed]:
        """Place every block on a page (0-based) without painting.

        A program that would take more than two pages is laid out again more compactly
        (fewer blank rows in the run log, smaller stills and drawings, then 9.5 pt text);
        no text is ever dropped, so a very long program still prints, on more pages.
        """
        self._setup(device)
        placed: list[_Placed] = []
        for level in range(COMPACTION_LEVELS):
            self.level = level
            self.font.setPointSizeF(10 if level < 3 else 9.5)
            placed = self._layout_once(device)
            if placed and placed[-1].page < TARGET_PAGES:
                return placed
        # Too long for two pages anyway: use the roomiest layout rather than the tightest.
        self.level = 0
        self.font.setPointSizeF(10)
        return self._layout_once(device)

    def _layout_once(self, device: QPagedPaintDevice) -> list[_Placed]:
        placed: list[_Placed] = []
        page, y = 0, 0.0
        line_h = self.mm(8)
        for block in self.blocks():
            doc = self._doc(block, device)
            h = doc.size().height() + block.ruled_lines * line_h
            if block.min_ruled_lines is not None and y > 0 and y + h > self.body_h:
                room = int((self.body_h - self.mm(3) - y - doc.size().height()) // line_h)
                if room >= block.min_ruled_lines:
                    block.ruled_lines = room
                    h = doc.size().height() + room * line_h
            if y > 0 and y + h > self.body_h:
                page, y = page + 1, 0.0
            if h <= self.body_h:
                placed.append(_Placed(block, doc, page, y, h))
                y += h + self.mm(block.gap_after_mm)
                continue
            # Taller than a page: let the document break at line boundaries, one slice a page.
            doc.setPageSize(QSizeF(self.width, self.body_h))
            total = doc.size().height()
            start = 0.0
            while start < total - 1:
                end = min(total, start + self.body_h)
                placed.append(_Placed(block, doc, page, 0.0, end - start, start, end))
                start = end
                if start < total - 1:
                    page += 1
            y = placed[-1].height + self.mm(block.gap_after_mm)
        return placed

    def paint(self, device: QPagedPaintDevice) -> int:
        """Draw all pages on ``device``; returns the number of pages. Raises RenderError."""
        placed = self.layout(device)
        pages = (placed[-1].page + 1) if placed else 1
        painter = QPainter()
        if not painter.begin(device):
            raise RenderError(
                "The program could not be drawn on this printer or file (is the file open in "
                "another program, or the folder read-only?)."
            )
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            for page in range(pages):
                if page > 0 and not device.newPage():
                    raise RenderError("The printer refused a new page.")
                for item in (p for p in placed if p.page == page):
                    self._paint_item(painter, item)
                self._paint_footer(painter, page, pages)
        finally:
            painter.end()
        if (
            isinstance(device, QPrinter)
            and device.outputFormat() == QPrinter.OutputFormat.PdfFormat
            and device.outputFileName()
        ):  # "print to file" in the system dialog: same text repair as export_pdf
            with contextlib.suppress(OSError):
                fix_pdf_text_mapping(device.outputFileName())
        return pages

    def _paint_item(self, painter: QPainter, item: _Placed) -> None:
        painter.save()
        painter.translate(0, item.y - item.clip_from)
        clip_to = item.clip_to if item.clip_to is not None else item.doc.size().height()
        item.doc.drawContents(
            painter, QRectF(0, item.clip_from, self.width, clip_to - item.clip_from)
        )
        painter.restore()
        if item.block.ruled_lines and item.clip_to is None:
            pen = QPen(QColor("#9aa5ad"), self.mm(0.2))
            painter.setPen(pen)
            top = item.y + item.doc.size().height()
            for i in range(1, item.block.ruled_lines + 1):
                y = top + i * self.mm(8)
                painter.drawLine(0, round(y), round(self.width), round(y))

    def _paint_footer(self, painter: QPainter, page: int, pages: int) -> None:
        c = self.content
        font = QFont(self.font)
        font.setPointSizeF(8)
        painter.setFont(font)
        painter.setPen(QColor(MUTED))
        y = self.height - self.footer_h
        painter.drawLine(0, round(y + self.mm(1.5)), round(self.width), round(y + self.mm(1.5)))
        rect = QRectF(0, y + self.mm(2), self.width, self.footer_h - self.mm(2))
        left = f"{c.patient_name} · {c.title} · {c.date_text}"
        right = f"Page {page + 1} of {pages}"
        right_w = painter.fontMetrics().horizontalAdvance(right) + self.mm(3)
        elided = painter.fontMetrics().elidedText(
            left, Qt.TextElideMode.ElideRight, int(self.width - right_w)
        )
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), elided)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop), right)


# --- PDF -------------------------------------------------------------------------------------------


def page_layout(page_size: str = "A4") -> QPageLayout:
    """Portrait page of ``page_size`` ("A4" or "Letter") with the program's margins."""
    if page_size not in PAGE_SIZES:
        raise RenderError(f"Unknown page size {page_size!r}: choose A4 or Letter.")
    return QPageLayout(
        QPageSize(PAGE_SIZES[page_size]),
        QPageLayout.Orientation.Portrait,
        MARGINS_MM,
        QPageLayout.Unit.Millimeter,
    )


def render_pdf(content: HomeProgramContent, path: str | Path, page_size: str = "A4") -> int:
    """Draw the program into the PDF file ``path`` (a fresh regular file, usually the temporary
    file of :func:`app.outputs.writing`); returns the page count. Raises RenderError.

    Qt's PDF writer reports no write errors, so the caller checks the result
    (:func:`app.outputs.check_pdf`) before trusting it.
    """
    out = Path(path)
    writer = QPdfWriter(str(out))
    writer.setResolution(300)
    writer.setPageLayout(page_layout(page_size))
    writer.setTitle(f"{content.title} – {content.patient_name}")
    writer.setCreator("Stride Clinic")
    pages = ProgramRenderer(content).paint(writer)
    del writer  # flush and close the file before patching it
    try:
        fix_pdf_text_mapping(out)
    except OSError as exc:
        raise RenderError(f"The PDF could not be completed: {exc.strerror or exc}.") from exc
    return pages


def export_pdf(
    content: HomeProgramContent,
    path: str | Path,
    page_size: str = "A4",
    *,
    rules: OutputRules | None = None,
) -> int:
    """Write the program as a PDF file (owner-only: it holds the patient's name); returns the
    page count. Raises RenderError, or :class:`app.outputs.OutputError` when the file must not
    be written or came out incomplete (a full disk): nothing is left under ``path`` then.

    ``rules`` default to replacing an existing file and creating missing folders (the file
    dialogs ask the clinician first); the command line passes its own.
    """
    rules = rules or OutputRules(force=True, parents=True)
    with writing(path, rules, private=True, check=check_pdf) as out:
        pages = render_pdf(content, out.temp, page_size)
    return pages


# --- printing, preview and the editor ---------------------------------------------------------


def make_printer(page_size: str = "A4") -> QPrinter:
    """A high-resolution printer set to ``page_size`` with the program's margins."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setPageLayout(page_layout(page_size))
    return printer


def printers_available() -> bool:
    return bool(QPrinterInfo.availablePrinters())


def make_preview_dialog(
    content: HomeProgramContent, printer: QPrinter, parent: QWidget | None = None
) -> QPrintPreviewDialog:
    """A print preview that draws ``content``; its Print button prints to ``printer``."""
    dialog = QPrintPreviewDialog(printer, parent)
    dialog._printer = printer  # type: ignore[attr-defined]  # Qt does not own it: keep it alive
    dialog.setWindowTitle(f"Preview – {content.title} – {content.patient_name}")

    def paint(target: QPrinter) -> None:
        try:
            ProgramRenderer(content).paint(target)
        except RenderError as e:
            QMessageBox.warning(dialog, "Home program", str(e))

    dialog.paintRequested.connect(paint)
    dialog.resize(900, 1000)
    return dialog
