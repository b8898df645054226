"""The long case of ``benchmarks/stepping.py --long``: 60 s of 1080p at 240 fps (14,400 frames).

Phases (each capped in time so the whole run stays under 10 minutes on a busy 2-core machine;
a capped phase reports how many samples it got in ``*_n``):

1. open and show frame 0 (``first_frame_s``);
2. while the background pass runs: jumps to random frames (``building_jump_p95_ms``), each
   followed by 8 steps back and 8 forward at key-repeat pace (``near_cursor_step_p95_ms``);
3. wait for the pass (``pass_fps``, ``pass_s``);
4. after the pass, from random places all over the clip: steps at key-repeat pace both ways
   (``step_p95_ms`` is the worse direction), back-to-back steps, random jumps;
5. plain ``cv2.VideoCapture`` seeks, same run (``baseline_backward_p95_ms``).

Every frame served is checked: its stamped index and one checksum per index (``frame_exact``).
"""

from __future__ import annotations

import inspect
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

import cv2

from app import video
from app.video.synthetic import read_stamp, write_long_clip

FPS, SECONDS, GOP = 240, 60, 240
PACE_S = 0.030


def clip_path(folder: Path | None) -> tuple[Path, float]:
    """The cached long clip (made once, ~5 min on a busy 2-core machine), and its make time."""
    folder = folder or Path(tempfile.gettempdir()) / "stride_clinic_bench"
    folder.mkdir(parents=True, exist_ok=True)
    clip = folder / f"phone_1080p{FPS}_{SECONDS}s_v1.mp4"
    t0 = time.perf_counter()
    if not clip.exists():
        part = clip.with_suffix(".part.mp4")
        write_long_clip(part, seconds=SECONDS, fps=FPS, gop=GOP)
        os.replace(part, clip)
    return clip, time.perf_counter() - t0


def _folder_mb(folder: Path) -> float:
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return round(total / 2**20, 1)


