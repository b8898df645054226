"""Dense pose around each proposed event, for clips where the base pass skipped frames.

Above 40 fps the pose model runs on every 2nd frame only (``app.analysis.pose``) and the skipped
frames are interpolated. Linear interpolation cannot show the abrupt stop of a landing foot, so
contacts on such a track come out late or early by a frame or more (markers at 60 Hz with every
2nd frame interpolated: contact SD 14-23 ms instead of 3-13 ms). Here the contacts are proposed
on the base track, the model is run on the skipped frames within a few frames of every proposed
initial contact and toe-off, and the events are detected again on the refined track (twice: the
second round covers frames the first one moved an event onto). Only a fraction of the skipped
frames is run, so a 60 fps clip stays faster than real time.

Nothing here knows about video or the pose model: :func:`refine` takes a ``run_frames``
callable (``pose.run_pose`` passes one that decodes and runs the model; the benchmark and tests
pass one that reads a denser reference track).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from app.analysis.errors import AnalysisError
from app.analysis.events import FootEvent
from app.analysis.keypoints import KeypointTrack

#: Frames either side of a proposed event on which the model is run (at the clip's frame rate).
#: Two frames hold the event even when the base pass placed it one or two frames off.
DENSE_WINDOW = 2
#: Rounds of propose-then-refine (the second only runs frames new events need).
DENSE_ROUNDS = 2

#: ``run_frames(frames) -> {frame: (xy (2, 5, 2), conf (2, 5))}`` for the frames it could run.
FrameRunner = Callable[[list[int]], dict[int, tuple[np.ndarray, np.ndarray]]]


def frames_near(events: Iterable[FootEvent], n: int, ran: np.ndarray, window: int) -> list[int]:
    """Frames within ``window`` of any event's frame that the model has not run on yet."""
    want = np.zeros(n, dtype=bool)
    for e in events:
        want[max(0, e.frame - window) : min(n, e.frame + window + 1)] = True
    return [int(i) for i in np.nonzero(want & ~ran)[0]]


def interpolate_unrun(
    xy: np.ndarray, conf: np.ndarray, ran: np.ndarray, max_gap: int
) -> tuple[np.ndarray, np.ndarray]:
    """Linear interpolation of the frames the model did not run on (``ran`` False), only between
    two run frames at most ``max_gap`` apart that both found the point (never across a frame
    where the model ran and found nobody)."""
    n = len(xy)
    idx = np.arange(n)
    flat, cflat = xy.reshape(n, -1).copy(), conf.reshape(n, -1).copy()
    for k in range(flat.shape[1]):
        ok = ran & np.isfinite(flat[:, k])
        if ok.sum() < 2:
            continue
        prev = np.maximum.accumulate(np.where(ok, idx, -1))
        nxt = np.minimum.accumulate(np.where(ok, idx, n)[::-1])[::-1]
        fill = ~ran & (prev >= 0) & (nxt < n) & ((nxt - prev) <= max_gap)
        flat[fill, k] = np.interp(idx[fill], idx[ok], flat[ok, k])
        if k % 2 == 0:
            j = k // 2
            cflat[fill, j] = np.interp(idx[fill], idx[ok], cflat[ok, j])
    return flat.reshape(xy.shape), cflat.reshape(conf.shape)


def refine(
    track: KeypointTrack,
    raw_xy: np.ndarray,
    raw_conf: np.ndarray,
    ran: np.ndarray,
    run_frames: FrameRunner,
    *,
    stride: int,
    window: int | None = None,
    rounds: int | None = None,
) -> tuple[KeypointTrack, int]:
    """Run the model densely around the events proposed on ``track``; returns the refined track
    and the number of frames run.

    ``raw_xy``/``raw_conf`` are the model's outputs per frame (NaN / 0 where it did not run),
    ``ran`` marks the frames it ran on and ``stride`` is the base pass's stride (the longest gap
    interpolated). When no events can be proposed (the detector refuses the track) the track is
    returned unchanged: the caller's own detection will give the clinician the reason.
    """
    from app.analysis.contacts import detect_contacts

    xy, conf, ran = raw_xy.copy(), raw_conf.copy(), ran.copy()
    current = track
    total = 0
    for _ in range(DENSE_ROUNDS if rounds is None else rounds):
        try:
            events = detect_contacts(current).events
        except AnalysisError:
            break
        todo = frames_near(events, track.n_frames, ran, DENSE_WINDOW if window is None else window)
        if not todo:
            break
        got = run_frames(todo)
        for i in todo:
            ran[i] = True  # run, whether or not the model found anyone there
            if i in got:
                xy[i], conf[i] = got[i]
        total += len(todo)
        fxy, fconf = interpolate_unrun(xy, conf, ran, stride)
        meta = dict(track.meta)
        meta["dense_frames"] = int(total)
        current = KeypointTrack(track.times.copy(), fxy, fconf, meta)
    return current, total
