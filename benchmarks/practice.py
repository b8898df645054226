"""Benchmark of live practice: live cadence from a camera playing real footage at its real rate.

The sample treadmill clip (``../shared/data/treadmill_run_side_30fps.mp4``, 168.9 ± 0.5 spm by
two pixel methods, README) is spliced with itself re-timed 1.07× (true cadence 168.9 → 180.7
spm at 12.0 s) into a temporary MJPEG file (never the repository), then:

* **offline**: ``stride-clinic analyze`` (pose model, contacts) on exactly the frames of each
  part (the clip, and the clip re-timed, each written alone as in the spliced file): its own
  cadence of each part (``60 / step time``, the step time fitted by least squares to the
  initial contacts, a missed contact counting two steps: ``app.analysis.metrics``), the
  reference of ``live_error_spm`` and ``settle_s``; and analyze on the spliced file, for the
  contacts (latency) and the local cadence over the same window of steps the live view uses. (Before, the reference was ``(N − 1) / span`` over the spliced file's
  contacts of each part, ``offline_spliced_part_cadence_n_minus_1_spm``: a contact missed in
  the re-timed part took a step off, 179.65 where the truth is 180.7.)
* **live**: the file played as a camera at its stored times (``RealRateFileSource``) through the
  same capture engine as Practice (``Recorder`` with its preview thread, a ``TapSource`` into
  ``LiveAnalysis``), with the real metronome sound path playing (below) and a 30 Hz poll
  standing in for the display timer;
* **fast camera**: 10 s of the synthetic 1280×720 camera at 120 fps through the same path
  (analysed at a reduced rate above 60 fps, said in ``decimation_120fps``).

* **sound**: from the start, for ``--audio-minutes`` (default 10, alongside everything above),
  the Practice metronome's sound path (``ui.metronome_audio``) plays into a throwaway PulseAudio
  null sink in this process and is recorded (``tests.null_sink``); the beats are checked against
  the grid: ``audio_max_error_ms``, ``audio_beats_off_over_1ms``, ``audio_gaps`` (``audio_skipped``
  with the reason where PulseAudio is missing).

JSON keys: ``live_error_spm`` (largest |live − offline part cadence| once settled, both parts),
``settle_s`` (from the cadence step until the display stays within ±1.5 spm of the new
offline value), ``frames_skipped_30fps``, ``update_latency_s`` (p95 of: display poll that first
shows an estimate made after a contact − moment that contact's frame left the camera), and
``cpu_percent`` (this process, % of one core, while live). An estimate counts as settled when
its whole window lies in one part. Also the same errors against the
local offline cadence, against the known truth (168.9 spm by two pixel methods, × factor) and
against the clip's hand-marked contacts (``*_events.csv``: 33 contacts, 168.42 spm, × factor;
least-squares step time as analyze; 168.57 spm; with ``60 × (N − 1) / span`` 168.42, and analyze,
when it used that formula, read this clip 1.35 spm faster, from the contacts at the clip's ends),
and every live estimate's time and value.

Run: ``.venv/bin/python benchmarks/practice.py [--clip PATH] [--factor 1.07] [--audio-minutes 10]``
(about ``--audio-minutes`` plus a few seconds; some 2½ minutes with ``--audio-minutes 0``)
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CLIP = ROOT.parent / "shared" / "data" / "treadmill_run_side_30fps.mp4"
TRUE_SPM = 168.9
SETTLE_BAND = 1.5


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def offline(path: Path, cache: Path) -> dict:
    from app.analysis.analyze import add_arguments, analyze

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    out = analyze(parser.parse_args([str(path), "--cache-dir", str(cache)]))
    ics = sorted(e["time_s"] for e in out["events"] if e["type"] == "initial_contact")
    return {"ics": ics, "cadence_spm": out["metrics"]["cadence_spm"],
            "cadence_fps_u": out["metrics"].get("cadence_fps_u")}  # fmt: skip


def hand_marked_spm(clip: Path, fps: float = 30.0) -> float | None:
    """Cadence from the clip's hand-marked contacts (``<clip>_events.csv``, two raters,
    ±1 frame; data/README.md): ``60 / step time`` over the initial contacts, the step time
    fitted by least squares as ``analyze`` does (every contact is there: no gaps)."""
    import csv

    path = clip.with_name(clip.stem + "_events.csv")
    if not path.exists():
        return None
    with path.open() as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    ic = sorted(float(r["frame"]) / fps for r in rows if r["event"] == "IC")
    return 60.0 / float(np.polyfit(np.arange(len(ic)), ic, 1)[0]) if len(ic) >= 2 else None


def part_cadence(ics: list[float], lo: float, hi: float) -> float:
    a = [t for t in ics if lo <= t < hi]
    return 60.0 * (len(a) - 1) / (a[-1] - a[0])


def local_cadence(ics: np.ndarray, t: float, window: float) -> float | None:
    a = ics[(ics >= t - window) & (ics <= t)]
    return 60.0 * (len(a) - 1) / (a[-1] - a[0]) if len(a) >= 5 else None


class Audio:
    """The real metronome sound path (ui.metronome_audio: the click track rendered ahead,
    played by QAudioSink on its own thread) into a throwaway PulseAudio null sink, recorded
    (tests.null_sink), in this process: the live analysis shares its interpreter."""

    def __init__(self, folder: Path, bpm: float) -> None:
        self.bpm = bpm
        self.reason: str | None = None
        self.raw = folder / "played.raw"
        self.sink = None
        self.backend = None
        self.started = 0.0

    def start(self) -> None:
        import os

        from tests.null_sink import NullSink, unavailable_reason

        self.reason = unavailable_reason()
        if self.reason:
            return
        self.sink = NullSink(self.raw.parent / "pulse_home")
        try:
            env = self.sink.__enter__()
        except RuntimeError as e:
            self.reason, self.sink = str(e), None
            return
        for key in ("PULSE_RUNTIME_PATH", "XDG_RUNTIME_DIR", "PULSE_SERVER"):
            os.environ[key] = env[key]  # before Qt Multimedia first looks for a sound server
        from PySide6.QtCore import QCoreApplication

        from app.prescription.click_track import ClickTrack
        from ui.metronome_audio import AudioUnavailable, PrerenderedAudio

        self._app = QCoreApplication.instance() or QCoreApplication([])
        self.sink.record(self.raw)
        self.lock = threading.Lock()
        try:
            self.backend = PrerenderedAudio(44100)
            self.backend.start(ClickTrack(self.bpm, 44100), self.lock)
        except AudioUnavailable as e:
            self.reason, self.backend = str(e), None
        self.started = time.monotonic()

    def finish(self, minutes: float) -> dict:
        if self.backend is None:
            if self.sink is not None:
                self.sink.close()
            return {"audio_skipped": self.reason}
        time.sleep(max(0.0, self.started + minutes * 60 - time.monotonic()))
        played_s = time.monotonic() - self.started
        self.backend.stop()
        self.sink.stop_recording()
        self.sink.close()
        from tests.null_sink import beat_check

        got = beat_check(self.raw, self.bpm)
        off, k = np.abs(got["off_ms"]), got["k"]
        steps = np.diff(k) if len(k) > 1 else np.zeros(0, int)
        return {
            "audio_minutes": round(played_s / 60, 2),
            "audio_beats_checked": int(len(off)),
            "audio_beats_expected": int(round(played_s * self.bpm / 60)),
            "audio_max_error_ms": round(float(off.max()), 3) if off.size else None,
            "audio_beats_off_over_1ms": int((off > 1.0).sum()),
            "audio_gaps": int((steps != 1).sum()),
            # where the beats left the grid: the first such beat (s after the first click) and
            # the error there and at the end (a one-time shift, or a growing drift)
            "audio_first_off_s": (round(float(got["inner"][np.argmax(off > 1.0)] - got["inner"][0]), 2)
                                  if (off > 1.0).any() else None),
            "audio_error_at_first_off_ms": (round(float(got["off_ms"][np.argmax(off > 1.0)]), 3)
                                            if (off > 1.0).any() else None),
            "audio_error_last_ms": round(float(got["off_ms"][-1]), 3) if off.size else None,
            "audio_error_first_minute_max_ms": round(float(off[: int(self.bpm)].max()), 3) if off.size else None,
        }


def live(source, seconds: float | None, bpm: float) -> dict:  # type: ignore[no-untyped-def]
    from app.capture import Recorder
    from app.capture.errors import CameraDisconnectedError  # noqa: F401 - ends the file source
    from app.practice.live import LiveAnalysis, TapSource

    delivered: list[tuple[int, float]] = []  # (timestamp_ns, monotonic) per frame read

    class LoggingTap(TapSource):
        def read(self):  # type: ignore[no-untyped-def]
            p = super().read()
            if p is not None:
                delivered.append((p.timestamp_ns, time.monotonic()))
            return p

    analysis = LiveAnalysis()
    analysis.start()
    rec = Recorder(LoggingTap(source, analysis))
    seen: list[tuple[int, float]] = []  # (version, monotonic) when the 30 Hz poll saw it
    cpu0, wall0 = cpu_seconds(), time.monotonic()
    rec.start()
    rec.wait_live(10)
    last = -1
    end = None if seconds is None else time.monotonic() + seconds
    while True:
        snap = analysis.snapshot()
        if snap.version != last:
            last = snap.version
            seen.append((snap.version, time.monotonic()))
        rec.latest_preview()
        if rec.state.value == "error" or (end is not None and time.monotonic() > end):
            break
        time.sleep(1 / 30)
    analysis.wait_idle(5)
    cpu1, wall1 = cpu_seconds(), time.monotonic()
    rec.close()
    analysis.stop()
    snap = analysis.snapshot()
    return {
        "history": list(analysis.history),
        "seen": seen,
        "delivered": delivered,
        "stats": snap.stats,
        "cpu_percent": 100.0 * (cpu1 - cpu0) / (wall1 - wall0),
        "error": rec.error.message if rec.error else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, default=CLIP)
    ap.add_argument("--factor", type=float, default=1.07)
    ap.add_argument("--audio-minutes", type=float, default=10.0,
                    help="how long the metronome plays into a null sink and is checked; it "
                         "starts first and runs alongside everything else (0: no sound)")  # fmt: skip
    args = ap.parse_args(argv)
    if not args.clip.exists():
        print(json.dumps({"error": f"sample clip not found: {args.clip}"}))
        return 2
    from app.capture import SyntheticSource
    from app.capture.fakes import RealRateFileSource
    from app.practice.footage import retimed, splice_retimed

    with tempfile.TemporaryDirectory(prefix="stride_practice_") as tmp:
        tmpdir = Path(tmp)
        audio = Audio(tmpdir, round(TRUE_SPM))
        if args.audio_minutes > 0:
            audio.start()  # plays through the offline and the live parts
        clip = splice_retimed(args.clip, tmpdir / "spliced.mkv", args.factor)
        change = clip.change_s
        t_off = time.monotonic()
        off = offline(clip.path, tmpdir / "cache")
        # The reference: analyze on exactly the frames of each part, its own cadence (its step
        # count: a missed contact, a gap of two steps, counts two).
        parts = [offline(retimed(args.clip, tmpdir / f"part{i}.mkv", f), tmpdir / f"cache{i}")
                 for i, f in ((1, 1.0), (2, args.factor))]  # fmt: skip
        offline_s = time.monotonic() - t_off
        ics = np.array(off["ics"])
        ref = tuple(p["cadence_spm"] for p in parts)
        spliced_n1 = (part_cadence(off["ics"], 0, change), part_cadence(off["ics"], change, 1e9))
        truth = (TRUE_SPM, TRUE_SPM * args.factor)
        hand1 = hand_marked_spm(args.clip)
        hand = (hand1, hand1 * args.factor) if hand1 else None  # the same frames, re-timed

        run = live(RealRateFileSource(clip.path, loop=False), None, round(truth[0]))
        fast = live(SyntheticSource(1280, 720, 120, name="fast"), 10.0, 170)
        sound = audio.finish(args.audio_minutes) if args.audio_minutes > 0 else {}

    hist = run["history"]
    seen = dict(run["seen"])
    t0_ns, _w = run["delivered"][0]
    deliver_t = np.array([(ts - t0_ns) / 1e9 for ts, _ in run["delivered"]])
    deliver_w = np.array([w for _ts, w in run["delivered"]])
    versions = list(range(1, len(hist) + 1))  # version n = n-th published estimate
    est = [(h[0], v) for h, v in zip(hist, versions, strict=True)]
    ok = [(e, v) for e, v in est if e.ok]
    first_ok = ok[0][0].time_s if ok else math.inf

    def part(t: float) -> int:
        return 0 if t < change else 1

    # Settling after the step: the first time from which every estimate stays in the band.
    after = [(e.time_s, e.cadence_spm) for e, _v in ok if e.time_s >= change]
    settle = math.inf
    settle_truth = math.inf
    settle_hand = math.inf
    for key, target in (("off", ref[1]), ("truth", truth[1]), ("hand", hand[1] if hand else None)):
        if target is None:
            continue
        s = math.inf
        for i, (t, _c) in enumerate(after):
            if all(abs(c - target) <= SETTLE_BAND for _t, c in after[i:]):
                s = t - change
                break
        if key == "off":
            settle = s
        elif key == "truth":
            settle_truth = s
        else:
            settle_hand = s

    # "Settled": the estimate's whole window lies in one part (before the step, or after it),
    # so it measures one cadence; the transition is what settle_s describes.
    def settled(e) -> bool:  # type: ignore[no-untyped-def]
        return e.time_s < change or e.time_s - e.window_s >= change

    errs, errs_local, errs_truth, errs_hand = [], [], [], []
    for e, _v in ok:
        if not settled(e):
            continue
        errs.append(abs(e.cadence_spm - ref[part(e.time_s)]))
        errs_truth.append(abs(e.cadence_spm - truth[part(e.time_s)]))
        if hand:
            errs_hand.append(abs(e.cadence_spm - hand[part(e.time_s)]))
        loc = local_cadence(ics, e.time_s, e.window_s)
        if loc is not None:
            errs_local.append(abs(e.cadence_spm - loc))

    # Latency: each offline contact → the first estimate made from a frame at or after it,
    # as first seen by the display poll, minus when the contact's frame left the camera.
    lat = []
    est_t = np.array([e.time_s for e, _ in est])
    for c in ics:
        if c < first_ok:
            continue
        k = int(np.searchsorted(est_t, c - 1e-6))
        if k >= len(est):
            continue
        v = est[k][1]
        if v not in seen:
            continue  # superseded before the poll saw it: the next one is shown
        i = int(np.searchsorted(deliver_t, c - 1e-6))
        if i < len(deliver_w):
            lat.append(seen[v] - deliver_w[i])
    st, fst = run["stats"], fast["stats"]
    out = {
        "live_error_spm": round(max(errs), 2) if errs else None,
        "settle_s": round(settle, 2) if math.isfinite(settle) else None,
        "frames_skipped_30fps": st.delivered - st.analysed,
        "update_latency_s": round(float(np.percentile(lat, 95)), 3) if lat else None,
        "cpu_percent": round(run["cpu_percent"], 1),
        "targets": {"live_error_spm": 1.5, "settle_s": 5.0, "frames_skipped_30fps": 0,
                    "update_latency_s": 0.5},  # fmt: skip
        "offline_part_cadence_spm": [round(x, 2) for x in ref],
        "offline_part_contacts": [len(p["ics"]) for p in parts],
        "offline_part_cadence_frame_rate_u_spm": [p["cadence_fps_u"] for p in parts],
        "offline_spliced_part_cadence_n_minus_1_spm": [round(x, 2) for x in spliced_n1],
        "offline_whole_clip_cadence_spm": off["cadence_spm"],
        "offline_seconds": round(offline_s, 1),
        "true_part_cadence_spm": [round(x, 2) for x in truth],
        "live_error_vs_truth_spm": round(max(errs_truth), 2) if errs_truth else None,
        "hand_marked_part_cadence_spm": [round(x, 2) for x in hand] if hand else None,
        "live_error_vs_hand_marked_spm": round(max(errs_hand), 2) if errs_hand else None,
        "settle_vs_hand_marked_s": round(settle_hand, 2) if math.isfinite(settle_hand) else None,
        "live_error_vs_local_offline_spm": round(max(errs_local), 2) if errs_local else None,
        "live_error_median_spm": round(float(np.median(errs)), 2) if errs else None,
        "live_error_p95_spm": round(float(np.percentile(errs, 95)), 2) if errs else None,
        "settled_estimates": len(errs),
        "settle_vs_truth_s": round(settle_truth, 2) if math.isfinite(settle_truth) else None,
        "first_estimate_s": round(first_ok, 2),
        "update_latency_median_s": round(float(np.median(lat)), 3) if lat else None,
        "latency_contacts": len(lat),
        "frames_delivered_30fps": st.delivered,
        "frames_analysed_30fps": st.analysed,
        "frames_dropped_queue_30fps": st.skipped,
        "frames_delivered_120fps": fst.delivered,
        "frames_analysed_120fps": fst.analysed,
        "frames_skipped_120fps": fst.skipped,
        "decimation_120fps": fst.decimation,
        "cpu_percent_120fps": round(fast["cpu_percent"], 1),
        "audio_minutes_option": args.audio_minutes,
        **sound,
        "camera_end_message": run["error"],
        "estimates": [[round(e.time_s, 2), None if e.cadence_spm is None else round(e.cadence_spm, 2),
                       e.status.value] for e, _ in est],  # fmt: skip
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