def run_long(args, Checker, PeakRss, summary, pct) -> dict[str, object]:  # noqa: ANN001
    """Run the long case; helpers come from ``benchmarks/stepping.py`` (one definition)."""
    rng = random.Random(11)
    out: dict[str, object] = {"case": "long", "loadavg_start": os.getloadavg()}
    clip, make_s = clip_path(Path(args.clip_dir) if args.clip_dir else None)
    n = FPS * SECONDS
    size = clip.stat().st_size
    out["clip"] = {
        "description": "1080p240 H.264, 60 s, GOP 240, 2 B-frames, 48 unique pictures + per-"
        "frame index stamp in the luma plane (app.video.synthetic.write_long_clip)",
        "frames": n,
        "size_mb": round(size / 1e6, 1),
        "bitrate_mbps": round(size * 8 / SECONDS / 1e6, 1),
        "make_s": round(make_s, 1),
        "cached_between_runs": str(clip),
    }
    keep_store = bool(getattr(args, "store_dir", None))
    cache = Path(args.store_dir) if keep_store else Path(tempfile.mkdtemp(prefix="stride_store_"))
    check = Checker()
    rss = PeakRss()
    kwargs: dict[str, object] = {"memory_budget_mb": args.budget_mb}
    if "cache_dir" in inspect.signature(video.open).parameters:
        kwargs["cache_dir"] = cache
    cap = args.phase_cap_s
    t_open = time.perf_counter()
    server = video.open(clip, **kwargs)
    try:
        check.add(0, server.get(0, timeout=60))
        out["first_frame_s"] = round(time.perf_counter() - t_open, 3)

        # --- While the pass runs.
        jumps: list[float] = []
        cold: list[float] = []  # to a frame not yet stored (a keyframe seek + GOP decode)
        warm: list[float] = []
        near: list[float] = []
        t_phase = time.perf_counter()
        while time.perf_counter() - t_phase < cap and len(jumps) < 12:
            j = rng.randrange(8, n - 8)
            stored = j in server._store
            t0 = time.perf_counter()
            rgb = server.get(j, timeout=60)
            jumps.append(time.perf_counter() - t0)
            (warm if stored else cold).append(jumps[-1])
            check.add(j, rgb)  # outside the timed part (a checksum takes ~10 ms at 1080p)
            time.sleep(0.3)  # the clinician looks at the frame before stepping
            for k in [j - d for d in range(1, 9)] + [j - 8 + d for d in range(1, 17)]:
                t0 = time.perf_counter()
                rgb = server.get(k, timeout=60)
                near.append(time.perf_counter() - t0)
                check.add(k, rgb)
                time.sleep(max(0.0, t0 + PACE_S - time.perf_counter()))
        out["building_jump_p95_ms"] = pct(jumps, 95)
        out["building_jump_n"] = len(jumps)
        out["building_jump_not_yet_stored_p95_ms"] = pct(cold, 95)
        out["building_jump_not_yet_stored_p50_ms"] = pct(cold, 50)
        out["building_jump_not_yet_stored_n"] = len(cold)
        out["building_jump_already_stored_n"] = len(warm)
        out["near_cursor_step_p95_ms"] = pct(near, 95)
        out["near_cursor_step_p50_ms"] = pct(near, 50)
        out["near_cursor_step_n"] = len(near)
        out["progress_after_building_phase"] = round(server.cache_progress(), 3)

        server.wait_cache(timeout=args.pass_cap_s)
        pass_s = time.perf_counter() - t_open
        out["pass_s"] = round(pass_s, 1)
        out["pass_state"] = server.build_state
        out["cache_progress"] = round(server.cache_progress(), 3)
        stats = server.cache_stats()
        out["cache_stats"] = stats
        out["pass_fps"] = stats.get("pass_fps", round(server.cache_progress() * n / pass_s, 1))
        out["disk_mb"] = _folder_mb(cache)

        # --- After the pass: anywhere in the clip.
        res: dict[str, object] = {}

        def paced(step: int, starts: int, count: int) -> list[float]:
            lat: list[float] = []
            t_phase = time.perf_counter()
            for _ in range(starts):
                if time.perf_counter() - t_phase > cap:
                    break
                s = rng.randrange(count + 1, n - count - 1)
                server.get(s, timeout=60)
                time.sleep(0.2)
                for k in range(1, count + 1):
                    t0 = time.perf_counter()
                    m = s + step * k
                    rgb = server.get(m, timeout=60)
                    lat.append(time.perf_counter() - t0)
                    check.add(m, rgb)
                    time.sleep(max(0.0, t0 + PACE_S - time.perf_counter()))
            return lat

        fwd, bwd = paced(1, 10, 30), paced(-1, 10, 30)
        res.update(summary("forward_paced", fwd))
        res.update(summary("backward_paced", bwd))
        b2b: list[float] = []
        t_phase = time.perf_counter()
        for step in (1, -1, 1, -1):
            if time.perf_counter() - t_phase > cap:
                break
            s = rng.randrange(60, n - 60)
            server.get(s, timeout=60)
            time.sleep(0.2)
            for k in range(1, 41):
                t0 = time.perf_counter()
                rgb = server.get(s + step * k, timeout=60)
                b2b.append(time.perf_counter() - t0)
            check.add(s + step * 40, rgb)
        res.update(summary("b2b", b2b))
        jl: list[float] = []
        t_phase = time.perf_counter()
        while time.perf_counter() - t_phase < cap and len(jl) < 60:
            j = rng.randrange(n)
            t0 = time.perf_counter()
            rgb = server.get(j, timeout=60)
            jl.append(time.perf_counter() - t0)
            check.add(j, rgb)
            time.sleep(PACE_S)
        res.update(summary("jump", jl))
        out["after_pass"] = res
        out["step_p95_ms"] = max(res["forward_paced_p95_ms"], res["backward_paced_p95_ms"])
        out["b2b_step_p95_ms"] = res["b2b_p95_ms"]
        out["jump_p95_ms"] = res["jump_p95_ms"]
        out["peak_rss_mb"] = round(rss.stop(), 1)
        out["warnings"] = list(server.warnings)
    finally:
        server.close()
        out["disk_mb_at_close"] = _folder_mb(cache)
        if not keep_store:
            shutil.rmtree(cache, ignore_errors=True)
    out["threads_stopped_after_close"] = not server.threads_alive()
    out["frame_exact"] = check.exact
    out["frame_exact_detail"] = {
        "indices_checked": len(check.seen),
        "indices_with_more_than_one_image": sum(len(s) > 1 for s in check.seen.values()),
        "wrong_stamps": check.wrong_stamp,
    }

    # --- Baseline: plain cv2 seeks, backward steps from random places.
    cv = cv2.VideoCapture(str(clip))
    lat, wrong = [], 0
    t_phase = time.perf_counter()
    while time.perf_counter() - t_phase < min(cap, 60) and len(lat) < 30:
        m = rng.randrange(1, n)
        t0 = time.perf_counter()
        cv.set(cv2.CAP_PROP_POS_FRAMES, m)
        ok, bgr = cv.read()
        lat.append(time.perf_counter() - t0)
        wrong += int(not ok or read_stamp(bgr[..., ::-1]) != m)
    cv.release()
    out["baseline_backward_p95_ms"] = pct(lat, 95)
    out["baseline_backward_n"] = len(lat)
    out["baseline_wrong_frames"] = wrong
    out["loadavg_end"] = os.getloadavg()
    out["targets"] = {
        "first_frame_s": 0.5,
        "near_cursor_step_p95_ms": 50,
        "building_jump_p95_ms": 500,
        "step_p95_ms": 8,
        "b2b_step_p95_ms": 16,
        "jump_p95_ms": 50,
        "peak_rss_mb": 1536,
    }
    out["met"] = {k: bool(out[k] <= v) for k, v in out["targets"].items() if out.get(k, -1) >= 0}
    return out
