"""Per-frame leg keypoints of one runner seen from the side, with load/save and validation.

Coordinates are image pixels (x to the right, y down) or any unit of the same orientation (the
marker tracks use millimetres). Each side has hip, knee, ankle, heel and toe; confidences are
optional (1.0 when absent). Missing points are NaN.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.analysis.errors import AnalysisError

SIDES: tuple[str, str] = ("left", "right")
JOINTS: tuple[str, ...] = ("hip", "knee", "ankle", "heel", "toe")

#: Plausible capture rates; outside these the time column is almost certainly wrong.
MIN_FPS = 10.0
MAX_FPS = 1200.0


def column_names(with_confidence: bool = False) -> list[str]:
    """CSV columns in the canonical order: ``time_s``, then x/y (and conf) per side and joint."""
    cols = ["time_s"]
    for side in SIDES:
        for joint in JOINTS:
            cols += [f"{side}_{joint}_x", f"{side}_{joint}_y"]
            if with_confidence:
                cols.append(f"{side}_{joint}_conf")
    return cols


@dataclass
class KeypointTrack:
    """Leg keypoints over time.

    ``times`` has shape (N,), seconds of capture time; ``xy`` has shape (N, 2, 5, 2) indexed
    [frame, side (0 left, 1 right), joint (see ``JOINTS``), coordinate (x, y)]; ``conf`` has shape
    (N, 2, 5) in [0, 1]. ``meta`` holds free-form provenance (model, video size...).
    """

    times: np.ndarray
    xy: np.ndarray
    conf: np.ndarray = field(default=None)  # type: ignore[assignment]
    meta: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.times = np.asarray(self.times, dtype=float)
        self.xy = np.asarray(self.xy, dtype=float)
        n = self.times.shape[0]
        if self.xy.shape != (n, 2, len(JOINTS), 2):
            raise AnalysisError(
                f"Keypoint table has the wrong shape {self.xy.shape}; expected ({n}, 2, 5, 2)."
            )
        if self.conf is None:
            self.conf = np.where(np.isnan(self.xy).any(axis=-1), 0.0, 1.0)
        self.conf = np.asarray(self.conf, dtype=float)

    # -- convenience ------------------------------------------------------------------------
    @property
    def n_frames(self) -> int:
        return int(self.times.shape[0])

    @property
    def fps(self) -> float:
        """Mean frame rate over the whole track.

        The mean, not the median interval: exported times are often rounded (the RBDS markers at
        150 Hz carry millisecond times, so intervals read 6 or 7 ms).
        """
        if self.n_frames < 2 or self.times[-1] <= self.times[0]:
            return float("nan")
        return float((self.n_frames - 1) / (self.times[-1] - self.times[0]))

    @property
    def duration_s(self) -> float:
        return float(self.times[-1] - self.times[0]) if self.n_frames else 0.0

    def joint(self, side: int | str, joint: str) -> np.ndarray:
        """(N, 2) array of one keypoint (side 0/"left" or 1/"right")."""
        s = SIDES.index(side) if isinstance(side, str) else side
        return self.xy[:, s, JOINTS.index(joint), :]

    def masked(self, min_conf: float) -> np.ndarray:
        """``xy`` with points below ``min_conf`` set to NaN."""
        out = self.xy.copy()
        out[self.conf < min_conf] = np.nan
        return out

    def with_times(self, times: np.ndarray) -> KeypointTrack:
        return KeypointTrack(
            np.asarray(times, float), self.xy.copy(), self.conf.copy(), dict(self.meta)
        )

    def slice(self, start: int, stop: int) -> KeypointTrack:
        return KeypointTrack(
            self.times[start:stop].copy(),
            self.xy[start:stop].copy(),
            self.conf[start:stop].copy(),
            dict(self.meta),
        )

    # -- validation -------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise :class:`AnalysisError` for a table that cannot be analysed."""
        if self.n_frames < 2:
            raise AnalysisError("The keypoint table has fewer than 2 frames; nothing to analyse.")
        if not np.all(np.isfinite(self.times)):
            raise AnalysisError(
                "The time column has empty or non-numeric values; every frame needs a time in seconds."
            )
        dt = np.diff(self.times)
        if np.any(dt <= 0):
            bad = int(np.argmax(dt <= 0)) + 1
            raise AnalysisError(
                f"Times must increase from frame to frame, but frame {bad} "
                f"({self.times[bad]:.4f} s) does not come after frame {bad - 1}. "
                "Check that the table is sorted and has no duplicated rows."
            )
        fps = self.fps
        if not (MIN_FPS <= fps <= MAX_FPS):
            raise AnalysisError(
                f"The times imply {fps:.3g} frames per second, which is not a plausible camera "
                f"rate ({MIN_FPS:g}-{MAX_FPS:g}). Check that the time column is in seconds."
            )
        if np.nanmax(dt) > 5.0 / fps + 0.5:
            # Large jumps in time mean joined recordings; periodic analysis would be meaningless.
            raise AnalysisError(
                "The times jump by more than half a second between two frames; the table seems to "
                "join separate recordings. Analyse each recording on its own."
            )
        if np.all(np.isnan(self.xy)):
            raise AnalysisError(
                "The keypoint table holds no positions at all (every value is empty)."
            )


