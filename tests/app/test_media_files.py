"""Media tied to records by uid (issue 13, items 1 and 7): restore, id reuse, deletion, imports."""

from __future__ import annotations

import errno
import hashlib
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from app.clinic import Clinic, open_clinic
from app.db.models import HomeProgram, Patient, Recording, Visit
from app.paths import parse_still_name, place_exclusively
from app.records import media
from app.records.patients import PatientData, create_patient, delete_patient, remove_media
from app.records.recordings import add_recording, delete_recording, import_recording, resolve_video
from app.records.validation import ValidationError
from app.records.visits import VisitData, create_visit, delete_visit
from app.video.synthetic import write_clip


@pytest.fixture
def clinic():  # type: ignore[no-untyped-def]
    c = open_clinic()
    yield c
    c.close()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("phone") / "run.mp4", n_frames=6)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _patient_with_video(c: Clinic, name: str, clip: Path) -> tuple[int, int, int]:
    with c.db.session() as s:
        pid = create_patient(s, PatientData(full_name=name)).id
        vid = create_visit(s, pid, VisitData(visit_date="2026-03-01")).id
    rid = import_recording(c.db, c.videos_root, vid, clip)
    return pid, vid, rid


def test_restore_then_create_then_delete_touches_no_file_of_the_restored_away_patient(
    clinic: Clinic, clip: Path
) -> None:
    """A's files outlive a restore that removes A; B (same id) adopts none and deleting B
    removes none. Before uid naming B's folder was A's and deleting B removed A's video."""
    from app.reports.home_program import default_stills
    from app.safety.backup import backup_database, restore_into_clinic

    with clinic.db.session() as s:
        create_patient(s, PatientData(full_name="Earlier Patient"))
    earlier = backup_database(clinic.db.sqlite_path, clinic.folder.backups).path
    a_pid, a_vid, a_rid = _patient_with_video(clinic, "Anna A", clip)
    layout = clinic.folder.media(clinic.videos_root)
    with clinic.db.session() as s:
        rec = s.get(Recording, a_rid)
        a_video, a_uid = resolve_video(rec, clinic.videos_root), rec.uid  # type: ignore[arg-type]
    a_still = layout.still(a_uid, 12)
    a_still.write_bytes(b"png of Anna")
    # A's still as an older version named it, too: it must not be offered to B either.
    old_still = clinic.folder.stills / f"recording{a_rid}_frame12.png"
    old_still.write_bytes(b"old png of Anna")
    a_files = {p: _digest(p) for p in (a_video, a_still, old_still)}
    # A later backup too (no rotation: a second same-day backup would replace the first).
    backup_database(clinic.db.sqlite_path, clinic.folder.backups)

    restore_into_clinic(clinic, earlier)
    b_pid, b_vid, b_rid = _patient_with_video(clinic, "Bert B", clip)
    assert (b_pid, b_vid, b_rid) == (a_pid, a_vid, a_rid)  # the ids really are reused
    with clinic.db.session() as s:
        b_video = resolve_video(s.get(Recording, b_rid), clinic.videos_root)  # type: ignore[arg-type]
        b_folder = media.visit_folder(s, clinic.videos_root, b_vid)
        assert default_stills(s, clinic.folder.stills, b_pid) == (None, None)
    assert b_video != a_video and b_video.parent == b_folder
    assert sorted(p.name for p in b_folder.iterdir()) == ["run.mp4"]  # nothing of A adopted

    with clinic.db.session() as s:
        paths = delete_patient(s, b_pid, clinic.videos_root, clinic.folder.root)
    assert remove_media(paths) == []
    assert not b_video.exists()
    assert {p: _digest(p) for p in a_files} == a_files  # every file of A untouched


