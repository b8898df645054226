"""Wrong-type settings: the main window starts, says which keys were not used, and a video still
opens for marking (before, "lots" as the memory budget failed every Mark-video open)."""

from __future__ import annotations

import json
from pathlib import Path

from app.clinic import open_clinic
from app.paths import data_folder
from app.records.patients import PatientData, create_patient
from app.records.visits import VisitData, create_visit
from app.video.synthetic import write_clip

BAD = {
    "extra": ["clinic_logo"],
    "video_memory_budget_mb": "lots",
    "clinic_contact": 12,
    "shank_angle_heuristic_deg": "steep",
}


def test_bad_settings_do_not_stop_start_up_or_marking(qtbot, tmp_path: Path, monkeypatch) -> None:
    from ui import import_video
    from ui.main_window import MainWindow
    from ui.settings_dialog import ClinicSettingsDialog

    data_folder().ensure().settings_file.write_text(json.dumps(BAD), encoding="utf-8")
    clinic = open_clinic()
    try:
        with clinic.db.session() as s:
            pid = create_patient(s, PatientData(full_name="Ana Settings")).id
            vid = create_visit(s, pid, VisitData(visit_date="2026-11-02")).id
        w = MainWindow(clinic)
        qtbot.addWidget(w)
        w.show()
        label = w.settings_warning
        assert label is not None and label.isVisible()
        for key in BAD:
            assert key in label.text()
            assert f"“{key}”" in label.toolTip()

        monkeypatch.setattr(import_video, "ask_capture_fps", lambda *_a: 120.0)
        clip = write_clip(tmp_path / "clip.mp4", n_frames=30, width=160, height=120, fps=30)
        w.import_video(vid, clip)
        qtbot.waitUntil(lambda: w.annotation.recording_id is not None, timeout=20000)
        assert w.annotation.server is not None  # the video opened with the default budget
        assert not w.annotation.banner.isVisible()

        # The settings dialog opens on the defaults and saves a file that loads without problems.
        d = ClinicSettingsDialog(clinic, w)
        qtbot.addWidget(d)
        d.contact.setPlainText("Hauptstr. 1")
        assert d.save()
        assert not label.isVisible()  # the warning goes once the file is good
        again = open_clinic()
        try:
            assert again.settings_warnings == []
            assert again.settings.clinic_contact == "Hauptstr. 1"
        finally:
            again.close()
        w.close()
    finally:
        clinic.close()