def _leg_length(xy: np.ndarray) -> float:
    """Median hip-ankle distance over both sides (NaN when never seen together)."""
    with np.errstate(all="ignore"):
        legs = np.linalg.norm(xy[:, :, 0, :] - xy[:, :, 2, :], axis=-1)
    return float(np.nanmedian(legs)) if np.isfinite(legs).any() else float("nan")


#: Outlier rejection: a point further than this (in leg lengths) from the median of its
#: neighbours is never ordinary motion at any camera rate (a monotone movement, however fast,
#: equals its running median) ...
OUTLIER_MIN_LEGS = 0.25
#: ... nor when it exceeds this many robust SDs of the window's own spread.
OUTLIER_MADS = 4.0
#: Half-width of the outlier window in seconds (at least 2 frames either side).
OUTLIER_HALF_WINDOW_S = 0.04


def reject_outliers(track: KeypointTrack) -> tuple[KeypointTrack, int]:
    """Hampel filter on every keypoint: returns (cleaned copy, number of points replaced).

    A point is an outlier when it lies further from the per-coordinate median of its window
    (±max(2 frames, 40 ms)) than both :data:`OUTLIER_MIN_LEGS` leg lengths and
    :data:`OUTLIER_MADS` scaled MADs of the window. A one- or two-frame glitch (a mislabelled
    marker, a pose model flickering onto the other foot or into the background) is such an
    outlier; real motion is not, because a monotone movement equals its running median whatever
    its speed. Outliers are replaced by linear interpolation between the nearest good
    neighbours, never across more than the window; their confidence is kept.
    """
    n = track.n_frames
    xy = track.xy.copy()
    leg = _leg_length(xy)
    if n < 5 or not np.isfinite(leg):
        return KeypointTrack(track.times.copy(), xy, track.conf.copy(), dict(track.meta)), 0
    fps = track.fps if np.isfinite(track.fps) else 30.0
    h = max(2, int(round(OUTLIER_HALF_WINDOW_S * fps)))
    flat = xy.reshape(n, -1, 2)  # (N, points, 2)
    pad = np.pad(flat, ((h, h), (0, 0), (0, 0)), constant_values=np.nan)
    win = np.lib.stride_tricks.sliding_window_view(pad, 2 * h + 1, axis=0)  # (N, P, 2, W)
    import warnings

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows: a hidden point
        med = np.nanmedian(win, axis=-1)
        mad = 1.4826 * np.nanmedian(np.abs(win - med[..., None]), axis=-1)
        dist = np.linalg.norm(flat - med, axis=-1)
        spread = np.linalg.norm(mad, axis=-1)
        bad = np.nan_to_num(dist, nan=0.0) > np.maximum(
            OUTLIER_MIN_LEGS * leg, OUTLIER_MADS * spread
        )
    count = int(bad.sum())
    if count:
        idx = np.arange(n)
        for k in np.nonzero(bad.any(axis=0))[0]:
            good = ~bad[:, k] & np.isfinite(flat[:, k, 0])
            flat[bad[:, k], k] = np.nan
            if good.sum() < 2:
                continue
            prev = np.maximum.accumulate(np.where(good, idx, -(10**9)))
            nxt = np.minimum.accumulate(np.where(good, idx, 10**9)[::-1])[::-1]
            fill = bad[:, k] & (nxt - prev <= 2 * h + 1)
            for c in range(2):
                flat[fill, k, c] = np.interp(idx[fill], idx[good], flat[good, k, c])
    out = KeypointTrack(
        track.times.copy(), flat.reshape(xy.shape), track.conf.copy(), dict(track.meta)
    )
    return out, count


