"""Issue 13, item 1, through the main window: import and export a still for patient A, restore an
earlier backup, add patient B (who gets A's id again), import for B, delete B. A's files are
never adopted, offered or removed; B's own files go."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox
from sqlalchemy import select

from app.db.models import Recording
from app.records import media
from app.records.patients import PatientData, create_patient
from app.records.recordings import resolve_video
from app.records.visits import VisitData, create_visit
from app.reports.home_program import default_stills
from app.safety import backup as bk
from app.video.synthetic import write_clip


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _import(qtbot, w, clinic, name: str, clip: Path) -> tuple[int, int, Path]:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name=name)).id
        vid = create_visit(s, pid, VisitData(visit_date="2026-11-02")).id
    w.reload_patients(select_id=pid)
    w.patient_list.select(pid)
    w.import_video(vid, clip)

    def imported() -> int | None:
        with clinic.db.session() as s:
            return s.scalar(select(Recording.id).where(Recording.visit_id == vid))

    # Ids are compared with the database, not with what was open: B's recording gets A's id.
    qtbot.waitUntil(
        lambda: imported() is not None
        and w.annotation.recording_id == imported()
        and w.annotation.server is not None,
        timeout=20000,
    )
    with clinic.db.session() as s:
        rec = s.get(Recording, imported())
        return pid, vid, resolve_video(rec, clinic.videos_root)  # type: ignore[arg-type]


def test_restore_then_new_patient_with_the_same_id_then_delete(
    qtbot, clinic, tmp_path: Path, monkeypatch
) -> None:
    from ui import backup_dialog, import_video
    from ui.main_window import MainWindow

    monkeypatch.setattr(import_video, "ask_capture_fps", lambda *_a: 30.0)
    monkeypatch.setattr(QMessageBox, "information", lambda *_a, **_k: None)
    monkeypatch.setattr(QMessageBox, "warning", lambda *_a, **_k: None)
    saved_as: list[str] = []

    def save_as(_parent, _title, default, _filter):  # type: ignore[no-untyped-def]
        saved_as.append(default)
        return default, ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    clip = write_clip(tmp_path / "treadmill.mp4", n_frames=30, width=160, height=120, fps=30)
    with clinic.db.session() as s:
        create_patient(s, PatientData(full_name="Earlier Patient"))
    earlier = bk.backup_now(clinic).path

    w = MainWindow(clinic)
    qtbot.addWidget(w)
    w.show()
    a_pid, a_vid, a_video = _import(qtbot, w, clinic, "Anna Before", clip)

    def exported() -> bool:  # "Export frame" with the offered name, once the frame is shown
        w.annotation.export_frame_dialog()
        return Path(saved_as[-1]).is_file()

    qtbot.waitUntil(exported, timeout=10000)
    a_still = Path(saved_as[-1])
    with clinic.db.session() as s:
        uid = s.get(Recording, w.annotation.recording_id).uid  # type: ignore[union-attr]
    assert a_still.name.startswith(f"recording-{uid}_frame") and a_still.is_file()
    a_files = {p: _digest(p) for p in (a_video, a_still)}

    def choose_earlier(dialog) -> int:  # type: ignore[no-untyped-def]
        dialog.list.setCurrentRow([b.path for b in dialog.backups].index(earlier))
        dialog._restore()
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(backup_dialog.RestoreDialog, "exec", choose_earlier)
    assert backup_dialog.restore_backup(w, clinic)

    b_pid, b_vid, b_video = _import(qtbot, w, clinic, "Bert After", clip)
    assert (b_pid, b_vid) == (a_pid, a_vid)  # the ids really are handed out again
    with clinic.db.session() as s:
        b_folder = media.visit_folder(s, clinic.videos_root, b_vid)
        assert default_stills(s, clinic.folder.stills, b_pid) == (None, None)
    assert b_video.parent == b_folder and [p.name for p in b_folder.iterdir()] == [b_video.name]

    monkeypatch.setattr(w.actions, "confirm_delete_patient", lambda *_: True)
    w.annotation.close_recording()
    w.delete_patient(b_pid)
    assert not b_video.exists() and not b_folder.exists()
    assert {p: _digest(p) for p in a_files} == a_files  # A's video and still untouched
    w.close()
