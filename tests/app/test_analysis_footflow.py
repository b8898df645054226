"""Pixel refinement of contacts (app.analysis.footflow) on synthetic clips with a known truth.

A textured block (the shoe) descends onto a textured belt moving at a constant image speed,
rides on it, and lifts off; its heel and toe keypoints are given exactly (the pose track), but
the proposals handed to the pixel step are two frames off, as a pose-based detector can be.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.analysis import footcrops, footflow
from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.analysis.keypoints import JOINTS, KeypointTrack

HIP, KNEE, ANKLE, HEEL, TOE = (JOINTS.index(j) for j in ("hip", "knee", "ankle", "heel", "toe"))
W, H = 360, 240
BELT_Y = 200  # belt surface (image rows below are belt)
FOOT_W, FOOT_H = 44, 16
FPS = 30.0


def _clip(
    contact: int,
    toe_off: int,
    belt: int,
    direction: str,
    n: int = 40,
    seed: int = 3,
    drop: int = 7,
    rise: int = 6,
):
    """Frames (n, H, W) uint8 and the block's bottom-left corner per frame.

    The belt moves ``belt`` px/frame backwards (towards +x when running towards image-left).
    Frame ``contact`` is the first with the block on the belt, ``toe_off`` the last.
    """
    rng = np.random.default_rng(seed)
    back = 1 if direction == "left" else -1
    belt_tex = rng.integers(20, 70, size=(H - BELT_Y, 4 * W)).astype(np.uint8)
    wall = rng.integers(120, 160, size=(BELT_Y, W)).astype(np.uint8)
    foot_tex = rng.integers(150, 255, size=(FOOT_H, FOOT_W)).astype(np.uint8)
    # Block position: descending and moving slowly backwards before contact, with the belt in
    # stance, lifting and swinging forwards after toe-off.
    x = np.zeros(n)
    y = np.zeros(n)  # bottom edge row
    x0 = W / 2 - back * 40
    for i in range(n):
        if i < contact:
            x[i] = x0 - back * 0.4 * belt * (contact - i)
            y[i] = BELT_Y - drop * (contact - i)
        elif i <= toe_off:
            x[i] = x0 + back * belt * (i - contact)
            y[i] = BELT_Y
        else:
            x[i] = x[toe_off] - back * 0.6 * belt * (i - toe_off)
            y[i] = BELT_Y - rise * (i - toe_off)
    frames = np.zeros((n, H, W), np.uint8)
    for i in range(n):
        img = np.empty((H, W), np.uint8)
        img[:BELT_Y] = wall
        off = (-back * belt * i) % W
        img[BELT_Y:] = belt_tex[:, off : off + W]
        xi, yi = int(round(x[i])), int(round(y[i]))
        img[yi - FOOT_H : yi, xi : xi + FOOT_W] = foot_tex
        frames[i] = img
    return frames, x, y


def _track(
    x: np.ndarray, y: np.ndarray, direction: str, other_ahead: bool = False, fps: float = FPS
) -> KeypointTrack:
    """Exact heel/toe keypoints of the block (label 0); label 1 the other foot, in the air, far
    behind (at a contact the landing foot is the front one) or ahead (at a toe-off)."""
    n = len(x)
    back = 1 if direction == "left" else -1
    xy = np.full((n, 2, len(JOINTS), 2), np.nan)
    heel_x = x + (FOOT_W if back == 1 else 0)
    toe_x = x + (0 if back == 1 else FOOT_W)
    xy[:, 0, HEEL] = np.column_stack([heel_x, y - 2])
    xy[:, 0, TOE] = np.column_stack([toe_x, y - 2])
    xy[:, 0, ANKLE] = np.column_stack([heel_x - back * 6, y - 14])
    xy[:, :, HIP] = np.column_stack([np.full(n, W / 2), np.full(n, 40.0)])[:, None]
    xy[:, 0, KNEE] = np.column_stack([np.full(n, W / 2), np.full(n, 120.0)])
    other = W / 2 + (-1 if other_ahead else 1) * back * 150
    xy[:, 1, HEEL] = np.column_stack([np.full(n, other + back * 20), np.full(n, 150.0)])
    xy[:, 1, TOE] = np.column_stack([np.full(n, other - back * 20), np.full(n, 150.0)])
    xy[:, 1, ANKLE] = np.column_stack([np.full(n, other), np.full(n, 140.0)])
    xy[:, 1, KNEE] = np.column_stack([np.full(n, W / 2), np.full(n, 100.0)])
    times = np.arange(n) / fps
    return KeypointTrack(times, xy, np.ones((n, 2, len(JOINTS))), {"width": W, "height": H})


def _reader(track: KeypointTrack, frames: np.ndarray):  # type: ignore[no-untyped-def]
    """The crops of ``frames`` (as the pose pass keeps them) and the frames asked for."""
    src = footcrops.source(track, frames=frames)
    asked: list[list[int]] = []
    got: list[dict[int, footcrops.Crop]] = []
    read = src.read

    def recording(wanted):  # type: ignore[no-untyped-def]
        asked.append(list(wanted))
        got.append(read(wanted))
        return got[-1]

    src.read = recording
    return src, (asked, got)


def _event(kind: EventType, frame: int, conf: float = 0.8) -> FootEvent:
    return FootEvent(Foot.LEFT, kind, frame, frame / FPS, EventSource.AUTOMATIC, conf)


@pytest.mark.parametrize("direction", ["left", "right"])
@pytest.mark.parametrize("offset", [-2, 2])
def test_contact_found_from_pixels_when_the_pose_prior_is_two_frames_off(direction, offset):
    contact, toe_off = 16, 25
    frames, x, y = _clip(contact, toe_off, belt=9, direction=direction)
    track = _track(x, y, direction)
    read, asked = _reader(track, frames)
    events = [_event(EventType.INITIAL_CONTACT, contact + offset)]
    out, stats = footflow.refine(track, events, direction, read)
    assert out[0].frame == contact
    assert out[0].time_s == pytest.approx(contact / FPS)
    assert stats.measured == 1 and stats.moved == 1
    assert out[0].confidence < events[0].confidence  # pose and pixels disagreed by 2 frames
    # Only the window around the proposal was read, in a box around the foot.
    wanted, got = asked
    frames_read = sorted(wanted[0])
    assert frames_read[0] >= contact + offset - 6 and frames_read[-1] <= contact + offset + 10
    crop = got[0][frames_read[0]]  # the feet's rows only (both feet, as wide as they are)
    assert crop.y0 > 0 and crop.image.shape[0] < H * read.scale


@pytest.mark.parametrize("direction", ["left", "right"])
@pytest.mark.parametrize("offset", [-2, 2])
def test_toe_off_found_from_pixels(direction, offset):
    contact, toe_off = 10, 20
    frames, x, y = _clip(contact, toe_off, belt=9, direction=direction)
    track = _track(x, y, direction, other_ahead=True)
    read, _ = _reader(track, frames)
    events = [_event(EventType.TOE_OFF, toe_off + offset)]
    out, stats = footflow.refine(track, events, direction, read)
    assert out[0].frame == toe_off
    assert stats.moved == 1


def test_agreeing_proposal_keeps_its_confidence():
    frames, x, y = _clip(16, 25, belt=9, direction="left")
    track = _track(x, y, "left")
    read, _ = _reader(track, frames)
    events = [_event(EventType.INITIAL_CONTACT, 16)]
    out, stats = footflow.refine(track, events, "left", read)
    assert out[0].frame == 16 and out[0].confidence == pytest.approx(0.8)
    assert stats.agreed == 1 and stats.moved == 0


def test_no_pixel_evidence_leaves_the_proposal_alone():
    # A still picture (no belt motion, nothing moves): no belt speed, nothing to lock onto.
    frames, x, y = _clip(16, 25, belt=9, direction="left")
    still = np.repeat(frames[16:17], len(frames), axis=0)
    track = _track(x, y, "left")
    read, _ = _reader(track, still)
    events = [_event(EventType.INITIAL_CONTACT, 18), _event(EventType.TOE_OFF, 23)]
    out, stats = footflow.refine(track, events, "left", read)
    assert stats.considered == 2
    assert [e.frame for e in out] == [18, 23]
    assert [e.confidence for e in out] == [0.8, 0.8]
    assert stats.measured == 0


def test_far_off_pixel_estimate_only_lowers_the_confidence():
    # The pose prior 3 frames late: beyond what the pixels may move it (MAX_SHIFT_S), so the
    # proposal stays but is flagged for review.
    contact = 14
    frames, x, y = _clip(contact, 24, belt=9, direction="left")
    track = _track(x, y, "left")
    read, _ = _reader(track, frames)
    events = [_event(EventType.INITIAL_CONTACT, contact + 3)]
    out, stats = footflow.refine(track, events, "left", read)
    assert out[0].frame == contact + 3
    assert out[0].confidence < 0.8


def test_manual_events_and_other_types_are_passed_through():
    frames, x, y = _clip(16, 25, belt=9, direction="left")
    track = _track(x, y, "left")
    read, _ = _reader(track, frames)
    ic = _event(EventType.INITIAL_CONTACT, 18)
    to = _event(EventType.TOE_OFF, 23)
    out, stats = footflow.refine(track, [ic, to], "left", read, only=(EventType.TOE_OFF,))
    assert out[0] == ic  # not asked for: unchanged
    assert stats.considered == 1


def test_luma_of_a_decoded_frame_is_its_grey_image():
    av = pytest.importorskip("av")
    rgb = np.zeros((24, 36, 3), np.uint8)
    rgb[:, :18] = 200
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    grey = footcrops.luma(frame)
    assert grey.shape == (24, 36)
    assert grey[:, :16].mean() > 150 and grey[:, 20:].mean() < 40


def _write_mp4(frames: np.ndarray, path) -> None:  # type: ignore[no-untyped-def]
    av = pytest.importorskip("av")
    from fractions import Fraction

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"crf": "12", "preset": "veryfast"}
        for n, img in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(np.repeat(img[:, :, None], 3, axis=2), format="rgb24")
            vf = vf.reformat(format="yuv420p")
            vf.pts, vf.time_base = n, Fraction(1, 30)
            for packet in stream.encode(vf):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def test_refine_from_a_real_video_file(tmp_path):
    # The same clip encoded as H.264: the reader decodes only up to the last window frame and
    # the compressed pixels still give the contact.
    from types import SimpleNamespace

    contact = 16
    frames, x, y = _clip(contact, 25, belt=9, direction="left")
    video = tmp_path / "synthetic.mp4"
    _write_mp4(frames, video)
    track = _track(x, y, "left")
    result = SimpleNamespace(
        events=[_event(EventType.INITIAL_CONTACT, contact + 2)], direction="left", warnings=[]
    )
    stats = footflow.refine_from_video(result, track, video)
    assert stats is not None and stats.frames_read > 0
    assert result.events[0].frame == contact
    assert result.warnings == []


def test_unreadable_video_keeps_the_pose_proposals(tmp_path):
    from types import SimpleNamespace

    frames, x, y = _clip(16, 25, belt=9, direction="left")
    track = _track(x, y, "left")
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all")
    ev = _event(EventType.INITIAL_CONTACT, 18)
    result = SimpleNamespace(events=[ev], direction="left", warnings=[])
    assert footflow.refine_from_video(result, track, bad) is None
    assert result.events == [ev]
    assert len(result.warnings) == 1 and "pose track alone" in result.warnings[0]


@pytest.mark.parametrize("kind", [EventType.INITIAL_CONTACT, EventType.TOE_OFF])
def test_high_frame_rate_clip_measured_over_longer_steps(kind):
    # 240 fps: the belt carries the foot only 2 px a frame, under the per-step noise floor; the
    # velocities are then taken over 1/60 s steps and the event is still placed to the frame.
    fps, contact, toe_off = 240.0, 40, 100
    frames, x, y = _clip(contact, toe_off, belt=2, direction="left", n=150, drop=2, rise=2)
    track = _track(x, y, "left", other_ahead=kind is EventType.TOE_OFF, fps=fps)
    read, _ = _reader(track, frames)
    truth = contact if kind is EventType.INITIAL_CONTACT else toe_off
    ev = FootEvent(Foot.LEFT, kind, truth + 8, (truth + 8) / fps, EventSource.AUTOMATIC, 0.8)
    out, stats = footflow.refine(track, [ev], "left", read)
    assert stats.measured == 1
    assert abs(out[0].frame - truth) <= 1


def test_cancelling_during_the_pixel_step_cancels_the_analysis(tmp_path):
    from types import SimpleNamespace

    from app.analysis.errors import AnalysisError

    frames, x, y = _clip(16, 25, belt=9, direction="left")
    video = tmp_path / "synthetic.mp4"
    _write_mp4(frames, video)
    result = SimpleNamespace(
        events=[_event(EventType.INITIAL_CONTACT, 18)], direction="left", warnings=[]
    )
    with pytest.raises(AnalysisError, match="cancelled"):
        footflow.refine_from_video(result, _track(x, y, "left"), video, cancelled=lambda: True)


def test_the_pixel_step_reports_its_decoding_progress(tmp_path):
    """A long slow-motion clip is decoded once more for the pixel step: the bar must move."""
    from types import SimpleNamespace

    frames, x, y = _clip(16, 25, belt=9, direction="left")
    video = tmp_path / "synthetic.mp4"
    _write_mp4(frames, video)
    last = len(frames) - 3
    result = SimpleNamespace(
        events=[_event(EventType.INITIAL_CONTACT, 18), _event(EventType.TOE_OFF, last)],
        direction="left",
        warnings=[],
    )
    seen: list[float] = []
    footflow.refine_from_video(result, _track(x, y, "left"), video, progress=seen.append)
    assert len(seen) >= 2 and seen == sorted(seen) and 0 <= seen[0] < seen[-1] < 1


@pytest.mark.parametrize("stride", [1, 2])
def test_crops_kept_while_decoding_are_the_crops_made_again(stride, monkeypatch):
    """The pose pass keeps the crops as it decodes (keypoints known only up to the frame being
    decoded, on its own frames); the crops made later from the finished track are the very
    same, so the events do not depend on which way they came. Frames the pass did not keep
    (past the memory budget, before the scale is known) are made again from the video."""
    contact, toe_off = 16, 25
    monkeypatch.setattr(footcrops, "WARM_S", 0.3)  # the scale known after 10 frames
    frames, x, y = _clip(contact, toe_off, belt=9, direction="left")
    track = _track(x, y, "left")
    track.meta["stride"] = stride
    kept = footcrops.FootCrops(budget_bytes=600 * 1024)
    kept.start(FPS, stride, W, H)
    for i in range(len(frames)):
        kept.push(i, frames[i], track.xy[i] if i % stride == 0 else None)
    kept.finish()
    assert 0 < len(kept.kept) < len(frames) - 10  # the budget stopped it
    offline = footcrops.source(track, frames=frames)
    made = offline.read(list(range(len(frames))))
    for i, (_box, crop) in kept.kept.items():
        assert (crop.x0, crop.y0) == (made[i].x0, made[i].y0)
        assert np.array_equal(crop.image, made[i].image)
    mixed = footcrops.source(track, kept=kept, frames=frames)
    events = [_event(EventType.INITIAL_CONTACT, contact + 2)]
    a, _ = footflow.refine(track, events, "left", mixed)
    b, _ = footflow.refine(track, events, "left", offline)
    assert a == b and a[0].frame == contact
    assert set(mixed.decoded).isdisjoint(kept.kept)
