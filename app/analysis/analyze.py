"""``stride-clinic analyze``: contacts and gait metrics from a video or a keypoint CSV.

The lead wires :func:`add_arguments` and :func:`run` into the main CLI. Bad input gives one
plain-language line on stderr and exit code 2, never a traceback.

Time: a video's frame times come from the file's own timestamps and capture rate
(:class:`app.video.timebase.Timebase`, the same slow-motion detection as import), never from
``frame / fps``. A variable-frame-rate clip is put on a uniform grid at its highest rate before
the contact detector (which works in frames) runs, and the events are mapped back to the
file's frames. ``--json`` goes through :mod:`app.outputs` (never over the input, the database
or the data folder; ``--force`` to replace a file, ``--parents`` to create its folder).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from app.analysis.errors import AnalysisError
from app.analysis.keypoints import KeypointTrack, read_csv
from app.analysis.metrics import landing_metrics, metrics_json, temporal_metrics
from app.outputs import OutputError, rules_for_home, write_text
from app.video.timebase import Timebase

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``analyze`` options to ``parser``."""
    parser.add_argument("video", nargs="?", help="side-view video of the runner")
    parser.add_argument("--keypoints", metavar="TRACK.csv", help="analyse a keypoint CSV instead")
    parser.add_argument(
        "--capture-fps", type=float, default=None,
        help="real capture rate for slow-motion files (e.g. 240 for a file that plays at 30)",
    )  # fmt: skip
    parser.add_argument(
        "--fps", type=float, default=None,
        help="frame rate of a keypoint CSV (overrides its time column)",
    )  # fmt: skip
    parser.add_argument("--cm-per-px", type=float, default=None, help="calibration for cm output")
    parser.add_argument("--cache-dir", default=None, help="folder for the pose-model cache")
    parser.add_argument("--json", metavar="OUT", default=None, help="write JSON ('-' = stdout)")
    parser.add_argument(
        "--force", action="store_true", help="replace the --json file if it already exists"
    )
    parser.add_argument(
        "--parents", action="store_true", help="create the --json file's folder if it is missing"
    )


MIN_FPS, MAX_FPS = 1.0, 10000.0


def _rate(value: float | None, option: str) -> float | None:
    """A frame rate given on the command line: None when not given, else plausible or refused
    (0 used to be ignored without a word)."""
    if value is None:
        return None
    if not math.isfinite(value) or not (MIN_FPS <= value <= MAX_FPS):
        raise AnalysisError(
            f"{option} {value:g} is not a usable frame rate: give the camera's frames per second "
            f"({MIN_FPS:g}–{MAX_FPS:g}, e.g. 240 for a slow-motion phone clip)."
        )
    return float(value)


def _calibration(value: float | None) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value) or value <= 0:
        raise AnalysisError(
            f"--cm-per-px {value:g} is not a calibration: give the centimetres one pixel covers, "
            "a positive number (e.g. 0.25)."
        )
    return float(value)


def _retime(track: KeypointTrack, fps: float) -> KeypointTrack:
    """A keypoint table's rows at the given constant rate (``--fps``)."""
    return track.with_times(Timebase.uniform(track.n_frames, fps).times_s)


def on_uniform_grid(track: KeypointTrack, fps: float) -> KeypointTrack:
    """``track`` linearly resampled at ``fps`` from its own (irregular) times.

    A keypoint missing at either neighbour stays missing (never invented across a gap).
    """
    t = track.times - track.times[0]
    n = track.n_frames
    grid = np.arange(0.0, t[-1] + 0.5 / fps, 1.0 / fps)
    grid = grid[grid <= t[-1] + 1e-9]
    i = np.clip(np.searchsorted(t, grid, side="right"), 1, n - 1)
    span = t[i] - t[i - 1]
    w = np.clip((grid - t[i - 1]) / np.where(span > 0, span, 1.0), 0.0, 1.0)

    def blend(a: np.ndarray) -> np.ndarray:
        flat = a.reshape(n, -1)
        lo, hi = flat[i - 1], flat[i]
        mixed = lo * (1 - w)[:, None] + hi * w[:, None]
        exact_lo, exact_hi = (w == 0)[:, None], (w == 1)[:, None]
        return np.where(exact_lo, lo, np.where(exact_hi, hi, mixed)).reshape(
            (len(grid), *a.shape[1:])
        )

    return KeypointTrack(grid, blend(track.xy), blend(track.conf), dict(track.meta))


