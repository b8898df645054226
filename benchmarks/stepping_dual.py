"""The dual case of ``benchmarks/stepping.py --dual``: two 1080p clips of different frame rates
stepped together (issue 20).

Two stamped synthetic H.264 clips (1080p at 120 fps and 1080p at 50 fps, 8 s each, long GOPs
with B-frames, made with :func:`app.video.synthetic.write_long_clip`, kept in /tmp) are
opened at once (they share the memory budget, as in the dual player) and linked by
:class:`app.video.sync.DualSync` with an offset of 0.37 s (as an initial contact would give).
After both caches are complete:

* ``dual_step`` – linked ±1 steps at key-repeat pace (one every 30 ms): the time until *both*
  frames of the new instant are in hand (the leader's next frame and the follower's nearest);
* ``dual_jump`` – linked jumps to random instants, back to back (both frames asked for at
  once, as the player does, then both waited for);
* every pair of frames served is checked: each side's stamp is the frame asked for
  (``frame_exact``), and the instants the two stamps stand for agree within half a frame of
  the slower clip (``dual_sync_error_frames``: the largest gap, in frames of the 50 fps clip).

The same is measured once while the caches are still being built (``while_building``).
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path

from app import video
from app.video.sync import DualSync, Link
from app.video.synthetic import read_stamp, write_long_clip
from app.video.timebase import Timebase

PACE_S = 0.030
CLIPS = ((120, 8.0), (50, 8.0))
OFFSET_S = 0.37


def _clips(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fps, seconds in CLIPS:
        clip = folder / f"dual_1080p{fps}_{seconds:g}s_v1.mp4"
        if not clip.exists():
            part = clip.with_suffix(".part.mp4")
            write_long_clip(part, seconds=seconds, fps=fps, gop=fps, unique=24)
            os.replace(part, clip)
        paths.append(clip)
    return paths


class PairCheck:
    """Stamps of both sides against the frames asked for, and the instants they stand for."""

    def __init__(self, sync: DualSync, slower_fps: float) -> None:
        self.sync = sync
        self.slower_fps = slower_fps
        self.wrong = 0
        self.pairs = 0
        self.worst_s = 0.0

    def add(self, fa: int, fb: int, rgb_a, rgb_b) -> None:  # noqa: ANN001
        sa, sb = read_stamp(rgb_a), read_stamp(rgb_b)
        self.pairs += 1
        if sa != fa or sb != fb:
            self.wrong += 1
            return
        ta = self.sync.tbs[0].time_of(sa)
        tb = self.sync.tbs[1].time_of(sb) - self.sync.offset_s
        if self.sync.in_range(1, ta):
            self.worst_s = max(self.worst_s, abs(ta - tb))

    @property
    def worst_frames(self) -> float:
        return round(self.worst_s * self.slower_fps, 3)


def _get_pair(servers, sync: DualSync) -> tuple[float, object, object]:  # noqa: ANN001
    fa, fb = sync.pair()
    t0 = time.perf_counter()
    # As the dual player does: ask both servers first (each decodes on its own fetchers, in
    # parallel), then wait for both pictures.
    servers[0].try_get(fa)
    servers[1].try_get(fb)
    rgb_a = servers[0].get(fa, timeout=30)
    rgb_b = servers[1].get(fb, timeout=30)
    return time.perf_counter() - t0, rgb_a, rgb_b


def _steps(servers, sync, check, count: int, direction: int) -> list[float]:  # noqa: ANN001
    lat = []
    for _ in range(count):
        t0 = time.perf_counter()
        before = sync.pair()
        sync.step(direction)
        if sync.pair() == before:  # an end of the overlap: turn round
            direction = -direction
            sync.step(direction)
        # As the dual player does: direction and stride of each side (the follower's own).
        servers[0].set_position_hint(sync.pair()[0], direction, 1)
        servers[1].set_position_hint(sync.pair()[1], direction, 1)
        dt, ra, rb = _get_pair(servers, sync)
        lat.append(dt)
        check.add(*sync.pair(), ra, rb)
        time.sleep(max(0.0, t0 + PACE_S - time.perf_counter()))
    return lat


def _jumps(servers, sync, check, rng: random.Random, count: int) -> list[float]:  # noqa: ANN001
    lat = []
    lo, hi = sync.start_time(), sync.end_time()
    for _ in range(count):
        sync.go_to_time(rng.uniform(lo, hi))
        dt, ra, rb = _get_pair(servers, sync)
        lat.append(dt)
        check.add(*sync.pair(), ra, rb)
    return lat


def run_dual(args, PeakRss, summary, pct) -> dict[str, object]:  # noqa: ANN001, N803
    """Run the dual case; helpers come from ``benchmarks/stepping.py`` (one definition)."""
    rng = random.Random(20)
    out: dict[str, object] = {"case": "dual", "loadavg_start": os.getloadavg()}
    folder = Path(args.clip_dir) if args.clip_dir else Path(tempfile.gettempdir()) / "stride_dual"
    t0 = time.perf_counter()
    paths = _clips(folder)
    out["clips"] = [
        {"fps": fps, "seconds": s, "width": 1920, "height": 1080, "gop_frames": fps,
         "size_mb": round(p.stat().st_size / 1e6, 1), "path": str(p)}
        for (fps, s), p in zip(CLIPS, paths, strict=True)
    ]  # fmt: skip
    out["make_clips_s"] = round(time.perf_counter() - t0, 1)
    rss = PeakRss()
    t_open = time.perf_counter()
    servers = [video.open(p, memory_budget_mb=args.budget_mb) for p in paths]
    try:
        tbs = [Timebase(s.times_s(), s.info.container_fps, None) for s in servers]
        sync = DualSync(tbs[0], tbs[1], Link(OFFSET_S, "event"))
        slower = min(fps for fps, _ in CLIPS)
        check = PairCheck(sync, slower)
        _get_pair(servers, sync)
        out["first_pair_s"] = round(time.perf_counter() - t_open, 3)
        building = {}
        building.update(summary("dual_jump", _jumps(servers, sync, check, rng, 20)))
        building.update(summary("dual_step", _steps(servers, sync, check, 100, 1)))
        out["while_building"] = building
        for s in servers:
            s.wait_cache(timeout=300)
        out["caches_complete_s"] = round(time.perf_counter() - t_open, 1)
        out["cache_states"] = [s.build_state for s in servers]
        sync.go_to_time((sync.start_time() + sync.end_time()) / 2)
        ops = args.ops
        forward = _steps(servers, sync, check, ops, 1)
        backward = _steps(servers, sync, check, ops, -1)
        res: dict[str, object] = {}
        res.update(summary("dual_forward", forward))
        res.update(summary("dual_backward", backward))
        res.update(summary("dual_step", forward + backward))
        res.update(summary("dual_jump", _jumps(servers, sync, check, rng, ops)))
        out["cache_complete"] = res
        out["peak_rss_mb"] = round(rss.stop(), 1)
    finally:
        for s in servers:
            s.close()
    out["dual_step_p95_ms"] = res["dual_step_p95_ms"]
    out["dual_jump_p95_ms"] = res["dual_jump_p95_ms"]
    out["dual_sync_error_frames"] = check.worst_frames
    out["frame_exact"] = check.wrong == 0 and check.pairs > 0
    out["pairs_checked"] = check.pairs
    out["wrong_stamps"] = check.wrong
    out["targets"] = {"dual_step_p95_ms": 8.0, "dual_jump_p95_ms": 50.0,
                      "dual_sync_error_frames": 0.5}  # fmt: skip
    out["meets_targets"] = bool(
        out["dual_step_p95_ms"] <= 8
        and out["dual_jump_p95_ms"] <= 50
        and out["dual_sync_error_frames"] <= 0.5
        and out["frame_exact"]
    )
    out["headline_measured_on"] = (
        "both caches complete; steps one every 30 ms (key repeat), both frames in hand; jumps "
        "back to back; sync error from the two stamps of every pair served"
    )
    out["loadavg_end"] = os.getloadavg()
    return out