def jump_frames(track: KeypointTrack) -> np.ndarray:
    """Frames where the tracked person jumps position (another person taken for the runner).

    Between detections, even across lost frames, one runner's hips move a few percent of a leg
    length per frame; a jump of more than half a leg (plus 10 % per lost frame) is someone else,
    but only if the hips stay there: the median of the next frames (at least 3, or 0.1 s) must
    still be that far from the median of the previous ones, so a glitch of a frame or two (a
    flickering keypoint) is never taken for a second person.
    """
    detected = np.isfinite(track.xy[:, :, 0, 0]).any(axis=1)
    if detected.sum() < 3:
        return np.zeros(0, dtype=int)
    with np.errstate(all="ignore"):
        hips = np.nanmean(track.xy[detected][:, :, 0, :], axis=1)
    leg = _leg_length(track.xy)
    if not np.isfinite(leg):
        return np.zeros(0, dtype=int)
    frames = np.nonzero(detected)[0]
    step = np.linalg.norm(np.diff(hips, axis=0), axis=1)
    elapsed = np.diff(frames)
    limit = leg * (0.5 + 0.1 * (elapsed - 1))
    fps = track.fps if np.isfinite(track.fps) else 30.0
    m = max(3, int(round(0.1 * fps)))
    out = []
    for k in np.nonzero(np.nan_to_num(step) > limit)[0] + 1:  # k: first index after the jump
        before = np.median(hips[max(0, k - m) : k], axis=0)
        after = np.median(hips[k : k + m], axis=0)
        if np.linalg.norm(after - before) > limit[k - 1]:
            out.append(frames[k])
    return np.asarray(out, dtype=int)


def _parse_float(text: str) -> float:
    text = text.strip()
    if text == "" or text.lower() in ("nan", "na", "none", "null"):
        return float("nan")
    return float(text)