def detect_on_own_clock(track: KeypointTrack, notes: list[str]) -> tuple[Any, KeypointTrack]:
    """Contacts of a track timed in real seconds, with the file's own frame numbers.

    The detector works in frames, so a variable-frame-rate track is first put on a uniform grid
    at its highest rate; the events then get the file's frame numbers back, with those frames'
    real times (the grid's in-between times belong to no frame of the file, and a clinician
    accepting the proposals gets exactly these figures). On a constant-rate clip the detector's
    sub-frame times are kept.
    Shared by ``analyze`` and the marking panel's automatic detection (one route). Returns the
    detection result and the track it ran on."""
    grid_track = track
    clock = Timebase(track.times, None, None)  # the track's own real times
    if clock.is_variable:
        rate = clock.peak_fps
        lo, hi = 1.0 / np.max(np.diff(track.times)), 1.0 / np.min(np.diff(track.times))
        notes.append(
            f"Variable frame rate ({lo:.0f}–{hi:.0f} frames per second): the analysis uses the "
            "file's own frame times."
        )
        grid_track = on_uniform_grid(track, rate)
    from app.analysis import contacts  # looked up at call time (tests replace the detector)

    result = contacts.detect_contacts(grid_track)
    if grid_track is not track:
        # Events were found on the uniform grid: give them the file's own frame numbers.
        frames = clock.frames_at(np.array([e.time_s for e in result.events]))
        result.events = [
            replace(e, frame=int(f), time_s=clock.time_of(int(f)))
            for e, f in zip(result.events, frames, strict=True)
        ]
    return result, grid_track


def _default_cache_dir() -> Path | None:
    """The data folder's cache (shared with the desktop program); None if it cannot be made."""
    from app.paths import DataFolderError, data_folder

    try:
        return data_folder().ensure().cache
    except DataFolderError:
        return None


def analyze(args: argparse.Namespace) -> dict[str, object]:
    """Run the analysis and return the JSON-ready result (raises :class:`AnalysisError`)."""
    if bool(args.video) == bool(args.keypoints):
        raise AnalysisError("Give either a VIDEO or --keypoints TRACK.csv (exactly one).")
    fps_arg = _rate(args.fps, "--fps")
    capture_arg = _rate(args.capture_fps, "--capture-fps")
    cm_per_px = _calibration(args.cm_per_px)
    notes: list[str] = []
    timebase: Timebase | None = None
    crops = None
    if args.keypoints:
        track = read_csv(args.keypoints)
        playback_fps = fps_arg or track.fps
        if fps_arg:
            track = _retime(track, fps_arg)
        if capture_arg:
            # The table's times are playback times: scale them, keeping their irregularities.
            try:
                track = Timebase(track.times, track.fps, capture_arg).retime(track)
            except ValueError as exc:
                raise AnalysisError(
                    f"The keypoint table's times cannot be rescaled to real time ({exc})."
                ) from exc
    else:
        from app.analysis.footcrops import FootCrops
        from app.analysis.pose import run_pose
        from app.video import VideoError

        video = Path(args.video)
        try:
            timebase = Timebase.from_file(video, capture_fps=capture_arg)
        except VideoError as exc:
            raise AnalysisError(exc.message) from exc
        crops = FootCrops()  # the pixel step's crops, kept while the pose pass decodes
        track = run_pose(video, cache_dir=args.cache_dir or _default_cache_dir(), crops=crops)
        playback_fps = float(timebase.container_fps or track.meta.get("fps") or track.fps)  # type: ignore[arg-type]
        track = _with_file_times(track, timebase, notes)
        if timebase.capture_fps and not capture_arg:
            notes.append(
                f"Slow-motion file: {timebase.capture_fps:g} frames per second captured "
                f"({timebase.capture_source}); times are real time."
            )
    result, grid_track = detect_on_own_clock(track, notes)
    if args.video:  # each proposal checked on the pixels around the foot (a few frames each)
        from app.analysis.footflow import refine_from_video

        refine_from_video(result, track, args.video, crops=crops)
    temporal = temporal_metrics(result.events, fps=grid_track.fps)
    landing = landing_metrics(result.events, grid_track, result.direction, cm_per_px=cm_per_px)
    metrics = metrics_json(temporal, landing)
    warnings = list(
        dict.fromkeys(notes + result.warnings + list(metrics.pop("warnings")))  # type: ignore[arg-type]
    )
    real_fps = timebase.real_fps if timebase is not None else track.fps
    return {
        "source": str(args.keypoints or args.video),
        "fps": round(playback_fps, 4),
        "capture_fps": round(real_fps, 4),
        "variable_frame_rate": grid_track is not track,
        "frames": track.n_frames,
        "direction": result.direction,
        "step_period_s": round(result.step_period_s, 5),
        # Which frames were analysed and why (a second person can shorten it), and how many
        # keypoint positions were dropped as one-frame glitches.
        "analysed_frames": list(result.analysed_frames),
        "analysed_reason": result.analysed_reason,
        "outliers_rejected": result.outliers_rejected,
        "events": [e.to_json() for e in result.events],
        "metrics": metrics,
        "warnings": warnings,
    }


def _with_file_times(track: KeypointTrack, timebase: Timebase, notes: list[str]) -> KeypointTrack:
    """The pose track with the file's real frame times (PTS and capture rate)."""
    n = track.n_frames
    if n < timebase.n_frames - 1:
        notes.append(
            f"Only {n} of the video's {timebase.n_frames} frames could be analysed "
            "(the end of the file is damaged or was cut off)."
        )
    # More decoded frames than indexed ones (a damaged index) keep the decoder's times, scaled.
    return timebase.retime(track)


