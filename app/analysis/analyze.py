"""``stride-clinic analyze``: contacts and gait metrics from a video or a keypoint CSV.

The lead wires :func:`add_arguments` and :func:`run` into the main CLI. Bad input gives one
plain-language line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from app.analysis.contacts import detect_contacts
from app.analysis.errors import AnalysisError
from app.analysis.keypoints import KeypointTrack, read_csv
from app.analysis.metrics import landing_metrics, metrics_json, temporal_metrics

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


def _retime(track: KeypointTrack, fps: float) -> KeypointTrack:
    if not (1.0 <= fps <= 10000.0):
        raise AnalysisError(f"A frame rate of {fps:g} per second is not plausible.")
    return track.with_times(np.arange(track.n_frames) / fps)


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
    playback_fps = None
    if args.keypoints:
        track = read_csv(args.keypoints)
        if args.fps:
            track = _retime(track, args.fps)
    else:
        from app.analysis.pose import run_pose

        video = Path(args.video)
        track = run_pose(video, cache_dir=args.cache_dir or _default_cache_dir())
        playback_fps = float(track.meta.get("fps") or track.fps)  # type: ignore[arg-type]
        if args.capture_fps:
            track = _retime(track, args.capture_fps)
    if args.keypoints and args.capture_fps:
        track = _retime(track, args.capture_fps)
    result = detect_contacts(track)
    temporal = temporal_metrics(result.events, fps=track.fps)
    landing = landing_metrics(result.events, track, result.direction, cm_per_px=args.cm_per_px)
    metrics = metrics_json(temporal, landing)
    warnings = list(dict.fromkeys(result.warnings + list(metrics.pop("warnings"))))  # type: ignore[arg-type]
    return {
        "source": str(args.keypoints or args.video),
        "fps": round(playback_fps or track.fps, 4),
        "capture_fps": round(track.fps, 4),
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


def _fmt(stat: object, unit: str = "", digits: int = 1) -> str:
    if not isinstance(stat, dict) or stat.get("mean") is None:
        return "-"
    sd = stat.get("sd")
    sd_text = f" ± {sd:.{digits}f}" if isinstance(sd, float) else ""
    return f"{stat['mean']:.{digits}f}{sd_text}{unit} (n={stat['n']})"


def summary(out: dict[str, object]) -> str:
    """Plain-text summary for the terminal."""
    m: dict = out["metrics"]  # type: ignore[assignment]
    over_key = "overstride_cm" if "overstride_cm" in m else "overstride_leg_pct"
    over_unit = " cm" if over_key == "overstride_cm" else " % leg"
    ics = [e for e in out["events"] if e["type"] == "initial_contact"]  # type: ignore[union-attr,index]
    lines = [
        f"{out['source']}: {out['frames']} frames at {out['capture_fps']} fps, "
        f"running towards image {out['direction']}",
        f"Cadence: {m['cadence_spm']} steps/min ({len(ics)} contacts)",
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
    for label, key, unit, digits in rows:
        side = m.get(key, {})
        lines.append(
            f"  {label:<18} left {_fmt(side.get('left'), unit, digits):<26} "
            f"right {_fmt(side.get('right'), unit, digits)}"
        )
    pat = m.get("foot_strike_pattern", {})
    lines.append(f"  Strike pattern     left {pat.get('left')}, right {pat.get('right')}")
    for w in out["warnings"]:  # type: ignore[union-attr]
        lines.append(f"Warning: {w}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Entry point for ``stride-clinic analyze``; returns the process exit code."""
    try:
        out = analyze(args)
    except AnalysisError as exc:
        print(f"stride-clinic analyze: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (OSError, ValueError) as exc:  # unreadable files and the like: still one clear line
        print(f"stride-clinic analyze: could not analyse the input: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        text = json.dumps(out, indent=2, allow_nan=False, default=_jsonable)
        if args.json == "-":
            sys.stdout.write(text + "\n")
        else:
            try:
                Path(args.json).write_text(text + "\n", encoding="utf-8")
            except OSError as exc:
                print(f"stride-clinic analyze: cannot write {args.json}: {exc}", file=sys.stderr)
                return EXIT_BAD_INPUT
    else:
        print(summary(out))
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
