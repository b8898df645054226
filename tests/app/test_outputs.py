"""app.outputs: the one writer every export uses (refusals, atomic rename, checks, modes)."""

from __future__ import annotations

import os
import stat
import wave
from pathlib import Path

import pytest

from app import outputs
from app.outputs import OutputError, OutputRules, write_bytes, write_text, writing


def _rules(root: Path, **kw) -> OutputRules:  # type: ignore[no-untyped-def]
    return OutputRules.for_data_folder(root / "data", **kw)


@pytest.fixture
def clinic_root(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "stride_clinic.sqlite3").write_bytes(b"SQLite format 3\0" + b"x" * 100)
    (data / "stride_clinic.sqlite3-wal").write_bytes(b"wal")
    (data / "stills").mkdir()
    return tmp_path


def _unchanged(path: Path, before: bytes) -> bool:
    return path.read_bytes() == before


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("data/stride_clinic.sqlite3", "clinic database"),
        ("data/stride_clinic.sqlite3-wal", "clinic database"),
        ("data/stride_clinic.sqlite3-shm", "clinic database"),
        ("data/../data/stride_clinic.sqlite3", "clinic database"),
        ("data/anything.json", "data folder"),
        ("data/stills/x.png", "data folder"),
    ],
)
def test_database_and_data_folder_are_refused_even_with_force(
    clinic_root: Path, target: str, message: str
) -> None:
    db = clinic_root / "data" / "stride_clinic.sqlite3"
    before = db.read_bytes()
    with pytest.raises(OutputError, match=message):
        write_text(clinic_root / target, "{}", _rules(clinic_root, force=True, parents=True))
    assert _unchanged(db, before)
    assert not (clinic_root / "data" / "anything.json").exists()


def test_managed_folder_inside_the_data_folder_is_allowed(clinic_root: Path) -> None:
    rules = _rules(clinic_root, managed=[clinic_root / "data" / "stills"])
    out = write_bytes(clinic_root / "data" / "stills" / "a.png", b"png", rules)
    assert out is not None and out.read_bytes() == b"png"
    with pytest.raises(OutputError, match="data folder"):  # only the managed folder
        write_bytes(clinic_root / "data" / "b.png", b"png", rules)


def test_input_hard_link_and_symlink_are_refused(tmp_path: Path) -> None:
    video = tmp_path / "run.mp4"
    video.write_bytes(b"video bytes")
    rules = OutputRules(force=True).with_inputs(video)
    with pytest.raises(OutputError, match="input"):
        write_text(video, "{}", rules)
    os.link(video, tmp_path / "same.json")
    with pytest.raises(OutputError, match="input"):
        write_text(tmp_path / "same.json", "{}", rules)
    (tmp_path / "link.json").symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(OutputError, match="link"):
        write_text(tmp_path / "link.json", "{}", rules)
    assert video.read_bytes() == b"video bytes"
    assert not (tmp_path / "elsewhere.json").exists()


def test_existing_file_needs_force_and_folders_need_parents(tmp_path: Path) -> None:
    old = tmp_path / "out.json"
    old.write_text("old")
    with pytest.raises(OutputError, match="--force"):
        write_text(old, "new", OutputRules())
    assert old.read_text() == "old"
    write_text(old, "new", OutputRules(force=True))
    assert old.read_text() == "new"
    deep = tmp_path / "a" / "b" / "c.json"
    with pytest.raises(OutputError, match="--parents"):
        write_text(deep, "x", OutputRules())
    assert not (tmp_path / "a").exists()
    write_text(deep, "x", OutputRules(parents=True))
    assert deep.read_text() == "x"


def test_devices_and_folders_are_refused_quickly(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="ordinary file"):
        write_text("/dev/full", "x", OutputRules(force=True))
    with pytest.raises(OutputError, match="folder"):
        write_text(tmp_path, "x", OutputRules(force=True))


def test_failed_check_leaves_nothing_and_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "p.pdf"
    target.write_bytes(b"%PDF-old\n%%EOF")
    with (
        pytest.raises(OutputError, match="incomplete"),
        writing(target, OutputRules(force=True), check=outputs.check_pdf) as out,
    ):
        out.temp.write_bytes(b"%PDF-1.4 cut off by a full disk")
    assert target.read_bytes() == b"%PDF-old\n%%EOF"
    assert [p.name for p in tmp_path.iterdir()] == ["p.pdf"]  # no temporary file left


def test_empty_result_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="empty"), writing(tmp_path / "e.csv", OutputRules()):
        pass
    assert list(tmp_path.iterdir()) == []


def test_disk_full_is_a_plain_message(tmp_path: Path) -> None:
    with (
        pytest.raises(OutputError, match="disk is full"),
        writing(tmp_path / "x.bin", OutputRules()),
    ):
        raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_private_files_are_owner_only(tmp_path: Path) -> None:
    out = write_text(tmp_path / "names.csv", "name\nÅsa\n", OutputRules(), private=True)
    assert out is not None and stat.S_IMODE(out.stat().st_mode) == 0o600


def test_dash_means_standard_output(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert write_text("-", '{"a": 1}\n', OutputRules()) is None
    assert capsysbinary.readouterr().out == b'{"a": 1}\n'


def test_wav_check_catches_a_short_file(tmp_path: Path) -> None:
    p = tmp_path / "m.wav"
    with wave.open(str(p), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 800)
    outputs.check_wav(800, 8000)(p)
    with pytest.raises(OutputError, match="samples"):
        outputs.check_wav(1600, 8000)(p)
    data = p.read_bytes()
    p.write_bytes(data[:-200])  # header says 800 frames, data cut: a full disk
    with pytest.raises(OutputError):
        outputs.check_wav(800, 8000)(p)


def test_make_private_dirs(tmp_path: Path) -> None:
    base = tmp_path / "videos"
    folder = outputs.make_private_dirs(base / "patient_x" / "visit_y", below=base)
    for p in (folder, folder.parent, base):
        assert stat.S_IMODE(p.stat().st_mode) == 0o700
    f = folder / "clip.mp4"
    f.write_bytes(b"v")
    outputs.restrict_to_owner(f)
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
