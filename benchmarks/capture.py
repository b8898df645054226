"""Capture benchmark: record the synthetic 1920×1080 @ 120 fps MJPEG camera with live preview.

Prints one JSON object: frames produced by the camera during the recording, written,
dropped, the process's mean CPU use (percent of one core), the file's frame count read back
with PyAV (every frame decoded), and whether the file's pts and the sidecar timestamps match
the timestamps the camera produced.

    .venv/bin/python benchmarks/capture.py            # full 60 s run
    .venv/bin/python benchmarks/capture.py --seconds 5
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.capture import FramePacket, Recorder, SyntheticSource, read_sidecar  # noqa: E402


class LoggingSynthetic(SyntheticSource):
    """The synthetic camera, remembering the timestamp of every frame it delivers."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.log: dict[int, int] = {}  # written by the capture thread only

    def read(self) -> FramePacket | None:
        packet = super().read()
        if packet is not None:
            self.log[packet.index] = packet.timestamp_ns
        return packet


def readback(path: Path) -> tuple[int, list[int]]:
    """Decode every frame of ``path``; returns (decoded frames, pts list in ms)."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        pts = [f.pts for f in c.decode(s)]
    return len(pts), pts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--height", type=int, default=1080)
    ap.add_argument("--fps", type=float, default=120.0)
    ap.add_argument("--display-hz", type=float, default=30.0)
    args = ap.parse_args()

    proc = psutil.Process()
    with tempfile.TemporaryDirectory(prefix="stride_capture_bench_") as tmp:
        source = LoggingSynthetic(args.width, args.height, args.fps)
        rec = Recorder(source, preview_hz=args.display_hz, min_free_bytes=0)
        rec.start()
        if not rec.wait_live(10):
            print(json.dumps({"error": str(rec.error)}))
            return
        time.sleep(0.5)  # let the camera settle, as a clinician would before pressing Record
        proc.cpu_percent(None)
        path = rec.start_recording(Path(tmp), "bench")
        t_end = time.perf_counter() + args.seconds
        shown = 0
        last_index = -1
        # The UI's display timer: pull the newest preview frame at display rate.
        while time.perf_counter() < t_end:
            frame = rec.latest_preview()
            if frame is not None and frame.index != last_index:
                last_index = frame.index
                shown += 1
            time.sleep(1.0 / args.display_hz)
        result = rec.stop_recording(30)
        cpu = proc.cpu_percent(None)
        rec.close()
        assert result is not None
        rows = read_sidecar(path)
        file_mb = path.stat().st_size / 1e6
        frames, pts = readback(path)
        produced = result.captured + result.camera_missed
        sidecar_ok = len(rows) == result.written and all(
            source.log.get(cam) == t for _, cam, t, _, _ in rows
        )
        pts_ok = pts == [r[4] for r in rows]
        out = {
            "produced": produced,
            "written": result.written,
            "dropped": result.dropped,
            "camera_missed": result.camera_missed,
            "cpu_percent": round(cpu, 1),
            "readback_frames": frames,
            "timestamps_match": bool(sidecar_ok and pts_ok),
            "file_mb": round(file_mb, 1),
            "duration_s": round(result.duration_s, 3),
            "measured_fps": round(result.measured_fps, 3),
            "preview_frames_shown": shown,
            "resolution": f"{args.width}x{args.height}",
            "requested_fps": args.fps,
            "cores": psutil.cpu_count(),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
