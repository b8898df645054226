"""Video export (issue 20): real-time factor and a frame-by-frame check against the sources.

Uses the two 1080p stamped clips of ``benchmarks/stepping.py --dual`` (120 fps and 50 fps, 8 s,
made in /tmp on first use), linked with an offset of 0.37 s, and writes:

* the side-by-side at real time (output 60 fps) and at 1/4 speed (30 fps), with a drawn overlay
  (a vertical line and a skeleton-like dot painted by a ``decorate`` function) and a title card;
* one recording alone at 1/8 speed.

Each output is decoded in full; every frame after the title card must show, by its stamps, the
source frames the link asks for (``frame_exact``), and those two frames must be the same instant
within half a frame of the slower clip (``sync_error_frames``). ``real_time_factor`` is seconds
of video written per second of work (> 1: faster than it plays back).

Run from the repository root:  .venv/bin/python benchmarks/export_video.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.outputs import OutputRules  # noqa: E402
from app.video.export import ExportPlan, ExportSide, export_video  # noqa: E402
from app.video.sync import DualSync, Link  # noqa: E402
from app.video.synthetic import read_stamp  # noqa: E402
from app.video.timebase import Timebase  # noqa: E402
from benchmarks.stepping_dual import OFFSET_S, _clips  # noqa: E402


def burn(frame: int, rgb: np.ndarray) -> np.ndarray:
    out = rgb.copy()
    out[300:, 952:968] = (255, 200, 0)  # a vertical line (16 px) below the stamp band
    return out


def check(result, sync: DualSync, sides: int, slower_fps: float) -> dict[str, object]:  # noqa: ANN001
    wrong, worst, overlay_missing = 0, 0.0, 0
    with av.open(str(result.path)) as c:
        stream = c.streams.video[0]
        codec = stream.codec_context.name
        for k, frame in enumerate(c.decode(stream)):
            if k < result.title_frames:
                continue
            img = frame.to_ndarray(format="rgb24")
            pair = result.source_frames[k - result.title_frames]
            pane_w = result.size[0] // sides
            pane_h = pane_w * 1080 // 1920
            for i in range(sides):
                pane = img[:pane_h, i * pane_w : (i + 1) * pane_w]
                if read_stamp(pane) != pair[i]:
                    wrong += 1
            x = pane_w * 960 // 1920
            px = img[pane_h - 10, x].astype(int)
            if not (px[0] > 180 and px[2] < 100):  # the line is orange: red, little blue
                overlay_missing += 1
            if sides == 2:
                ta = sync.tbs[0].time_of(pair[0])
                tb = sync.tbs[1].time_of(pair[1]) - sync.offset_s
                worst = max(worst, abs(ta - tb))
        decoded = k + 1
    return {
        "codec": codec,
        "frames": result.frames,
        "decoded_frames": decoded,
        "title_frames": result.title_frames,
        "fps": result.fps,
        "size": list(result.size),
        "write_s": round(result.seconds_to_write, 2),
        "real_time_factor": round(result.real_time_factor, 3),
        "wrong_stamps": wrong,
        "overlay_missing_frames": overlay_missing,
        "frame_exact": wrong == 0 and decoded == result.frames,
        "sync_error_frames": round(worst * slower_fps, 3),
        "mb": round(result.path.stat().st_size / 1e6, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clip-dir", help="where the dual clips are kept (default /tmp/stride_dual)")
    args = ap.parse_args()
    folder = Path(args.clip_dir) if args.clip_dir else Path(tempfile.gettempdir()) / "stride_dual"
    paths = _clips(folder)
    tbs = [Timebase.from_file(p) for p in paths]
    sync = DualSync(tbs[0], tbs[1], Link(OFFSET_S, "event"))
    out: dict[str, object] = {"loadavg_start": os.getloadavg(), "sources": [str(p) for p in paths]}
    rules = OutputRules(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        cases = {
            "side_by_side_real_time": ExportPlan(
                [ExportSide(paths[0], "AB - 10 Oct 2026", burn), ExportSide(paths[1], "AB", burn)],
                sync, 1.0, title=["Your running", "AB"]),
            "side_by_side_quarter": ExportPlan(
                [ExportSide(paths[0], "AB", burn), ExportSide(paths[1], "AB", burn)],
                sync, 0.25, title=["Your running", "AB"]),
            "one_eighth": ExportPlan(
                [ExportSide(paths[0], "AB", burn)], DualSync(tbs[0], tbs[0]), 0.125,
                start_s=0.0, end_s=2.0),
        }  # fmt: skip
        for name, plan in cases.items():
            t0 = time.perf_counter()
            result = export_video(plan, Path(tmp) / f"{name}.mp4", rules)
            res = check(result, sync, len(plan.sides), 50.0)
            res["check_s"] = round(time.perf_counter() - t0 - result.seconds_to_write, 1)
            out[name] = res
    out["frame_exact"] = all(v["frame_exact"] for k, v in out.items() if isinstance(v, dict))
    out["loadavg_end"] = os.getloadavg()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
