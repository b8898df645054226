"""GUI exports through app.outputs: owner-only, never into the data folder, never a false record."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.clinic import open_clinic
from app.db.models import HomeProgram
from app.demo import ensure_demo_data
from app.paths import DataFolder
from tests.ui.test_home_program_pdf import content_for, prescribe
from ui.home_program_dialog import HomeProgramDialog


@pytest.fixture
def demo(tmp_path: Path):  # type: ignore[no-untyped-def]
    c = open_clinic(demo=True, folder=DataFolder(tmp_path / "demo"))
    ensure_demo_data(c)  # opening seeds nothing; the entry points do
    yield c
    c.close()


def _programs(clinic) -> int:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(HomeProgram)) or 0)


def _dialog(qtbot, demo, monkeypatch, path: Path):  # type: ignore[no-untyped-def]
    import ui.home_program_dialog as hp

    dialog = HomeProgramDialog(demo, content_for(demo, prescribe(demo, "Anna")))
    qtbot.addWidget(dialog)
    warnings: list[str] = []
    monkeypatch.setattr(hp.QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    monkeypatch.setattr(hp.QMessageBox, "warning", lambda *a, **k: warnings.append(a[2]))
    return dialog, warnings


def test_save_pdf_is_owner_only_and_recorded(qtbot, demo, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "given.pdf"
    dialog, warnings = _dialog(qtbot, demo, monkeypatch, out)
    assert dialog.save_pdf() == out and not warnings
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_bytes().rstrip().endswith(b"%%EOF")
    assert _programs(demo) == 1


def test_save_pdf_into_the_data_folder_is_refused(qtbot, demo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    target = demo.folder.database.with_suffix(".pdf")
    dialog, warnings = _dialog(qtbot, demo, monkeypatch, target)
    assert dialog.save_pdf() is None
    assert warnings and "data folder" in warnings[0]
    assert not target.exists() and _programs(demo) == 0


def test_a_cut_off_pdf_is_never_recorded(qtbot, demo, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import ui.home_program as gui

    real = gui.render_pdf

    def full_disk(content, path, page_size="A4"):  # type: ignore[no-untyped-def]
        pages = real(content, path, page_size)
        Path(path).write_bytes(b"")  # Qt reports nothing when the disk is full
        return pages

    monkeypatch.setattr(gui, "render_pdf", full_disk)
    out = tmp_path / "given.pdf"
    dialog, warnings = _dialog(qtbot, demo, monkeypatch, out)
    assert dialog.save_pdf() is None
    assert warnings and "empty" in warnings[0]
    assert not out.exists() and _programs(demo) == 0
    dialog._record(dialog.content())  # "printed": the kept copy would be empty too
    assert len(warnings) == 2 and "not kept" in warnings[1]
    assert _programs(demo) == 0
    assert not list(demo.folder.cache.glob("*program*"))  # nothing left behind


def test_audit_export_is_owner_only(qtbot, demo, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import ui.audit_view as av

    warnings: list[str] = []
    monkeypatch.setattr(av.QMessageBox, "warning", lambda *a, **k: warnings.append(a[2]))
    dialog = av.AuditDialog(demo)
    qtbot.addWidget(dialog)
    out = dialog.export(str(tmp_path / "audit.csv"))
    assert out is not None and stat.S_IMODE(out.stat().st_mode) == 0o600
    assert dialog.export(str(demo.folder.root / "audit.csv")) is None  # data folder: refused
    assert warnings and "data folder" in warnings[0]


def test_still_export_is_owner_only_and_never_replaces_a_video(qtbot, demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QColor, QImage

    from ui.annotation_measures import save_still as _save_still

    img = QImage(64, 48, QImage.Format.Format_RGB32)
    img.fill(QColor("teal"))
    inside = demo.folder.stills / "recording1_frame3.png"  # the program's own stills folder
    assert _save_still(demo, img, inside)
    assert stat.S_IMODE(inside.stat().st_mode) == 0o600
    assert inside.read_bytes().startswith(b"\x89PNG")
    video = tmp_path / "run.mp4"
    video.write_bytes(b"a patient's video")
    assert not _save_still(demo, img, video)  # the dialog's overwrite answer is not enough
    assert video.read_bytes() == b"a patient's video"
    assert not _save_still(demo, img, demo.folder.database)
