"""Odd inputs: a photo renamed .mp4 is refused; a cut-off or still-growing file says so."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import av
import cv2
import pytest

from app import video
from app.video.synthetic import read_stamp, stamp_frame, write_clip
from tests.corrupt_videos import FRAMES, corpus

pytestmark = pytest.mark.timeout(120)

FRAG = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".tiff", ".webp"])
@pytest.mark.parametrize("as_name", ["photo.mp4", "IMG_0042.MOV"])
def test_picture_renamed_as_video_is_refused(tmp_path: Path, ext: str, as_name: str) -> None:
    ok, buf = cv2.imencode(ext, stamp_frame(3, 320, 240))
    assert ok
    p = tmp_path / as_name
    p.write_bytes(buf.tobytes())
    with pytest.raises(video.NotAVideo) as ei:
        video.probe(p)
    assert "still picture, not a video" in ei.value.message
    with pytest.raises(video.NotAVideo):
        video.import_video(p, tmp_path / "dest")
    assert not (tmp_path / "dest").exists() or not any((tmp_path / "dest").iterdir())


def test_heic_photo_renamed_is_refused(tmp_path: Path) -> None:
    # An iPhone photo: an ISO file whose major brand says "picture" (HEIF), not a movie.
    p = tmp_path / "IMG_0001.mp4"
    p.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(4000))
    with pytest.raises(video.NotAVideo) as ei:
        video.probe(p)
    assert "still picture" in ei.value.message


def test_one_frame_of_an_image_codec_is_a_picture(tmp_path: Path) -> None:
    p = write_clip(tmp_path / "single.avi", n_frames=1, codec="mjpeg")
    with pytest.raises(video.NotAVideo) as ei:
        video.probe(p)
    assert "still picture" in ei.value.message
    # Two frames are a (very short) video.
    assert video.probe(write_clip(tmp_path / "two.avi", n_frames=2, codec="mjpeg")).frame_count == 2


def test_real_videos_are_not_taken_for_pictures(tmp_path: Path) -> None:
    for name, codec in (("a.mp4", "libx264"), ("m.avi", "mjpeg"), ("m.mkv", "mjpeg")):
        info = video.probe(write_clip(tmp_path / name, n_frames=8, codec=codec))
        assert info.frame_count == 8 and info.incomplete_note is None


@pytest.fixture(scope="module")
def fragmented(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 360-frame (12 s) fragmented MP4 as a phone or action camera writes it."""
    p = tmp_path_factory.mktemp("frag") / "frag.mp4"
    write_clip(p, n_frames=360, width=160, height=120, gop=30, container_options=FRAG)
    return p.read_bytes()


def _old(p: Path) -> Path:
    past = time.time() - 600  # finished writing long ago: cut off, not growing
    os.utime(p, (past, past))
    return p


def test_whole_fragmented_file_has_no_note(tmp_path: Path, fragmented: bytes) -> None:
    p = tmp_path / "whole.mp4"
    p.write_bytes(fragmented)
    _old(p)
    info = video.probe(p)
    assert info.frame_count == 360 and not info.is_truncated and info.incomplete_note is None


def test_cut_off_fragmented_file_says_what_was_read(
    tmp_path: Path, fragmented: bytes, data_home: Path
) -> None:
    p = tmp_path / "cut.mp4"
    p.write_bytes(fragmented[: int(len(fragmented) * 0.54)])
    _old(p)
    info = video.probe(p)
    assert 150 < info.frame_count < 250 and info.is_truncated
    note = info.incomplete_note
    assert note and f"{info.frame_count} frames ({info.duration_s:.1f} s)" in note
    assert "still being written or was cut off" in note
    assert note in info.warnings
    # The import goes ahead and carries the note for the UI to show.
    result = video.import_video(p, data_home / "videos")
    assert result.info.frame_count == info.frame_count
    assert result.note and "cut off" in result.note
    with video.open(result.path) as server:
        n = server.frame_count
        for i in (0, n // 2, n - 1):
            assert read_stamp(server.get(i, timeout=30)) == i


def test_growing_file_is_called_still_being_written(tmp_path: Path, fragmented: bytes) -> None:
    p = tmp_path / "growing.mp4"
    start = int(len(fragmented) * 0.54)
    p.write_bytes(fragmented[:start])
    stop = threading.Event()

    def camera() -> None:  # appends like a camera writing its next fragments
        at = start
        with p.open("ab") as fh:
            while not stop.is_set() and at < len(fragmented):
                fh.write(fragmented[at : at + 4000])
                fh.flush()
                at += 4000
                stop.wait(0.05)

    writer = threading.Thread(target=camera, daemon=True)
    writer.start()
    try:
        time.sleep(0.1)
        info = video.probe(p)
    finally:
        stop.set()
        writer.join(5)
    assert info.is_truncated and info.frame_count < 360
    assert info.incomplete_note and "still being written" in info.incomplete_note
    assert "import it again when the recording has finished" in info.incomplete_note


def test_fragment_frame_count_is_not_the_whole_file(tmp_path: Path) -> None:
    # Without empty_moov the header counts only the first fragment's 30 frames.
    p = write_clip(
        tmp_path / "f.mp4", n_frames=90, gop=30, container_options={"movflags": "frag_keyframe"}
    )
    with av.open(str(p)) as c:
        assert c.streams.video[0].frames == 30  # what the header says
    info = video.probe(p)
    assert info.frame_count == 90 and not info.is_truncated
    assert not any(" of 30" in w for w in info.warnings)


def test_cut_plain_mkv_gives_n_of_m(tmp_path: Path) -> None:
    """A container whose header announces the full length: the note says N of M frames."""
    p = write_clip(tmp_path / "cut.mkv", n_frames=60, gop=20)
    data = p.read_bytes()
    p.write_bytes(data[: int(len(data) * 0.55)])
    _old(p)
    info = video.probe(p)
    assert info.is_truncated and info.announced_frames == 60
    assert f"{info.frame_count} of 60 frames" in (info.incomplete_note or "")


def test_corpus_odd_inputs(tmp_path: Path, data_home: Path) -> None:
    """The corpus's valid camcorder files import and step exactly; photos are refused as
    pictures; the cut fragmented MP4 imports with its note."""
    cases = [c for c in corpus(tmp_path / "corpus", 40, seed=5) if c.kind in ODD_KINDS]
    assert {c.kind for c in cases} == ODD_KINDS
    dest = data_home / "videos"
    for case in cases:
        if case.kind == "still-picture":
            with pytest.raises(video.NotAVideo) as ei:
                video.import_video(case.path, dest)
            assert "still picture" in ei.value.message, case.path.name
            continue
        result = video.import_video(case.path, dest)
        if case.kind == "cut-fragmented":
            assert result.note and "frames" in result.note and "cut off" in result.note
            continue
        assert result.note is None and result.info.frame_count == FRAMES, case.path.name
        with video.open(result.path, build_cache=False) as server:
            for i in [*range(FRAMES), *reversed(range(FRAMES))]:
                assert read_stamp(server.get(i, timeout=30)) == i, (case.path.name, i)


ODD_KINDS = {"camcorder", "still-picture", "cut-fragmented"}
