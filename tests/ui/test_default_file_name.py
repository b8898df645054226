"""The home program's proposed PDF name stays a valid file name whatever the patient is called."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from app.clinic import open_clinic
from app.demo import ensure_demo_data
from app.filenames import MAX_STEM_BYTES
from app.paths import DataFolder
from tests.ui.test_home_program_pdf import content_for, prescribe
from ui.home_program_dialog import HomeProgramDialog


@pytest.mark.parametrize("name", ["Ж" * 300, "CON", "Ana/../../Ruiz\u202efdp.exe"])
def test_home_program_default_pdf_name_is_safe(qtbot, tmp_path: Path, monkeypatch, name: str) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QFileDialog

    clinic = open_clinic(demo=True, folder=DataFolder(tmp_path / "demo"))
    ensure_demo_data(clinic)
    try:
        content = dataclasses.replace(content_for(clinic, prescribe(clinic, "Anna")), patient_name=name)
        dialog = HomeProgramDialog(clinic, content)
        qtbot.addWidget(dialog)
        offered: list[str] = []

        def fake_save(_parent, _title, default, _filter):  # type: ignore[no-untyped-def]
            offered.append(default)
            return "", ""

        monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_save)
        assert dialog.save_pdf() is None  # cancelled
        proposed = Path(offered[0])
        assert proposed.parent == Path.home()  # no "../" escapes the folder
        assert proposed.suffix == ".pdf"
        assert len(proposed.stem.encode("utf-8")) <= MAX_STEM_BYTES
        assert "\u202e" not in proposed.name and proposed.stem.upper() != "CON"
        (tmp_path / proposed.name).write_bytes(b"%PDF-1.4")  # a name the file system accepts
    finally:
        clinic.close()
