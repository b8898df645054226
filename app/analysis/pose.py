"""Run the MediaPipe BlazePose "full" model over a video and return a :class:`KeypointTrack`.

MediaPipe 0.10.21's legacy ``solutions.pose`` ships its model inside the wheel, so nothing is
downloaded at run time (see docs/pose-model.md). Frames are decoded with PyAV and shrunk before
inference: the landmark network works on a 256x256 crop anyway, so full-HD input only costs
colour conversion time.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.analysis.errors import AnalysisError
from app.analysis.footcrops import FootCrops, luma
from app.analysis.keypoints import (
    JOINTS,
    KeypointTrack,
    cache_key,
    jump_frames,
    load_npz,
    save_npz,
)
from app.jobs import CancelCheck

#: Bump when the mapping, the model settings or the resizing change, so caches are redone.
MODEL_VERSION = "mediapipe-0.10.21-pose-full-c1-v3"

#: BlazePose landmark indices (left, right) for each of our joints. "toe" = foot index.
LANDMARKS: dict[str, tuple[int, int]] = {
    "hip": (23, 24),
    "knee": (25, 26),
    "ankle": (27, 28),
    "heel": (29, 30),
    "toe": (31, 32),
}

#: Memory for model inputs the dense pass keeps from one round for the next (a 1080p 60 fps
#: clip of 12 s kept 213 frames of 0.7 MB; past this the next round decodes the clip again).
HELD_BYTES = 256 * 1024 * 1024

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
    cancelled: CancelCheck | None = None,
    cache_dir: str | Path | None = None,
    max_side: int = DEFAULT_MAX_SIDE,
    max_frames: int | None = None,
    stride: int | None = None,
    dense: bool = True,
    stats: list[PoseStats] | None = None,
    crops: FootCrops | None = None,
) -> KeypointTrack:
    """Pose-estimate every frame of ``video`` on the CPU.

    ``progress(fraction)`` is called now and then with a value in [0, 1]; when ``cancelled()``
    returns True the run stops and :class:`AnalysisError` ("cancelled") is raised. With
    ``cache_dir`` the result is stored as ``<video stem>.<key>.pose.npz`` keyed by the video's
    size and modification time and by :data:`MODEL_VERSION`, and re-used next time. Times in the
    returned track are the stream's presentation times (playback time; the caller rescales them
    for slow-motion files). ``stride`` runs the model on every n-th frame only and interpolates
    the rest (None = automatic: 1 up to 40 fps, else 2, which keeps a 60 fps full-HD clip faster
    than real time on a 2-core PC); with ``dense`` (and a stride above 1) the model is then run
    on the skipped frames around every proposed contact and toe-off (:mod:`app.analysis.dense`).
    ``track.meta`` holds ``width``, ``height``, ``fps``, ``detected_fraction``, ``jumps``
    (frames where the detected person jumped position: usually a second person), ``stride`` and
    ``dense_frames`` (frames run by the dense pass). ``crops`` keeps, while the base pass
    decodes, the grey crops around the feet that the pixel step reads
    (:mod:`app.analysis.footcrops`); a result from the cache keeps none.
    """
    video = Path(video)
    if not video.is_file():
        raise AnalysisError(f"Video not found: {video}")
    key = cache_key(video, MODEL_VERSION, (max_side, max_frames, stride, dense))
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

    rotation = _display_rotation(video)
    info = _stream_info(video, rotation)
    total = info["frames"]
    if max_frames:
        total = min(total, max_frames) if total else max_frames
    if stride is None:
        # Measured (benchmarks/contacts.py): model ~13 ms + decode ~4 ms a frame at 1080p, so a
        # 60 fps clip needs every 2nd frame to stay faster than real time.
        stride = 1 if info["rate"] <= 40 else 2
    stride = max(1, int(stride))
    # MediaPipe's landmark filter assumes a steady 30 fps stream; the dense pass fills single
    # frames out of order, which a temporal filter cannot do consistently, so a strided run is
    # unfiltered throughout (the contact detector smooths on its own).
    smooth = stride == 1
    share = 0.75 if (dense and stride > 1) else 1.0
    t0 = time.perf_counter()
    if crops is not None:
        crops.start(float(info["rate"]), stride, int(info["width"]), int(info["height"]))
    times, out = _model_pass(
        video, rotation, info, lambda i: i % stride == 0, smooth=smooth, max_side=max_side,
        last=(max_frames - 1) if max_frames else None, cancelled=cancelled,
        progress=(lambda f: progress(share * f)) if progress else None, total=total,
        crops=crops,
    )  # fmt: skip
    if crops is not None:
        crops.finish()
    if not times:
        raise AnalysisError(f"No frames could be decoded from {video.name}.")
    n = len(times)
    raw_xy = np.full((n, 2, len(JOINTS), 2), np.nan)
    raw_conf = np.zeros((n, 2, len(JOINTS)))
    ran = np.zeros(n, dtype=bool)
    for i, (xy, cf) in out.items():
        raw_xy[i], raw_conf[i] = xy, cf
    ran[np.arange(n) % stride == 0] = True
    xy_all, conf_all = _interpolate_skipped(raw_xy, raw_conf, stride)
    t_arr = np.asarray(times) - times[0]
    track = KeypointTrack(t_arr, xy_all, conf_all)
    width, height, rate = info["width"], info["height"], info["rate"]
    track.meta.update(
        {"video": str(video), "width": width, "height": height, "fps": rate,
         "model": MODEL_VERSION, "stride": stride, "dense_frames": 0}
    )  # fmt: skip
    if dense and stride > 1:
        from app.analysis.dense import DENSE_WINDOW, refine

        rounds = [0]
        held: dict[int, np.ndarray] = {}  # model inputs kept for the next round

        def run_frames(frames: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
            rounds[0] += 1
            if progress:
                progress(share + (1.0 - share) * (rounds[0] - 1) / 2)
            wanted = set(frames)
            if wanted <= held.keys():
                # Every frame this round asks for was kept by the last one: the model runs on
                # them in the same order as a decoding pass would (the same results), and the
                # clip is not decoded again.
                got = _run_images([(i, held[i]) for i in sorted(wanted)], rotation, info)
                held.clear()
                return got
            # The next round asks for frames near the events this round moves: keep the model
            # inputs of the frames not run yet within 3 * DENSE_WINDOW of one run now (on the
            # generated 1080p 60 fps clip, 2 * DENSE_WINDOW missed 2 of the 44 it asked for),
            # as many as HELD_BYTES allow; if one is missing the clip is decoded again.
            keep = {
                j
                for i in wanted
                for j in range(i - 3 * DENSE_WINDOW, i + 3 * DENSE_WINDOW + 1)
                if j % stride and j not in wanted and 0 <= j < n
            }
            held.clear()
            _, got = _model_pass(
                video, rotation, info, wanted.__contains__, smooth=False, max_side=max_side,
                last=max(wanted | keep), cancelled=cancelled, progress=None, total=total,
                keep=keep.__contains__, held=held,
            )  # fmt: skip
            return got

        track.meta.update(_meta_of(track))
        track, _ = refine(track, raw_xy, raw_conf, ran, run_frames, stride=stride)
    seconds = time.perf_counter() - t0
    track.meta["ms_per_frame"] = 1000.0 * seconds / n
    track.meta.update(_meta_of(track))
    if cache_path is not None:
        try:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            save_npz(track, cache_path, key)
        except OSError:
            pass  # a read-only folder only costs speed next time
    if stats is not None:
        stats.append(PoseStats(n, seconds, False))
    if progress:
        progress(1.0)
    return track


def _stream_info(video: Path, rotation: int) -> dict[str, float | int]:
    """Display size (after rotation), frame rate and frame count (0 when unknown)."""
    container = _open(video)
    try:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if ((rotation // 90) % 4) % 2:  # phone portrait video: keypoints as displayed
            width, height = height, width
        rate = float(stream.average_rate or stream.guessed_rate or 30)
        frames = stream.frames or int(round(float(container.duration or 0) / 1e6 * rate)) or 0
    finally:
        container.close()
    return {"width": width, "height": height, "rate": rate, "frames": frames}


def _model_pass(
    video: Path,
    rotation: int,
    info: dict[str, float | int],
    want: Callable[[int], bool],
    *,
    smooth: bool,
    max_side: int,
    last: int | None,
    cancelled: CancelCheck | None,
    progress: Callable[[float], None] | None,
    total: int,
    crops: FootCrops | None = None,
    keep: Callable[[int], bool] | None = None,
    held: dict[int, np.ndarray] | None = None,
) -> tuple[list[float], dict[int, tuple[np.ndarray, np.ndarray]]]:
    """Decode ``video`` up to frame ``last`` (None = the end) and run the model on the frames
    ``want(i)`` selects, in order. Returns every decoded frame's time and, for the frames run
    on which a person was found, keypoints in full-resolution pixels and their visibility.
    Every frame (grey, full size) and its keypoints also go to ``crops`` when given; the
    model inputs of the frames ``keep(i)`` selects (not run) go to ``held``."""
    k_rot = (rotation // 90) % 4
    width, height = int(info["width"]), int(info["height"])
    scale = min(1.0, max_side / max(width, height))
    out_w, out_h = (
        max(2, int(round(width * scale / 2)) * 2),
        max(2, int(round(height * scale / 2)) * 2),
    )
    rate = float(info["rate"])
    size = (out_h, out_w) if k_rot % 2 else (out_w, out_h)
    times: list[float] = []
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    decode = want if keep is None else (lambda i: want(i) or keep(i))
    with _quiet_native_stderr(), _pose_model(smooth) as model:
        for i, t, img, gray in _decoded(video, decode, last, size, rate, crops is not None):
            if cancelled is not None and cancelled():
                raise AnalysisError("Analysis cancelled.")
            times.append(t)
            if img is not None and keep is not None and held is not None and not want(i):
                if (len(held) + 1) * img.nbytes <= HELD_BYTES:
                    held[i] = img
                img = None
            found = _run_model(model, img, k_rot, width, height) if img is not None else None
            if found is not None:
                out[i] = found
            if crops is not None:
                assert gray is not None
                crops.push(i, np.rot90(gray, k=k_rot) if k_rot else gray,
                           found[0] if found is not None else None)  # fmt: skip
            if img is not None and progress and (i % 10 == 0) and total:
                progress(min(1.0, (i + 1) / total))
    return times, out


def _pose_model(smooth: bool):  # type: ignore[no-untyped-def]
    """The pose model as every pass runs it (a context manager)."""
    from mediapipe.python.solutions import pose as mp_pose

    return mp_pose.Pose(
        static_image_mode=False,
        model_complexity=1,
        smooth_landmarks=smooth,
        enable_segmentation=False,
        min_detection_confidence=0.5,
        min_tracking_confidence=0.5,
    )


def _run_images(
    images: list[tuple[int, np.ndarray]], rotation: int, info: dict[str, float | int]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The model (unfiltered, as the dense pass runs it) on decoded model inputs, in order."""
    k_rot = (rotation // 90) % 4
    width, height = int(info["width"]), int(info["height"])
    out = {}
    with _quiet_native_stderr(), _pose_model(False) as model:
        for i, img in images:
            found = _run_model(model, img, k_rot, width, height)
            if found is not None:
                out[i] = found
    return out


def _run_model(model, img: np.ndarray, k_rot: int, width: int, height: int):  # type: ignore[no-untyped-def]
    """(xy (2, 5, 2) full-resolution pixels, visibility (2, 5)) of the person in ``img``, or
    None."""
    if k_rot:
        # Same turn as the video engine (app.video.decoder.frame_to_rgb), so the skeleton and
        # landing measures line up with the frames the clinician sees.
        img = np.ascontiguousarray(np.rot90(img, k=k_rot))
    res = model.process(img)
    if res.pose_landmarks is None:
        return None
    xy = np.full((2, len(JOINTS), 2), np.nan)
    cf = np.zeros((2, len(JOINTS)))
    lm = res.pose_landmarks.landmark
    for j, joint in enumerate(JOINTS):
        for s in range(2):
            p = lm[LANDMARKS[joint][s]]
            xy[s, j] = (p.x * width, p.y * height)  # full-resolution pixels: calibrations apply
            cf[s, j] = float(np.clip(p.visibility, 0.0, 1.0))
    return xy, cf


_END = object()


def _decoded(
    video: Path,
    want: Callable[[int], bool],
    last: int | None,
    size: tuple[int, int],
    rate: float,
    with_gray: bool = False,
) -> Iterator[tuple[int, float, np.ndarray | None, np.ndarray | None]]:
    """(index, time, RGB image shrunk to ``size`` or None when not wanted, full-size grey image
    or None unless ``with_gray``) for every frame up to ``last``. Decoding runs in a thread a
    few frames ahead, so it overlaps the model (FFmpeg and the model both release the GIL): on
    a 2-core PC the decode then costs no wall time."""
    frames: queue.Queue[object] = queue.Queue(maxsize=6)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                frames.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            container = _open(video)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)
            return
        try:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # FFmpeg decodes on both cores
            for i, frame in enumerate(container.decode(stream)):
                if last is not None and i > last:
                    break
                t = float(frame.time) if frame.time is not None else i / rate
                # Area averaging: half the cost of the default bicubic at 1080p (2.0 vs 3.5 ms).
                img = (
                    frame.to_ndarray(
                        width=size[0], height=size[1], format="rgb24", interpolation="AREA"
                    )
                    if want(i)
                    else None
                )
                gray = luma(frame) if with_gray else None  # the Y plane: no conversion
                if not put((i, t, img, gray)):
                    return
            put(_END)
        except BaseException as exc:  # a damaged stream: the consumer raises it
            put(exc)
        finally:
            container.close()

    worker = threading.Thread(target=produce, name="pose-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = frames.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()  # the consumer stopped (done, cancelled or failed): let the worker end
        worker.join(timeout=5.0)


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
    from app.analysis.dense import interpolate_unrun

    return interpolate_unrun(xy, conf, np.arange(len(xy)) % stride == 0, stride)


def _meta_of(track: KeypointTrack) -> dict[str, object]:
    """Detection rate and position jumps (a second person taking over the detector)."""
    detected = np.isfinite(track.xy[:, :, 0, 0]).any(axis=1)
    return {
        "detected_fraction": float(detected.mean()) if len(detected) else 0.0,
        "jumps": len(jump_frames(track)),
    }


def default_cache_file(video: str | Path, cache_dir: str | Path) -> tuple[Path, str]:
    """Where a default :func:`run_pose` on ``video`` keeps its result, and the key it is saved
    with: the one definition that the marking panel, the History and the demo share."""
    video = Path(video)
    key = cache_key(video, MODEL_VERSION, (DEFAULT_MAX_SIDE, None, None, True))
    return Path(cache_dir) / f"{video.stem}.{key}.pose.npz", key


def load_cached_pose(
    video: str | Path,
    cache_dir: str | Path,
    *,
    stored: str | Path | None = None,
    videos_root: str | Path | None = None,
) -> KeypointTrack | None:
    """The cached result of a default :func:`run_pose` on ``video``, or None (never runs the model).

    The one way every view finds a cached pose result. First the cache key of the file itself
    (its name, size and modification time: a hit is this very file). Then, for a recording
    (``stored``: its path as stored, relative to ``videos_root``) whose file cannot be keyed
    (moved, not reachable here), a cache of the same file name whose metadata names this
    recording's file (two patients' videos may share a name, IMG_0001.mov); the newest wins.
    """
    video = Path(video)
    track = None
    if video.is_file():
        path, key = default_cache_file(video, cache_dir)
        track = load_npz(path, key)
    if track is None and stored is not None:
        track = _cached_by_name(Path(stored), Path(cache_dir), videos_root)
    if track is not None:
        track.meta.update(_meta_of(track))
    return track


def _cached_by_name(
    stored: Path, cache_dir: Path, videos_root: str | Path | None
) -> KeypointTrack | None:
    import ast

    try:
        names = os.listdir(cache_dir)
    except OSError:
        return None
    prefix = stored.stem + "."
    mine = []
    for name in names:
        middle = name[len(prefix) : -len(".pose.npz")]
        if not (name.startswith(prefix) and name.endswith(".pose.npz")) or "." in middle:
            continue
        try:
            with np.load(cache_dir / name, allow_pickle=False) as z:
                key, meta = str(z["key"]), str(z["meta"]) if "meta" in z else ""
            cached = str(ast.literal_eval(meta).get("video", "")) if meta else ""
        except (OSError, KeyError, ValueError, SyntaxError, AttributeError):
            continue
        if _same_video(cached, str(stored), videos_root):
            mine.append((os.stat(cache_dir / name).st_mtime, name, key))
    if not mine:
        return None
    _mtime, name, key = max(mine)
    return load_npz(cache_dir / name, key)


def _same_video(cached: str, stored: str, videos_root: str | Path | None) -> bool:
    """Does a cache's video path (absolute) name the recording's stored path?"""
    if not cached or not stored:
        return False
    p = Path(stored)
    if p.is_absolute() or videos_root is not None:
        full = p if p.is_absolute() else Path(videos_root) / p  # type: ignore[arg-type]
        return os.path.normcase(os.path.realpath(cached)) == os.path.normcase(
            os.path.realpath(full)
        )
    # Without the videos folder: the stored relative path must be the cached path's tail.
    tail = "/" + os.path.normcase(p.as_posix()).lstrip("/")
    return os.path.normcase(Path(cached).as_posix()).endswith(tail)
