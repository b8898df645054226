"""Run the MediaPipe BlazePose "full" model over a video and return a :class:`KeypointTrack`.

MediaPipe 0.10.21's legacy ``solutions.pose`` ships its model inside the wheel, so nothing is
downloaded at run time (see docs/pose-model.md). Frames are decoded with PyAV and shrunk before
inference: the landmark network works on a 256x256 crop anyway, so full-HD input only costs
colour conversion time.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.analysis.errors import AnalysisError
from app.analysis.keypoints import (
    JOINTS,
    KeypointTrack,
    cache_key,
    jump_frames,
    load_npz,
    save_npz,
)

#: Bump when the mapping, the model settings or the resizing change, so caches are redone.
MODEL_VERSION = "mediapipe-0.10.21-pose-full-c1-v1"

#: BlazePose landmark indices (left, right) for each of our joints. "toe" = foot index.
LANDMARKS: dict[str, tuple[int, int]] = {
    "hip": (23, 24),
    "knee": (25, 26),
    "ankle": (27, 28),
    "heel": (29, 30),
    "toe": (31, 32),
}

#: Longest image side fed to the model. 640 px keeps a runner's leg at 150+ px in a full-body
#: framing, far more than the 256 px landmark crop needs.
DEFAULT_MAX_SIDE = 640


@dataclass
class PoseStats:
    """Timing of one pose run (for the benchmark and the log)."""

    frames: int
    seconds: float
    from_cache: bool

    @property
    def ms_per_frame(self) -> float:
        return 1000.0 * self.seconds / max(self.frames, 1)


def _open(video: Path):  # -> av.container.InputContainer
    import av

    try:
        container = av.open(str(video))
    except (av.error.FFmpegError, OSError) as exc:
        raise AnalysisError(
            f"Could not open the video {video.name}: the file is damaged or not a video."
        ) from exc
    if not container.streams.video:
        container.close()
        raise AnalysisError(f"{video.name} holds no video stream.")
    return container


def _display_rotation(video: Path) -> int:
    """Rotation metadata (degrees CCW) as the video engine reads it.

    Probing first also turns a damaged or unsupported file into the video engine's plain
    message for the clinician instead of a decoder's technical one.
    """
    from app.video import VideoError, probe

    try:
        return int(probe(video).rotation)
    except VideoError as exc:
        raise AnalysisError(exc.message) from exc


def run_pose(
    video: str | Path,
    *,
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    cache_dir: str | Path | None = None,
    max_side: int = DEFAULT_MAX_SIDE,
    max_frames: int | None = None,
    stride: int | None = None,
    stats: list[PoseStats] | None = None,
) -> KeypointTrack:
    """Pose-estimate every frame of ``video`` on the CPU.

    ``progress(fraction)`` is called now and then with a value in [0, 1]; when ``cancel()``
    returns True the run stops and :class:`AnalysisError` ("cancelled") is raised. With
    ``cache_dir`` the result is stored as ``<video stem>.<key>.pose.npz`` keyed by the video's
    size and modification time and by :data:`MODEL_VERSION`, and re-used next time. Times in the
    returned track are the stream's presentation times (playback time; the caller rescales them
    for slow-motion files). ``stride`` runs the model on every n-th frame only and interpolates
    the rest (None = automatic:
    1 up to 40 fps, else 2, which keeps a 60 fps full-HD clip faster than real time on a 2-core
    PC; contacts are still placed at full frame rate on the interpolated track). ``track.meta`` holds ``width``, ``height``, ``fps``,
    ``detected_fraction`` and ``jumps`` (frames where the detected person jumped position:
    usually a second person).
    """
    video = Path(video)
    if not video.is_file():
        raise AnalysisError(f"Video not found: {video}")
    key = cache_key(video, MODEL_VERSION, (max_side, max_frames, stride))
    cache_path = None
    if cache_dir is not None:
        cache_path = Path(cache_dir) / f"{video.stem}.{key}.pose.npz"
        cached = load_npz(cache_path, key)
        if cached is not None:
            cached.meta.update(_meta_of(cached))
            if stats is not None:
                stats.append(PoseStats(cached.n_frames, 0.0, True))
            if progress:
                progress(1.0)
            return cached

    from mediapipe.python.solutions import pose as mp_pose

    rotation = _display_rotation(video)
    k_rot = (rotation // 90) % 4
    container = _open(video)
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"  # let FFmpeg decode on both cores while the model runs
    width, height = stream.codec_context.width, stream.codec_context.height
    if k_rot % 2:  # phone portrait video: keypoints are in the picture as displayed
        width, height = height, width
    rate = float(stream.average_rate or stream.guessed_rate or 30)
    total = stream.frames or int(round(float(container.duration or 0) / 1e6 * rate)) or 0
    if max_frames:
        total = min(total, max_frames) if total else max_frames
    if stride is None:
        # Measured (benchmarks/contacts.py): model ~13 ms + decode ~4 ms a frame at 1080p, so a
        # 60 fps clip needs every 2nd frame to stay faster than real time.
        stride = 1 if rate <= 40 else 2
    stride = max(1, int(stride))
    scale = min(1.0, max_side / max(width, height))
    out_w, out_h = (
        max(2, int(round(width * scale / 2)) * 2),
        max(2, int(round(height * scale / 2)) * 2),
    )

    times: list[float] = []
    rows: list[np.ndarray] = []
    confs: list[np.ndarray] = []
    t0 = time.perf_counter()
    try:
        with (
            _quiet_native_stderr(),
            mp_pose.Pose(
                static_image_mode=False,
                model_complexity=1,
                smooth_landmarks=True,
                enable_segmentation=False,
                min_detection_confidence=0.5,
                min_tracking_confidence=0.5,
            ) as model,
        ):
            for i, frame in enumerate(container.decode(stream)):
                if max_frames and i >= max_frames:
                    break
                if cancel is not None and cancel():
                    raise AnalysisError("Analysis cancelled.")
                t = float(frame.time) if frame.time is not None else i / rate
                times.append(t)
                xy = np.full((2, len(JOINTS), 2), np.nan)
                cf = np.zeros((2, len(JOINTS)))
                if i % stride:
                    rows.append(xy)  # filled by interpolation below
                    confs.append(cf)
                    continue
                # Area averaging: half the cost of the default bicubic at 1080p (2.0 vs 3.5 ms).
                if k_rot % 2:
                    img = frame.to_ndarray(
                        width=out_h, height=out_w, format="rgb24", interpolation="AREA"
                    )
                else:
                    img = frame.to_ndarray(
                        width=out_w, height=out_h, format="rgb24", interpolation="AREA"
                    )
                if k_rot:
                    # Same turn as the video engine (app.video.decoder.frame_to_rgb), so the
                    # skeleton and landing measures line up with the frames the clinician sees.
                    img = np.ascontiguousarray(np.rot90(img, k=k_rot))
                res = model.process(img)
                if res.pose_landmarks is not None:
                    lm = res.pose_landmarks.landmark
                    for j, joint in enumerate(JOINTS):
                        for s in range(2):
                            p = lm[LANDMARKS[joint][s]]
                            # Back to full-resolution pixels so calibrations done on the video apply.
                            xy[s, j] = (p.x * width, p.y * height)
                            cf[s, j] = float(np.clip(p.visibility, 0.0, 1.0))
                rows.append(xy)
                confs.append(cf)
                if progress and (i % 10 == 0) and total:
                    progress(min(1.0, (i + 1) / total))
    finally:
        container.close()
    seconds = time.perf_counter() - t0
    if not times:
        raise AnalysisError(f"No frames could be decoded from {video.name}.")
    t_arr = np.asarray(times) - times[0]
    xy_all, conf_all = np.stack(rows), np.stack(confs)
    if stride > 1:
        xy_all, conf_all = _interpolate_skipped(xy_all, conf_all, stride)
    track = KeypointTrack(t_arr, xy_all, conf_all)
    track.meta.update(
        {"video": str(video), "width": width, "height": height, "fps": rate,
         "model": MODEL_VERSION, "ms_per_frame": 1000.0 * seconds / len(times),
         "stride": stride}
    )  # fmt: skip
    track.meta.update(_meta_of(track))
    if cache_path is not None:
        try:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            save_npz(track, cache_path, key)
        except OSError:
            pass  # a read-only folder only costs speed next time
    if stats is not None:
        stats.append(PoseStats(len(times), seconds, False))
    if progress:
        progress(1.0)
    return track


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence MediaPipe's C++ INFO/WARNING lines (they bypass Python logging and ignore
    GLOG_minloglevel) so the command line shows only our own messages. Python exceptions are
    unaffected: they are printed after the descriptor is restored."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no real stderr (GUI, pytest capture)
        yield
        return
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def _interpolate_skipped(
    xy: np.ndarray, conf: np.ndarray, stride: int
) -> tuple[np.ndarray, np.ndarray]:
    """Linear interpolation of the frames the model skipped (never across longer gaps)."""
    n = len(xy)
    idx = np.arange(n)
    ran = idx % stride == 0
    flat, cflat = xy.reshape(n, -1).copy(), conf.reshape(n, -1).copy()
    for k in range(flat.shape[1]):
        ok = ran & np.isfinite(flat[:, k])
        if ok.sum() < 2:
            continue
        fill = ~ran & (idx > idx[ok][0]) & (idx < idx[ok][-1])
        # Only between two neighbouring model runs that both found the point.
        prev = np.maximum.accumulate(np.where(ok, idx, -1))
        nxt = np.minimum.accumulate(np.where(ok, idx, n)[::-1])[::-1]
        fill &= (nxt - prev) <= stride
        flat[fill, k] = np.interp(idx[fill], idx[ok], flat[ok, k])
        j = k // 2
        if k % 2 == 0:
            cflat[fill, j] = np.interp(idx[fill], idx[ok], cflat[ok, j])
    return flat.reshape(xy.shape), cflat.reshape(conf.shape)


def _meta_of(track: KeypointTrack) -> dict[str, object]:
    """Detection rate and position jumps (a second person taking over the detector)."""
    detected = np.isfinite(track.xy[:, :, 0, 0]).any(axis=1)
    return {
        "detected_fraction": float(detected.mean()) if len(detected) else 0.0,
        "jumps": len(jump_frames(track)),
    }


def load_cached_pose(video: str | Path, cache_dir: str | Path) -> KeypointTrack | None:
    """The cached result of a default :func:`run_pose` on ``video``, or None (never runs the model)."""
    video = Path(video)
    if not video.is_file():
        return None
    key = cache_key(video, MODEL_VERSION, (DEFAULT_MAX_SIDE, None, None))
    track = load_npz(Path(cache_dir) / f"{video.stem}.{key}.pose.npz", key)
    if track is not None:
        track.meta.update(_meta_of(track))
    return track