def test_a_file_another_row_references_is_never_removed(clinic: Clinic) -> None:
    """Old data can hold two rows naming one file, or two patients in one id-named folder."""
    with clinic.db.session() as s:
        p1 = create_patient(s, PatientData(full_name="One")).id
        p2 = create_patient(s, PatientData(full_name="Two")).id
        v1 = create_visit(s, p1, VisitData()).id
        v2 = create_visit(s, p2, VisitData()).id
        # Rows written directly, as an older version (or a restore) could leave them.
        s.add_all([
            Recording(visit_id=v1, video_path="patient_000001/visit_000001/shared.mp4"),
            Recording(visit_id=v2, video_path="patient_000001/visit_000001/shared.mp4"),
            Recording(visit_id=v2, video_path="patient_000001/visit_000001/two.mp4"),
            Recording(visit_id=v1, video_path="patient_000001/visit_000001/one.mp4"),
        ])  # fmt: skip
    legacy = clinic.videos_root / "patient_000001" / "visit_000001"
    legacy.mkdir(parents=True)
    for name in ("shared.mp4", "shared.timestamps.csv", "two.mp4", "one.mp4", "stray.mp4"):
        (legacy / name).write_bytes(name.encode())
    with clinic.db.session() as s:
        paths = delete_patient(s, p1, clinic.videos_root, clinic.folder.root)
    assert remove_media(paths) == []
    # Only one.mp4 was the deleted patient's alone; a file no row names (stray) is not theirs.
    assert sorted(p.name for p in legacy.iterdir()) == [
        "shared.mp4", "shared.timestamps.csv", "stray.mp4", "two.mp4"
    ]
    with clinic.db.session() as s:
        paths = delete_visit(s, v2, clinic.videos_root, clinic.folder.root)
    assert remove_media(paths) == []
    assert sorted(p.name for p in legacy.iterdir()) == ["stray.mp4"]  # folder kept: not empty


def test_files_outside_the_data_folder_are_never_removed(clinic: Clinic, tmp_path: Path) -> None:
    outside = tmp_path / "clinician's own" / "run.mp4"
    outside.parent.mkdir()
    outside.write_bytes(b"x")
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Abs Path")).id
        vid = create_visit(s, pid, VisitData()).id
        rid = add_recording(s, vid, video_path=str(outside)).id
    with clinic.db.session() as s:
        paths = delete_recording(s, rid, clinic.videos_root, clinic.folder.root)
    assert paths == [] and outside.exists()


def test_delete_recording_removes_its_own_files_only(clinic: Clinic, clip: Path) -> None:
    pid, vid, rid = _patient_with_video(clinic, "Rec Del", clip)
    rid2 = import_recording(clinic.db, clinic.videos_root, vid, clip)
    layout = clinic.folder.media(clinic.videos_root)
    with clinic.db.session() as s:
        r1, r2 = s.get(Recording, rid), s.get(Recording, rid2)
        v1, v2 = resolve_video(r1, clinic.videos_root), resolve_video(r2, clinic.videos_root)  # type: ignore[arg-type]
        layout.still(r1.uid, 3).write_bytes(b"p")  # type: ignore[union-attr]
        layout.still(r2.uid, 3).write_bytes(b"p")  # type: ignore[union-attr]
        keep_still = layout.still(r2.uid, 3)  # type: ignore[union-attr]
    assert v1.parent == v2.parent and v1 != v2
    with clinic.db.session() as s:
        paths = delete_recording(s, rid, clinic.videos_root, clinic.folder.root)
    assert remove_media(paths) == []
    assert not v1.exists() and v2.exists() and keep_still.exists()
    assert len(list(clinic.folder.stills.iterdir())) == 1


def test_one_file_cannot_become_two_recordings(clinic: Clinic, clip: Path) -> None:
    from app.records.recordings import add_existing_file

    pid, vid, rid = _patient_with_video(clinic, "Twice", clip)
    with clinic.db.session() as s:
        video = resolve_video(s.get(Recording, rid), clinic.videos_root)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="already"):  # e.g. a camera file linked again
        add_existing_file(clinic.db, clinic.videos_root, vid, video, capture_fps=30.0)
    with clinic.db.session() as s:
        assert s.scalars(select(Recording.id)).all() == [rid]


def test_imports_go_to_uid_named_folders(clinic: Clinic, clip: Path) -> None:
    pid, vid, rid = _patient_with_video(clinic, "Uid Folder", clip)
    with clinic.db.session() as s:
        rec, visit = s.get(Recording, rid), s.get(Visit, vid)
        patient = s.get(Patient, pid)
        assert rec.video_path == (  # type: ignore[union-attr]
            f"patient-{patient.uid}/visit-{visit.uid}/run.mp4"  # type: ignore[union-attr]
        ).replace("/", os.sep)
        assert s.scalars(select(HomeProgram)).all() == []
    assert parse_still_name("recording7_frame12.png") is None
    assert parse_still_name(f"recording-{'a' * 32}_frame000012.png") == ("a" * 32, 12)


