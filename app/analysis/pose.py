"""Run the MediaPipe BlazePose "full" model over a video and return a :class:`KeypointTrack`.

MediaPipe 0.10.21's legacy ``solutions.pose`` ships its model inside the wheel, so nothing is
downloaded at run time (see docs/pose-model.md). Frames are decoded with PyAV and shrunk before
inference: the landmark network works on a 256x256 crop anyway, so full-HD input only costs
colour conversion time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.analysis.errors import AnalysisError
from app.analysis.keypoints import JOINTS, KeypointTrack, cache_key, load_npz, save_npz

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
        raise AnalysisError(f"Could not open the video {video.name}: {exc}") from exc
    if not container.streams.video:
        container.close()
        raise AnalysisError(f"{video.name} holds no video stream.")
    return container


def run_pose(
    video: str | Path,
    *,
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    cache_dir: str | Path | None = None,
    max_side: int = DEFAULT_MAX_SIDE,
    max_frames: int | None = None,
    stats: list[PoseStats] | None = None,
) -> KeypointTrack:
    """Pose-estimate every frame of ``video`` on the CPU.

    ``progress(fraction)`` is called now and then with a value in [0, 1]; when ``cancel()``
    returns True the run stops and :class:`AnalysisError` ("cancelled") is raised. With
    ``cache_dir`` the result is stored as ``<video stem>.<key>.pose.npz`` keyed by the video's
    size and modification time and by :data:`MODEL_VERSION`, and re-used next time. Times in the
    returned track are the stream's presentation times (playback time; the caller rescales them
    for slow-motion files). ``track.meta`` holds ``width``, ``height``, ``fps``,
    ``detected_fraction`` and ``jumps`` (frames where the detected person jumped position:
    usually a second person).
    """
    video = Path(video)
    if not video.is_file():
        raise AnalysisError(f"Video not found: {video}")
    key = cache_key(video, MODEL_VERSION, (max_side, max_frames))
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

    container = _open(video)
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"  # let FFmpeg decode on both cores while the model runs
    width, height = stream.codec_context.width, stream.codec_context.height
    rate = float(stream.average_rate or stream.guessed_rate or 30)
    total = stream.frames or int(round(float(container.duration or 0) / 1e6 * rate)) or 0
    if max_frames:
        total = min(total, max_frames) if total else max_frames
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
        with mp_pose.Pose(
            static_image_mode=False,
            model_complexity=1,
            smooth_landmarks=True,
            enable_segmentation=False,
            min_detection_confidence=0.5,
            min_tracking_confidence=0.5,
        ) as model:
            for i, frame in enumerate(container.decode(stream)):
                if max_frames and i >= max_frames:
                    break
                if cancel is not None and cancel():
                    raise AnalysisError("Analysis cancelled.")
                img = frame.to_ndarray(width=out_w, height=out_h, format="rgb24")
                t = float(frame.time) if frame.time is not None else i / rate
                times.append(t)
                xy = np.full((2, len(JOINTS), 2), np.nan)
                cf = np.zeros((2, len(JOINTS)))
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
    track = KeypointTrack(t_arr, np.stack(rows), np.stack(confs))
    track.meta.update(
        {"video": str(video), "width": width, "height": height, "fps": rate,
         "model": MODEL_VERSION, "ms_per_frame": 1000.0 * seconds / len(times)}
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


def _meta_of(track: KeypointTrack) -> dict[str, object]:
    """Detection rate and position jumps (a second person taking over the detector)."""
    detected = ~np.isnan(track.xy[:, :, 0, 0]).all(axis=1)
    hips = np.nanmean(track.xy[:, :, 0, :], axis=1) if detected.any() else None
    jumps = 0
    if hips is not None and detected.sum() > 2:
        legs = np.linalg.norm(track.xy[:, :, 0, :] - track.xy[:, :, 2, :], axis=-1)
        leg = float(np.nanmedian(legs)) if np.isfinite(legs).any() else np.nan
        step = np.linalg.norm(np.diff(hips, axis=0), axis=1)
        # The hips move a few percent of a leg length per frame; half a leg in one frame is
        # another person (or a wrong detection), not the runner.
        if np.isfinite(leg) and leg > 0:
            jumps = int(np.nansum(step > 0.5 * leg))
    return {"detected_fraction": float(detected.mean()) if len(detected) else 0.0, "jumps": jumps}