def read_csv(path: str | Path) -> KeypointTrack:
    """Read a keypoint CSV (see module docstring). Lines starting with ``#`` are comments."""
    path = Path(path)
    if not path.is_file():
        raise AnalysisError(f"Keypoint file not found: {path}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = [r for r in csv.reader(line for line in fh if not line.startswith("#"))]
    except (OSError, UnicodeDecodeError) as exc:
        raise AnalysisError(f"Could not read the keypoint file {path.name}: {exc}") from exc
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise AnalysisError(f"The keypoint file {path.name} is empty.")
    header = [h.strip().lower() for h in rows[0]]
    needed = column_names(False)
    missing = [c for c in needed if c not in header]
    if missing:
        shown = ", ".join(missing[:6]) + (" ..." if len(missing) > 6 else "")
        raise AnalysisError(
            f"The keypoint file {path.name} lacks {len(missing)} required column(s): {shown}. "
            "Expected time_s and {left,right}_{hip,knee,ankle,heel,toe}_{x,y}."
        )
    index = {name: i for i, name in enumerate(header)}
    body = rows[1:]
    if not body:
        raise AnalysisError(f"The keypoint file {path.name} has a header but no frames.")
    data = np.full((len(body), len(header)), np.nan)
    for r, row in enumerate(body):
        if len(row) != len(header):
            raise AnalysisError(
                f"Line {r + 2} of {path.name} has {len(row)} values, the header has {len(header)}."
            )
        try:
            data[r] = [_parse_float(v) for v in row]
        except ValueError as exc:
            raise AnalysisError(f"Line {r + 2} of {path.name} holds a non-number: {exc}") from exc
    times = data[:, index["time_s"]]
    xy = np.full((len(body), 2, len(JOINTS), 2), np.nan)
    conf = np.ones((len(body), 2, len(JOINTS)))
    for s, side in enumerate(SIDES):
        for j, joint in enumerate(JOINTS):
            xy[:, s, j, 0] = data[:, index[f"{side}_{joint}_x"]]
            xy[:, s, j, 1] = data[:, index[f"{side}_{joint}_y"]]
            cname = f"{side}_{joint}_conf"
            if cname in index:
                conf[:, s, j] = np.nan_to_num(data[:, index[cname]], nan=0.0)
    conf[np.isnan(xy).any(axis=-1)] = 0.0
    track = KeypointTrack(times, xy, np.clip(conf, 0.0, 1.0), {"source": str(path)})
    track.validate()
    return track


def write_csv(track: KeypointTrack, path: str | Path, with_confidence: bool = True) -> None:
    """Write ``track`` in the CSV format :func:`read_csv` reads."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(column_names(with_confidence))
        for i in range(track.n_frames):
            row: list[str] = [f"{track.times[i]:.6f}"]
            for s in range(2):
                for j in range(len(JOINTS)):
                    x, y = track.xy[i, s, j]
                    row += ["" if np.isnan(x) else f"{x:.3f}", "" if np.isnan(y) else f"{y:.3f}"]
                    if with_confidence:
                        row.append(f"{track.conf[i, s, j]:.3f}")
            w.writerow(row)


# -- pose cache ------------------------------------------------------------------------------
def cache_key(video: str | Path, model_version: str, extra: Iterable[object] = ()) -> str:
    """A key that changes when the video file (size, mtime), the model or the settings change."""
    st = Path(video).stat()
    text = "|".join(
        [Path(video).name, str(st.st_size), str(int(st.st_mtime_ns)), model_version]
        + [str(e) for e in extra]
    )
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def save_npz(track: KeypointTrack, path: str | Path, key: str) -> None:
    """Store a track (pose cache). Written to a temporary name first so a crash leaves no half file."""
    path = Path(path)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp, times=track.times, xy=track.xy, conf=track.conf, key=np.array(key),
        meta=np.array(repr(track.meta)), meta_json=np.array(_json_meta(track.meta)),
    )  # fmt: skip
    tmp.replace(path)


def _json_meta(meta: dict[str, object]) -> str:
    """The plain (str, number, bool) entries of ``meta`` as JSON, so a cached track keeps its
    frame rate, size, stride and dense-pass count (read back without evaluating anything)."""
    plain = {
        k: v
        for k, v in meta.items()
        if isinstance(v, (str, int, bool)) or v is None
        or (isinstance(v, float) and np.isfinite(v))
    }  # fmt: skip
    return json.dumps(plain, allow_nan=False)


def load_npz(path: str | Path, key: str) -> KeypointTrack | None:
    """Return the cached track if ``path`` exists and was made with ``key``, else ``None``."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key:
                return None
            meta: dict[str, object] = {}
            if "meta_json" in z.files:
                loaded = json.loads(str(z["meta_json"]))
                meta.update(loaded if isinstance(loaded, dict) else {})
            meta["cache"] = str(path)
            return KeypointTrack(z["times"], z["xy"], z["conf"], meta)
    except (OSError, KeyError, ValueError):
        return None  # unreadable cache: recompute rather than fail