# --- atomic, exclusive destination (item 7) ---------------------------------------------------


def _tmp_file(folder: Path, content: bytes) -> Path:
    tmp = folder / f".{hashlib.sha1(content).hexdigest()}.importing"
    tmp.write_bytes(content)
    return tmp


def test_place_exclusively_never_replaces(tmp_path: Path) -> None:
    (tmp_path / "run.mp4").write_bytes(b"first")
    got = place_exclusively(_tmp_file(tmp_path, b"second"), "run.mp4")
    assert got.name == "run (2).mp4" and got.read_bytes() == b"second"
    assert (tmp_path / "run.mp4").read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".importing")] == []
    long = place_exclusively(_tmp_file(tmp_path, b"long"), "x" * 400 + ".mp4")
    assert len(long.name) < 255 and long.suffix == ".mp4"


def test_place_exclusively_without_hard_links(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def no_links(*_a: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    (tmp_path / "run.mp4").write_bytes(b"first")
    got = place_exclusively(_tmp_file(tmp_path, b"second"), "run.mp4")
    assert got.name == "run (2).mp4" and got.read_bytes() == b"second"
    assert (tmp_path / "run.mp4").read_bytes() == b"first"


@pytest.mark.parametrize("links", [True, False])
def test_concurrent_placements_each_get_their_own_file(
    tmp_path: Path, monkeypatch, links: bool  # type: ignore[no-untyped-def]
) -> None:
    if not links:
        monkeypatch.setattr(os, "link", lambda *_a: (_ for _ in ()).throw(OSError(errno.EXDEV, "x")))
    n = 8
    temps = [_tmp_file(tmp_path, f"video {i}".encode()) for i in range(n)]
    barrier = threading.Barrier(n)
    results: dict[int, Path] = {}

    def worker(i: int) -> None:
        barrier.wait()
        results[i] = place_exclusively(temps[i], "run.mp4")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(set(results.values())) == n
    assert all(results[i].read_bytes() == f"video {i}".encode() for i in range(n))


def test_import_into_a_folder_never_overwrites(clinic: Clinic, clip: Path, tmp_path: Path) -> None:
    other = write_clip(tmp_path / "run.mp4", n_frames=9)
    pid, vid, rid = _patient_with_video(clinic, "Two Runs", clip)
    rid2 = import_recording(clinic.db, clinic.videos_root, vid, other)
    with clinic.db.session() as s:
        a = resolve_video(s.get(Recording, rid), clinic.videos_root)  # type: ignore[arg-type]
        b = resolve_video(s.get(Recording, rid2), clinic.videos_root)  # type: ignore[arg-type]
    assert a != b and _digest(a) == _digest(clip) and _digest(b) == _digest(other)


def test_export_frame_offers_a_uid_named_still(clinic: Clinic, clip: Path) -> None:
    from app.records.media import still_for_export

    pid, vid, rid = _patient_with_video(clinic, "Still Name", clip)
    with clinic.db.session() as s:
        uid = s.get(Recording, rid).uid  # type: ignore[union-attr]
    assert still_for_export(clinic, rid, 42).name == f"recording-{uid}_frame000042.png"
    assert still_for_export(clinic, None, 42).name == "frame000042.png"
    assert still_for_export(clinic, rid + 99, 42).name == "frame000042.png"  # deleted meanwhile
    assert parse_still_name("frame000042.png") is None  # tied to no record


def test_imported_videos_are_owner_only_also_outside_the_data_folder(tmp_path: Path) -> None:
    """A videos_dir outside the (owner-only) data folder: the copy is 0600 and the folders the
    import creates are 0700; a folder that already existed keeps its permissions."""
    import os
    import stat

    from app.video.importing import import_video
    from app.video.synthetic import write_clip

    if os.name != "posix":
        pytest.skip("POSIX permissions")
    shared = tmp_path / "shared_videos"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    src = write_clip(tmp_path / "src.mp4", n_frames=10)
    dest = shared / "patient-x" / "visit-y"
    imported = import_video(src, dest)
    assert stat.S_IMODE(imported.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700
    assert stat.S_IMODE(dest.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
