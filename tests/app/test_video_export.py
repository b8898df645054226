"""Video export (app.video.export): H.264 MP4, frame-exact against the sources' stamps, safe."""

from __future__ import annotations

import errno
from pathlib import Path

import av
import numpy as np
import pytest

from app.outputs import OutputError, OutputRules
from app.video.errors import Cancelled
from app.video.export import (
    ExportPlan,
    ExportSide,
    ascii_text,
    default_name,
    export_video,
    free_name,
)
from app.video.sync import DualSync, Link
from app.video.synthetic import read_stamp, write_clip
from app.video.timebase import Timebase


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("export")
    a = write_clip(d / "a60.mp4", n_frames=90, width=320, height=240, fps=60, gop=30)
    b = write_clip(d / "b25.mp4", n_frames=40, width=320, height=240, fps=25, gop=12)
    return a, b


def decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def rules() -> OutputRules:
    return OutputRules(parents=True)


def test_side_by_side_is_frame_exact_with_title_and_overlays(clips, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a, b = clips
    sync = DualSync(Timebase.from_file(a), Timebase.from_file(b), Link(0.2, "event"))
    marked = []

    def burn(frame: int, rgb: np.ndarray) -> np.ndarray:
        out = rgb.copy()
        out[-20:, :20] = (255, 0, 0)  # a red mark in a corner, below the stamp band
        marked.append(frame)
        return out

    plan = ExportPlan(
        [ExportSide(a, "JS - 10 Oct 2026", burn), ExportSide(b, "JS - 2 Dec 2026")],
        sync, speed=0.25, title=["Running", "JS"], title_s=0.5,
    )  # fmt: skip
    fired = []
    result = export_video(plan, tmp_path / "out" / "pair.mp4", rules(), progress=fired.append)
    assert result.path.exists() and fired[-1] == pytest.approx(1.0)
    assert result.fps == 15  # 60 fps at 1/4
    frames = decode(result.path)
    assert len(frames) == result.frames == result.title_frames + len(result.source_frames)
    width, _h = result.size
    pane_w = width // 2
    for k, (fa, fb) in enumerate(result.source_frames):
        img = frames[result.title_frames + k]
        # Frame exact: each pane shows the frame the link says, by its own stamp.
        left = img[: pane_w * 240 // 320, :pane_w]
        right = img[: pane_w * 240 // 320, pane_w:]
        assert read_stamp(left) == fa and read_stamp(right) == fb
        # ...and those two frames are the same instant within half a frame of the slower clip.
        ta = sync.tbs[0].time_of(fa)
        tb = sync.tbs[1].time_of(fb) - sync.offset_s
        assert abs(ta - tb) <= 0.5 / 25 + 1e-6
        # The overlay is burnt in on the left pane only.
        assert left[-10:-4, 2:6, 0].mean() > 180 and left[-10:-4, 2:6, 1].mean() < 80
    assert sorted(set(marked)) == sorted({p[0] for p in result.source_frames})
    steps = np.diff([p[0] for p in result.source_frames])
    assert set(steps) == {1}  # 60 fps at 1/4 speed is 15 real frames a second: every one shown
    assert result.real_time_factor > 0


def test_one_recording_real_time(clips, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a, _b = clips
    tb = Timebase.from_file(a)
    plan = ExportPlan([ExportSide(a, "AB")], DualSync(tb, tb), speed=1.0)
    result = export_video(plan, tmp_path / "one.mp4", rules())
    frames = decode(result.path)
    assert result.title_frames == 0 and len(frames) == 90 and result.fps == 60
    for k, img in enumerate(frames):
        assert read_stamp(img[: img.shape[1] * 240 // 320]) == k


def test_cancel_and_full_disk_leave_no_file(clips, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    a, b = clips
    sync = DualSync(Timebase.from_file(a), Timebase.from_file(b))
    plan = ExportPlan([ExportSide(a), ExportSide(b)], sync, speed=1.0)
    target = tmp_path / "x.mp4"
    calls = []

    def cancel_soon() -> bool:
        calls.append(1)
        return len(calls) > 5

    with pytest.raises(Cancelled):
        export_video(plan, target, rules(), cancelled=cancel_soon)
    assert list(tmp_path.iterdir()) == []

    import app.video.export as export_mod

    real = export_mod._encode

    def full(temp, *args, **kwargs):  # type: ignore[no-untyped-def]
        temp.write_bytes(b"\0" * 1000)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export_mod, "_encode", full)
    with pytest.raises(OutputError) as err:
        export_video(plan, target, rules())
    assert "disk is full" in err.value.message
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(export_mod, "_encode", real)
    target.write_bytes(b"keep")  # an existing file is never replaced
    with pytest.raises(OutputError):
        export_video(plan, target, rules())
    assert target.read_bytes() == b"keep"


def test_names() -> None:
    assert ascii_text("José · Núñez") == "Jose - Nunez"
    assert default_name("JN", "2026-10-10", True, 0.25) == "2026-10-10_JN_side-by-side_quarter.mp4"


def test_free_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "v.mp4").write_bytes(b"x")
    assert free_name(tmp_path, "v.mp4").name == "v_2.mp4"
