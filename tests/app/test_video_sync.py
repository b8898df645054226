"""Two recordings in step (app.video.sync): links by event, time zero and hand; real-time steps."""

from __future__ import annotations

import numpy as np
import pytest

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.video.sync import (
    A,
    B,
    DualSync,
    Link,
    first_contacts,
    first_frame_offset_s,
    instants,
    offset_from_events,
    offset_from_time_zero,
)
from app.video.timebase import Timebase


def ic(foot: Foot, frame: int, fps: float, *, auto: bool = False, conf: float = 1.0) -> FootEvent:
    src = EventSource.AUTOMATIC if auto else EventSource.MANUAL
    return FootEvent(foot, EventType.INITIAL_CONTACT, frame, frame / fps, src, conf)


def test_event_link_uses_first_confident_contact_of_the_same_foot() -> None:
    a = Timebase.uniform(2400, 240.0)
    b = Timebase.uniform(1200, 120.0)
    events_a = [
        ic(Foot.LEFT, 30, 240.0, auto=True, conf=0.2),  # low confidence: skipped
        ic(Foot.RIGHT, 120, 240.0),  # 0.5 s: the first confident one, right foot
        ic(Foot.LEFT, 240, 240.0),
    ]
    events_b = [ic(Foot.LEFT, 30, 120.0), ic(Foot.RIGHT, 90, 120.0, auto=True, conf=0.9)]
    link = offset_from_events(a, events_a, b, events_b)
    assert link.how == "event" and "right" in link.note
    assert link.offset_s == pytest.approx(90 / 120 - 120 / 240)  # 0.25 s
    assert first_contacts(events_a)["left"].frame == 240


def test_event_link_falls_back_to_the_start_and_says_why() -> None:
    a, b = Timebase.uniform(100, 30.0), Timebase.uniform(100, 30.0)
    link = offset_from_events(a, [ic(Foot.LEFT, 10, 30.0)], b, [ic(Foot.RIGHT, 12, 30.0)])
    assert link.how == "start" and link.offset_s == 0.0 and "same foot" in link.note
    link = offset_from_events(a, [], b, [])
    assert "either recording" in link.note


def test_linked_steps_keep_the_same_instant_across_frame_rates() -> None:
    a = Timebase.uniform(2400, 240.0)  # 10 s at 240 fps
    b = Timebase.uniform(300, 30.0)  # 10 s at 30 fps
    sync = DualSync(a, b, Link(0.1, "event"))
    assert sync.leader == A  # the finer clip leads
    worst = 0.0
    for _ in range(600):
        sync.step(1)
        worst = max(worst, sync.sync_error_s())
    # Never more than half a frame of the slower clip apart.
    assert worst <= 0.5 / 30 + 1e-9
    fa, fb = sync.pair()
    assert fa == 600 and fb == round((600 / 240 + 0.1) * 30)
    sync.step(-10)
    assert sync.pair()[0] == 590


def test_slow_motion_file_is_aligned_in_real_seconds() -> None:
    # 240 fps captured, written at 30 fps: 8x slow on the file's clock.
    slow = Timebase.uniform(800, 30.0, capture_fps=240.0)
    normal = Timebase.uniform(100, 30.0)
    sync = DualSync(normal, slow, Link(0.0, "start"))
    sync.go_to(A, 30)  # 1 real second
    assert sync.pair()[1] == 240


def test_unlink_step_one_side_and_relink_realigns() -> None:
    a, b = Timebase.uniform(300, 60.0), Timebase.uniform(300, 60.0)
    sync = DualSync(a, b, Link(0.0, "start"))
    sync.go_to(A, 100)
    assert sync.pair() == (100, 100)
    sync.unlink()
    sync.step(12, side=B)
    assert sync.pair() == (100, 112)
    link = sync.relink()
    assert link.how == "by hand" and link.offset_s == pytest.approx(12 / 60)
    sync.step(5)
    assert sync.pair() == (105, 117)


def test_time_zero_link_and_out_of_range() -> None:
    link = offset_from_time_zero(0.012, 0.045)
    assert link.how == "time zero" and link.offset_s == pytest.approx(-0.033)
    assert offset_from_time_zero(None, 0.0).how == "start"
    a, b = Timebase.uniform(100, 30.0), Timebase.uniform(40, 30.0)
    sync = DualSync(a, b, Link(0.0, "start"))
    sync.go_to(A, 90)
    assert sync.pair()[1] == 39 and not sync.in_range(B)
    assert sync.in_range(A)
    assert sync.end_time() == pytest.approx(39 / 30)


def test_start_time_skips_the_part_only_one_clip_has() -> None:
    a, b = Timebase.uniform(300, 30.0), Timebase.uniform(300, 30.0)
    sync = DualSync(a, b, Link(-2.0, "event"))  # B starts 2 s after A
    assert sync.start_time() == pytest.approx(2.0)
    assert sync.pair() == (60, 0)


def test_export_instants() -> None:
    a, b = Timebase.uniform(240, 240.0), Timebase.uniform(120, 120.0)
    sync = DualSync(a, b)
    t = instants(sync, 0.125, 30.0, 0.0, 239 / 240)
    assert np.allclose(np.diff(t), 1 / 240) and len(t) == 240
    with pytest.raises(ValueError):
        instants(sync, 0, 30.0, 0.0, 1.0)


def test_first_frame_offset_from_sidecar_and_pts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fractions import Fraction

    from app.video.synthetic import write_clip

    clip = write_clip(
        tmp_path / "rear.mkv", n_frames=5, fps=30, pts=[40, 73, 106, 140, 173],
        time_base=Fraction(1, 1000), bframes=False,
    )  # fmt: skip
    assert first_frame_offset_s(clip) == pytest.approx(0.040)
    (tmp_path / "rear.timestamps.csv").write_text(
        "frame,camera_frame,capture_ns,time_s,pts_ms\n0,3,123,0.041500,41\n", encoding="utf-8"
    )
    assert first_frame_offset_s(clip) == pytest.approx(0.0415)
    assert first_frame_offset_s(tmp_path / "missing.mkv") is None
