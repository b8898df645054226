"""import_video(): safe, atomic copy into the data folder."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from app import video
from app.video import importing
from app.video.synthetic import write_clip


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    src_dir = tmp_path / "phone"
    src_dir.mkdir()
    return write_clip(src_dir / "run.mp4", n_frames=20)


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".importing")]


def test_copies_and_leaves_original_untouched(clip: Path, data_home: Path) -> None:
    before = clip.read_bytes()
    mtime = clip.stat().st_mtime_ns
    seen: list[float] = []
    dest = data_home / "videos"
    result = video.import_video(clip, dest, progress=seen.append)
    assert result.path.parent == dest and result.path.read_bytes() == before
    assert result.sha256 == hashlib.sha256(before).hexdigest()
    assert result.size_bytes == len(before)
    assert result.info.frame_count == 20
    assert clip.read_bytes() == before and clip.stat().st_mtime_ns == mtime
    assert seen and seen[-1] == 1.0
    assert _leftovers(dest) == []


def test_non_ascii_name_and_unique_destinations(tmp_path: Path, data_home: Path) -> None:
    src = write_clip(tmp_path / "Läufer Müller – 跑步 ñ.mp4", n_frames=5)
    dest = data_home / "vidéos"
    first = video.import_video(src, dest)
    second = video.import_video(src, dest)
    assert first.path.name == "Läufer Müller – 跑步 ñ.mp4"
    assert second.path.name == "Läufer Müller – 跑步 ñ (2).mp4"
    assert first.path != second.path and second.path.exists()
    with video.open(second.path) as server:
        assert server.frame_count == 5


def test_disk_full_is_refused_before_copying(
    clip: Path, data_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "free_space_bytes", lambda _folder: 10_000)
    dest = data_home / "videos"
    with pytest.raises(video.DiskFull) as ei:
        video.import_video(clip, dest)
    assert "free disk space" in ei.value.message
    assert list(dest.iterdir()) == []


def test_failure_mid_copy_leaves_nothing(
    clip: Path, data_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_fsync(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    dest = data_home / "videos"
    with pytest.raises(video.DiskFull):
        video.import_video(clip, dest)
    assert list(dest.iterdir()) == []


def test_cancel(clip: Path, data_home: Path) -> None:
    stop = threading.Event()
    stop.set()
    dest = data_home / "videos"
    with pytest.raises(video.Cancelled):
        video.import_video(clip, dest, cancelled=stop)
    assert list(dest.iterdir()) == []
    with pytest.raises(video.Cancelled):
        video.import_video(clip, dest, cancelled=lambda: True)
    assert list(dest.iterdir()) == []


def test_refuses_non_video_and_missing(tmp_path: Path, data_home: Path) -> None:
    fake = tmp_path / "letter.mp4"
    fake.write_text("not a video", encoding="utf-8")
    dest = data_home / "videos"
    with pytest.raises(video.NotAVideo):
        video.import_video(fake, dest)
    with pytest.raises(video.VideoNotFound):
        video.import_video(tmp_path / "gone.mp4", dest)
    assert not dest.exists() or list(dest.iterdir()) == []
