"""Which codec for the frame store (issue 17): decode time of one 1080p frame vs size.

Interleaves the candidates over the same frames of the long benchmark clip (made and cached
by ``benchmarks/stepping.py --long``), so a busy machine slows them all alike. Prints JSON.

Run from the repository root:  .venv/bin/python benchmarks/store_codecs.py
"""

from __future__ import annotations

import json
import os
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.stepping_long import clip_path  # noqa: E402


def main() -> None:
    clip, _ = clip_path(None)
    frames = []
    with av.open(str(clip)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i % 37 == 5:
                frames.append(f.to_ndarray(format="rgb24"))
            if len(frames) == 6:
                break
    h, w = frames[0].shape[:2]
    cands: dict[str, dict[str, object]] = {}
    for q in (85, 90, 95):
        cands[f"jpeg_q{q}"] = {
            "enc": lambda r, q=q: cv2.imencode(".jpg", r, [cv2.IMWRITE_JPEG_QUALITY, q])[1],
            "dec": lambda b: cv2.imdecode(b, cv2.IMREAD_COLOR),
        }
    cands["raw_yuv420"] = {
        "enc": lambda r: cv2.cvtColor(r, cv2.COLOR_RGB2YUV_I420),
        "dec": lambda b: cv2.cvtColor(b, cv2.COLOR_YUV2RGB_I420),
    }
    for crf in (12, 18):
        cc = av.CodecContext.create("libx264", "w")
        cc.width, cc.height, cc.pix_fmt, cc.time_base = w, h, "yuv420p", Fraction(1, 240)
        opts = {"preset": "ultrafast", "tune": "zerolatency", "x264-params": "keyint=1"}
        cc.options = {**opts, "crf": str(crf)}
        dec = av.CodecContext.create("h264", "r")

        def enc(r: np.ndarray, cc: av.CodecContext = cc) -> bytes:
            fr = av.VideoFrame.from_ndarray(r, format="rgb24").reformat(format="yuv420p")
            return b"".join(bytes(p) for p in cc.encode(fr))

        def decode(b: bytes, dec: av.CodecContext = dec) -> np.ndarray:
            return dec.decode(av.Packet(b))[0].to_ndarray(format="rgb24")

        cands[f"h264_intra_crf{crf}"] = {"enc": enc, "dec": decode}
    times = {k: {"enc": [], "dec": [], "bytes": [], "psnr": []} for k in cands}
    for _rep in range(3):
        for r in frames:
            for k, c in cands.items():
                t0 = time.perf_counter()
                blob = c["enc"](r)  # type: ignore[operator]
                times[k]["enc"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                out = c["dec"](blob)  # type: ignore[operator]
                times[k]["dec"].append(time.perf_counter() - t0)
                times[k]["bytes"].append(len(blob) if isinstance(blob, bytes) else blob.nbytes)
                times[k]["psnr"].append(cv2.PSNR(out, r))
    res = {
        k: {
            "encode_ms_p50": round(float(np.median(v["enc"])) * 1000, 1),
            "decode_to_rgb_ms_p50": round(float(np.median(v["dec"])) * 1000, 1),
            "kb_per_frame": round(float(np.mean(v["bytes"])) / 1024),
            "psnr_db": round(float(np.mean(v["psnr"])), 1),
        }
        for k, v in times.items()
    }
    print(json.dumps({"frame": f"{w}x{h}", "codecs": res, "loadavg": os.getloadavg()}, indent=1))


if __name__ == "__main__":
    main()
