"""The dual player (ui/dual_player.py): linked stepping by keys, re-align, layouts, superimposed
view, export from the player, and opening it from Compare visits and from a side + rear capture."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import pytest
from PySide6.QtCore import Qt

from app.analysis.events import EventType, Foot, FootEvent
from app.records.patients import PatientData, create_patient
from app.records.recordings import import_recording, replace_events, replace_overlays
from app.records.visits import VisitData, create_visit
from app.video.synthetic import read_stamp, write_clip

FPS_A, FPS_B = 60, 25


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("dual_clips")
    write_clip(d / "october.mp4", n_frames=120, width=320, height=240, fps=FPS_A, gop=30)
    write_clip(d / "december.mp4", n_frames=60, width=320, height=240, fps=FPS_B, gop=12)
    return d


def two_visits(clinic, clip_dir: Path) -> tuple[int, list[int], list[int]]:  # type: ignore[no-untyped-def]
    """A patient with two visits, one recording each, with a left contact marked in both."""
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Zoë Ann Runner")).id
        vids = [create_visit(s, pid, VisitData(visit_date=d)).id
                for d in ("2026-10-10", "2026-11-02")]  # fmt: skip
    rids = [
        import_recording(clinic.db, clinic.videos_root, vids[0], clip_dir / "october.mp4",
                         capture_fps=float(FPS_A)),
        import_recording(clinic.db, clinic.videos_root, vids[1], clip_dir / "december.mp4",
                         capture_fps=float(FPS_B)),
    ]  # fmt: skip
    with clinic.db.session() as s:
        # Left contact at 0.5 s in A (frame 30) and 0.8 s in B (frame 20): B runs 0.3 s later.
        replace_events(s, rids[0], [FootEvent(Foot.LEFT, EventType.INITIAL_CONTACT, 30, 0.5)])
        replace_events(s, rids[1], [FootEvent(Foot.LEFT, EventType.INITIAL_CONTACT, 20, 0.8)])
        replace_overlays(s, rids[0], [{"kind": "vline", "points": [[100, 50]], "frame": -1}])
    return pid, vids, rids


def open_player(qtbot, clinic, rids, **kw):  # type: ignore[no-untyped-def]
    from ui.dual_player import open_dual

    window = open_dual(clinic, rids[0], rids[1], **kw)
    assert window is not None
    qtbot.addWidget(window)
    player = window.player
    player.setFocus()
    return window, player


def shown_pair(qtbot, player) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    want = player.sync.pair()
    qtbot.waitUntil(lambda: player.pair_shown() == want, timeout=10000)
    a, b = (p.frame_rgb for p in player.panes)
    assert (read_stamp(a), read_stamp(b)) == want  # the pictures are those frames
    return want


def test_linked_keys_realign_and_layouts(qtbot, clinic, clip_dir) -> None:  # type: ignore[no-untyped-def]
    _pid, _vids, rids = two_visits(clinic, clip_dir)
    window, player = open_player(qtbot, clinic, rids)
    sync = player.sync
    assert sync.link.how == "event" and sync.offset_s == pytest.approx(0.3)
    assert "left initial contact" in player.note.text()
    assert shown_pair(qtbot, player) == (30, 20)  # opened at the contact
    assert player.active == 0  # the 60 fps recording leads (finer steps)
    assert player.panes[0].view._overlays  # A's drawing (on all frames) is drawn on A only
    assert not player.panes[1].view._overlays
    for _ in range(6):
        qtbot.keyClick(player, Qt.Key.Key_Right)
    fa, fb = shown_pair(qtbot, player)
    assert fa == 36 and fb == round((36 / FPS_A + 0.3) * FPS_B)
    qtbot.keyClick(player, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert sync.pair()[0] == 46
    # Unlink, step B alone, re-align there.
    player.link_box.setChecked(False)
    player.set_active(1)
    qtbot.keyClick(player, Qt.Key.Key_Right)
    qtbot.keyClick(player, Qt.Key.Key_Right)
    assert sync.pair() == (46, round((46 / FPS_A + 0.3) * FPS_B) + 2)
    player.align_btn.click()
    assert sync.link.how == "by hand" and player.link_box.isChecked()
    offset = sync.offset_s
    player.set_active(0)
    qtbot.keyClick(player, Qt.Key.Key_Left)
    assert sync.pair()[0] == 45
    assert abs(sync.time(1) - offset - sync.time(0)) <= 0.5 / FPS_B + 1e-9
    player.contact_btn.click()  # back to the contact link
    assert sync.link.how == "event"
    # Space plays both together; K stops.
    start = sync.pair()
    qtbot.keyClick(player, Qt.Key.Key_Space)
    assert player.transport.playing
    qtbot.waitUntil(lambda: sync.pair()[0] > start[0] + 3, timeout=5000)
    qtbot.keyClick(player, Qt.Key.Key_K)
    assert not player.transport.playing and sync.pair()[1] > start[1]
    assert abs(sync.time(1) - sync.offset_s - sync.time(0)) <= 0.5 / FPS_B + 1e-9
    # Layouts: narrow puts one above the other; superimposed blends the two.
    window.resize(900, 700)
    qtbot.waitUntil(lambda: player.split.orientation() == Qt.Orientation.Vertical, timeout=3000)
    window.resize(1400, 800)
    qtbot.waitUntil(lambda: player.split.orientation() == Qt.Orientation.Horizontal, timeout=3000)
    player.layout_box.setCurrentText("Superimposed")
    assert player.blend.isVisible() and not player.split.isVisible()
    shown_pair(qtbot, player)
    player.opacity.setValue(0)
    assert player.blend.frame_size() == (320, 240)
    only_a = player.blend._frame.copy()
    assert read_stamp(only_a) == sync.pair()[0] and player.how == "centre"  # no pose: centres
    player.opacity.setValue(100)
    assert read_stamp(player.blend._frame) == sync.pair()[1]
    assert "frame centres" in player.blend_note.text() and "100 %" in player.blend_note.text()
    window.close()
    assert all(p.server is None for p in player.panes)


def test_export_from_the_player_is_stored_with_the_visit(qtbot, clinic, clip_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _pid, vids, rids = two_visits(clinic, clip_dir)
    window, player = open_player(qtbot, clinic, rids)
    task = player.export(0, 0.25)
    assert task is not None
    qtbot.waitUntil(lambda: player._export_task is None, timeout=60000)
    result = player.last_export
    assert result is not None, player.last_error
    assert result.path.parent.name == "exports" and "ZAR" in result.path.name
    assert clinic.videos_root in result.path.parents  # in the later visit's folder
    with av.open(str(result.path)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        n = sum(1 for _ in c.decode(video=0))
    assert n == result.frames and result.title_frames > 0
    assert player.copy_btn.isEnabled()
    copy = player.copy_for_patient(tmp_path / "for_patient.mp4")
    assert copy is not None and copy.read_bytes() == result.path.read_bytes()
    # Deleting the visit removes the export with it (nothing of the patient is left behind).
    window.close()
    from app.records.media import remove_files
    from app.records.visits import delete_visit

    with clinic.db.session() as s:
        paths = delete_visit(s, vids[1], videos_root=clinic.videos_root,
                             data_root=clinic.folder.root)  # fmt: skip
    remove_files(paths)
    assert not result.path.exists()


def test_failed_export_says_so_and_keeps_nothing(qtbot, clinic, clip_dir, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import errno

    import app.video.export as export_mod

    _pid, _vids, rids = two_visits(clinic, clip_dir)
    _window, player = open_player(qtbot, clinic, rids)

    def full(temp, *args, **kwargs):  # type: ignore[no-untyped-def]
        temp.write_bytes(b"\0" * 100)
        raise OSError(errno.ENOSPC, "No space left on device")

    task = player.export(0, 1.0)  # cancelled at once: nothing written
    task.cancel()
    qtbot.waitUntil(lambda: player._export_task is None, timeout=30000)
    assert player.last_export is None and "cancelled" in player.note.text()
    monkeypatch.setattr(export_mod, "_encode", full)
    player.export(2, 1.0)
    qtbot.waitUntil(lambda: player._export_task is None, timeout=30000)
    assert player.last_export is None and "disk is full" in player.last_error
    assert "not saved" in player.note.text()
    folder = player.sources[1].path.parent / "exports"
    assert not folder.exists() or not any(folder.iterdir())


def test_compare_visits_opens_the_best_recordings(qtbot, clinic, clip_dir) -> None:  # type: ignore[no-untyped-def]
    from app.history.trends import load_history
    from ui.compare_dialog import CompareDialog
    from ui.dual_entry import add_play_button

    pid, vids, rids = two_visits(clinic, clip_dir)
    with clinic.db.session() as s:
        history = load_history(s, pid)
    dialog = CompareDialog(history, clinic.folder.stills, vids[0], vids[1])
    qtbot.addWidget(dialog)
    button = add_play_button(dialog, clinic)
    button.click()
    window = dialog.dual_window
    assert window is not None
    qtbot.addWidget(window)
    player = window.player
    assert [s.recording_id for s in player.sources] == rids
    assert player.side_area.count() == 1  # the comparison table kept beside
    table = player.side_area.itemAt(0).widget()
    assert table.rowCount() == dialog.table.rowCount()
    window.close()


def test_side_and_rear_play_by_the_shared_time_zero(qtbot, main_window, clinic, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app.records.recordings import add_existing_file

    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Rear View")).id
        vid = create_visit(s, pid, VisitData(visit_date="2026-11-29")).id
    from app.records.media import visit_folder

    with clinic.db.session() as s:
        folder = visit_folder(s, clinic.videos_root, vid)
    folder.mkdir(parents=True)
    ms = Fraction(1, 1000)
    # As the recorder writes them: pts in ms since the shared time zero; the rear camera's
    # first frame came 50 ms after the side camera's.
    side = write_clip(folder / "capture_1_side.mkv", n_frames=30, fps=30, bframes=False,
                      pts=[10 + round(1000 * i / 30) for i in range(30)], time_base=ms)
    rear = write_clip(folder / "capture_1_rear.mkv", n_frames=30, fps=30, bframes=False,
                      pts=[60 + round(1000 * i / 30) for i in range(30)], time_base=ms)  # fmt: skip
    header = "frame,camera_frame,capture_ns,time_s,pts_ms\n"
    for clip, first in ((side, 0.0104), (rear, 0.0604)):  # the recorder's timestamp sidecars
        clip.with_suffix(".timestamps.csv").write_text(
            header + "".join(f"{i},{i},0,{first + i / 30:.6f},0\n" for i in range(30))
        )
    side_id = add_existing_file(clinic.db, clinic.videos_root, vid, side, capture_fps=30.0)
    rear_id = add_existing_file(clinic.db, clinic.videos_root, vid, rear, capture_fps=30.0,
                                view="rear")  # fmt: skip
    window = main_window.play_views(rear_id)  # from the rear recording: side still on the left
    assert window is not None
    qtbot.addWidget(window)
    player = window.player
    assert [s.recording_id for s in player.sources] == [side_id, rear_id]
    assert player.sync.link.how == "time zero"
    assert player.sync.offset_s == pytest.approx(-0.050)
    assert "camera" in player.note.text()
    player.go_to(0, 10)
    fa, fb = shown_pair(qtbot, player)
    assert (fa, fb) == (10, 8)  # 50 ms later start: rear frame 8.5 -> nearest of the instant
    window.close()
    # A recording without the other view says so in the status bar.
    with clinic.db.session() as s:
        vid2 = create_visit(s, pid, VisitData(visit_date="2026-11-30")).id
    alone = write_clip(tmp_path / "alone.mp4", n_frames=10)
    only = import_recording(clinic.db, clinic.videos_root, vid2, alone)
    assert main_window.play_views(only) is None
    assert "no rear view" in main_window.statusBar().currentMessage()


def test_the_same_recording_on_both_sides_and_a_missing_file(qtbot, clinic, clip_dir) -> None:  # type: ignore[no-untyped-def]
    from app.db.models import Recording

    _pid, _vids, rids = two_visits(clinic, clip_dir)
    window, player = open_player(qtbot, clinic, [rids[0], rids[0]])
    assert player.sync.offset_s == 0.0
    assert shown_pair(qtbot, player) == (30, 30)
    window.close()
    with clinic.db.session() as s:
        path = s.get(Recording, rids[1]).video_path
    (clinic.videos_root / path).unlink()  # the file went missing: said on the pane, no crash
    window, player = open_player(qtbot, clinic, rids)
    assert player.sync is None and not player.transport.isEnabled()
    assert "could not be opened" in player.note.text()
    assert player.panes[1].view.message_text()
    qtbot.keyClick(player, Qt.Key.Key_Right)  # keys do nothing harmful
    window.close()
