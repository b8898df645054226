"""Fonts and pictures for the printed home program (Qt, no layout).

Pictures: SVG line drawings are rasterised at the output resolution; a missing or unreadable
picture becomes a labelled placeholder box. Non-Latin names: the font list adds a CJK family when
one is installed (Noto Sans CJK from Debian's ``fonts-noto-cjk``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QImage, QPainter, QPen
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

CJK_FAMILIES = (
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Source Han Sans",
    "Yu Gothic",
    "Meiryo",
    "Microsoft YaHei",
    "Hiragino Sans",
    "PingFang SC",
    "Malgun Gothic",
)


def ensure_gui_application() -> QGuiApplication:
    """The running Qt application, or a new one for the command line (no window shown).

    A QApplication rather than a bare QGuiApplication, so widgets still work if the same
    process later opens one (e.g. a test session).
    """
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1] or ["stride-clinic"])
    return app  # type: ignore[return-value]


def font_families() -> list[str]:
    """The document font: the system's sans-serif first, then an installed CJK family."""
    installed = set(QFontDatabase.families())
    base = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont).family()
    fams = [base] if base else []
    fams += [f for f in ("DejaVu Sans", "Arial", "Helvetica") if f in installed and f not in fams]
    fams += [f for f in CJK_FAMILIES if f in installed][:2]
    return fams


def cjk_font_available() -> bool:
    return any(f in set(QFontDatabase.families()) for f in CJK_FAMILIES)


# --- pictures -----------------------------------------------------------------------------------


def placeholder_image(label: str, width: int, height: int) -> QImage:
    """A light box with the exercise name, used when a picture is missing or unreadable."""
    img = QImage(max(1, width), max(1, height), QImage.Format.Format_RGB32)
    img.fill(QColor("#f3f5f6"))
    p = QPainter(img)
    pen = QPen(QColor("#9aa5ad"), max(1, width // 150), Qt.PenStyle.DashLine)
    p.setPen(pen)
    p.drawRect(img.rect().adjusted(2, 2, -3, -3))
    font = QFont()
    font.setFamilies(font_families())
    font.setPixelSize(max(6, height // 9))
    p.setFont(font)
    p.setPen(QColor("#5b6770"))
    flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
    p.drawText(img.rect().adjusted(8, 8, -8, -8), int(flags), f"{label}\n(no picture)")
    p.end()
    return img


def load_picture(
    path: str | Path | None,
    width: int,
    height: int,
    label: str,
    *,
    placeholder: bool = True,
    crop: tuple[float, ...] | list[float] = (),
) -> QImage | None:
    """Render ``path`` (SVG or raster) to fit ``width`` × ``height`` pixels; never raises.

    ``crop`` (x0, y0, x1, y1, fractions of a raster picture) keeps only that part, before the
    scaling, so the part is printed at full resolution. An unreadable picture gives a labelled
    placeholder, or None when ``placeholder`` is False.
    """
    if path:
        p = Path(path)
        try:
            if p.suffix.lower() == ".svg" and p.is_file():
                renderer = QSvgRenderer(str(p))
                if renderer.isValid():
                    size = renderer.defaultSize().scaled(
                        width, height, Qt.AspectRatioMode.KeepAspectRatio
                    )
                    img = QImage(size, QImage.Format.Format_RGB32)
                    img.fill(QColor("white"))
                    painter = QPainter(img)
                    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
                    renderer.render(painter)
                    painter.end()
                    return img
            elif p.is_file():
                img = QImage(str(p))
                if not img.isNull():
                    if len(crop) == 4:
                        x0, y0, x1, y1 = (min(max(float(v), 0.0), 1.0) for v in crop)
                        rect = QRect(
                            round(x0 * img.width()), round(y0 * img.height()),
                            max(1, round((x1 - x0) * img.width())),
                            max(1, round((y1 - y0) * img.height())),
                        )  # fmt: skip
                        img = img.copy(rect)
                    if img.width() > width or img.height() > height:
                        img = img.scaled(
                            width,
                            height,
                            Qt.AspectRatioMode.KeepAspectRatio,
                            Qt.TransformationMode.SmoothTransformation,
                        )
                    return img
        except (OSError, ValueError):
            pass
    return placeholder_image(label, width, height) if placeholder else None