def _fmt(stat: object, unit: str = "", digits: int = 1) -> str:
    """``mean ± SD unit (n=…) [±u]``: ``[±u]`` is the mean's uncertainty from the frame rate
    alone, as the marking panel shows it."""
    if not isinstance(stat, dict) or stat.get("mean") is None:
        return "-"
    sd = stat.get("sd")
    sd_text = f" ± {sd:.{digits}f}" if isinstance(sd, float) else ""
    u = stat.get("fps_u")
    u_text = ""
    if isinstance(u, float):
        ud = digits if u >= 10**-digits else digits + 1
        u_text = f" [±{u:.{ud}f}]"
    return f"{stat['mean']:.{digits}f}{sd_text}{unit} (n={stat['n']}){u_text}"


def summary(out: dict[str, object]) -> str:
    """Plain-text summary for the terminal."""
    m: dict = out["metrics"]  # type: ignore[assignment]
    over_key = "overstride_cm" if "overstride_cm" in m else "overstride_leg_pct"
    over_unit = " cm" if over_key == "overstride_cm" else " % leg"
    ics = [e for e in out["events"] if e["type"] == "initial_contact"]  # type: ignore[union-attr,index]
    lines = [
        f"{out['source']}: {out['frames']} frames at {out['capture_fps']} fps, "
        f"running towards image {out['direction']}",
        f"Cadence: {m['cadence_spm']} steps/min ({len(ics)} contacts)"
        + (f" [±{m['cadence_fps_u']:.2f}]" if isinstance(m.get("cadence_fps_u"), float) else ""),
    ]
    rows = [
        ("Step time", "step_time_s", " s", 3),
        ("Contact time", "contact_time_s", " s", 3),
        ("Flight time", "flight_time_s", " s", 3),
        ("Heel ahead of hip", over_key, over_unit, 1),
        ("Shank angle", "shank_angle_deg", "°", 1),
        ("Knee flexion", "knee_flexion_deg", "°", 1),
        ("Foot-strike angle", "foot_strike_angle_deg", "°", 1),
    ]
    unresolved = set(m.get("unresolved_left_right") or [])
    for label, key, unit, digits in rows:
        side = m.get(key, {})
        name = label + (" ≈" if _measure_name(key) in unresolved else "")
        lines.append(
            f"  {name:<18} left {_fmt(side.get('left'), unit, digits):<34} "
            f"right {_fmt(side.get('right'), unit, digits)}"
        )
    pat = m.get("foot_strike_pattern", {})
    lines.append(f"  Strike pattern     left {pat.get('left')}, right {pat.get('right')}")
    if isinstance(m.get("fps"), float):
        lines.append(
            f"  [±…] uncertainty of each mean from the frame rate alone ({m['fps']:.0f} frames/s)"
            + (
                f"; ≈ {', '.join(sorted(unresolved))}: the left/right difference is within it, "
                "no evidence of an asymmetry"
                if unresolved
                else ""
            )
        )
    for w in out["warnings"]:  # type: ignore[union-attr]
        lines.append(f"Warning: {w}")
    return "\n".join(lines)


def _measure_name(key: str) -> str:
    """The metrics' own name of a measure (as in ``unresolved_left_right``) from its JSON key."""
    return {
        "step_time_s": "step time",
        "contact_time_s": "contact time",
        "flight_time_s": "flight time",
        "overstride_leg_pct": "overstride",
        "overstride_cm": "overstride",
        "shank_angle_deg": "shank angle",
        "knee_flexion_deg": "knee flexion",
        "foot_strike_angle_deg": "foot-strike angle",
    }.get(key, key)


def run(args: argparse.Namespace) -> int:
    """Entry point for ``stride-clinic analyze``; returns the process exit code."""
    try:
        rules = rules_for_home(
            inputs=[args.video, args.keypoints],
            force=getattr(args, "force", False),
            parents=getattr(args, "parents", False),
        )
        if args.json and args.json != "-":
            rules.check(args.json)  # refuse before minutes of pose estimation, not after
        out = analyze(args)
        if args.json:
            text = json.dumps(out, indent=2, allow_nan=False, default=_jsonable)
            # owner-only: the result belongs to a patient (the file name often says who)
            write_text(args.json, text + "\n", rules, private=True)
        else:
            print(summary(out))
    except OutputError as exc:
        print(f"stride-clinic analyze: {exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except AnalysisError as exc:
        print(f"stride-clinic analyze: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (OSError, ValueError) as exc:  # unreadable files and the like: still one clear line
        print(f"stride-clinic analyze: could not analyse the input: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _jsonable(obj: object) -> object:
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj)}")


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m app.analysis.analyze``) until the lead's CLI wires it."""
    parser = argparse.ArgumentParser(prog="stride-clinic analyze")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
