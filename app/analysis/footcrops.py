"""Grey crops around the feet at the pixel step's working scale, made once per frame.

The pixel step (:mod:`app.analysis.footflow`) reads the frames around every proposal. It used to
decode the whole clip a second time after the pose pass; now the pose pass keeps what it needs
while it decodes (``run_pose(..., crops=FootCrops())``), and a second decoding runs only for the
frames not kept (the first ~1.5 s, before the working scale is known; frames past the memory
budget; every frame when the pose result came from the cache).

A frame's crop is the same whichever way it is made, so the events do not depend on the path:

- The working scale ``s`` (the leg ``LEG_PX`` long) is fixed from the leg lengths of the first
  ``WARM_S`` seconds of frames the base pass ran the model on, as a fraction p/q (q <= 8).
- The crop of frame ``i`` is a piece of the whole frame resized by ``s`` (area averaging): its
  box is aligned to q full-resolution pixels, so every crop lies on one grid and the same place
  of two frames is cut at the same working pixels (no half-pixel shift between them).
- The box is the hull of both feet's heel and toe over the base pass's frames around ``i``
  (those a step to or from ``i`` can use), plus the pixel step's margin and ``SLACK``.

Only keypoints of frames the base pass ran the model on are read: the dense pass and the pose
cache leave them as they are, so a cached track gives the very same boxes and scale.
Measured (``benchmarks/contacts.py``, generated 1080p 60 fps clip, 12 s): the kept crops take
~0.1 MB a frame (the leg is 250 px at the working scale whatever the resolution), and the
pixel step's second decoding of the clip (~1.9 CPU-s there) is gone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from app.analysis.keypoints import JOINTS, KeypointTrack

HIP, ANKLE, HEEL, TOE = (JOINTS.index(j) for j in ("hip", "ankle", "heel", "toe"))

#: Seconds of model frames whose leg lengths fix the working scale.
WARM_S = 1.5
#: Extra margin (leg lengths at the working scale) for keypoints of skipped frames, which the
#: dense pass may place a little outside the hull of the frames around them.
SLACK = 0.1
#: Largest denominator of the working scale (boxes are aligned to this many pixels).
MAX_DENOMINATOR = 8
#: Memory the kept crops may take; the frames beyond it are decoded again by the pixel step.
BUDGET_BYTES = 320 * 1024 * 1024


@dataclass(frozen=True)
class Crop:
    """A piece of a frame resized by the working scale; ``x0, y0`` in working pixels."""

    x0: int
    y0: int
    image: np.ndarray

    @property
    def x1(self) -> int:
        return self.x0 + self.image.shape[1]

    @property
    def y1(self) -> int:
        return self.y0 + self.image.shape[0]


class CropPlan:
    """Working scale and per-frame boxes, from the base pass's keypoints fed in frame order."""

    def __init__(self, fps: float, stride: int, width: int, height: int) -> None:
        from app.analysis.footflow import LEG_PX, PAIR_MARGIN, _step

        self.stride = max(1, int(stride))
        self.back = max(self.stride, _step(fps))  # a step from i - back reads frame i
        self.fwd = self.stride - 1  # a skipped frame lies between base frames
        self.width, self.height = int(width), int(height)
        self.scale: Fraction | None = None
        self._fixed = False
        self._legs: list[float] = []
        self._warm = 2 * max(10, int(round(WARM_S * fps / self.stride)))
        self._pts: dict[int, np.ndarray] = {}
        self._margin_w = (PAIR_MARGIN + SLACK) * LEG_PX
        self._leg_px = LEG_PX

    @classmethod
    def from_track(cls, track: KeypointTrack) -> CropPlan:
        """The plan the pose pass made for ``track`` (or would have made)."""
        fps = float(track.meta.get("fps") or track.fps)  # type: ignore[arg-type]
        stride = int(track.meta.get("stride") or 1)  # type: ignore[call-overload]
        width = int(track.meta.get("width") or 0)  # type: ignore[call-overload]
        height = int(track.meta.get("height") or 0)  # type: ignore[call-overload]
        if not (width and height):
            with np.errstate(all="ignore"):
                width = int(np.nanmax(track.xy[..., 0], initial=0)) + 1
                height = int(np.nanmax(track.xy[..., 1], initial=0)) + 1
        plan = cls(fps, stride, width, height)
        for i in range(0, track.n_frames, plan.stride):
            plan.add(i, track.xy[i])
        plan.finish()
        return plan

    def add(self, i: int, xy: np.ndarray | None) -> None:
        """Keypoints (2, 5, 2) of base frame ``i`` (None or NaN: nobody found there)."""
        if xy is None:
            return
        pts = xy[:, [HEEL, TOE]].reshape(-1, 2)
        pts = pts[np.isfinite(pts).all(axis=1)]
        if len(pts):
            self._pts[i] = pts
        if not self._fixed:
            legs = np.linalg.norm(xy[:, HIP] - xy[:, ANKLE], axis=-1)
            self._legs.extend(float(v) for v in legs[np.isfinite(legs)])
            if len(self._legs) >= self._warm:
                self._fix()

    def finish(self) -> None:
        if not self._fixed:
            self._fix()

    def _fix(self) -> None:
        self._fixed = True
        leg = float(np.percentile(self._legs, 90)) if self._legs else float("nan")
        if np.isfinite(leg) and leg > 0:
            s = float(np.clip(self._leg_px / leg, 0.25, 2.0))
            self.scale = Fraction(s).limit_denominator(MAX_DENOMINATOR)

    def box(self, i: int) -> tuple[int, int, int, int] | None:
        """Full-resolution box of frame ``i``'s crop (aligned to the scale's denominator)."""
        if self.scale is None:
            return None
        near = [
            p for r in range(i - self.back, i + self.fwd + 1) if (p := self._pts.get(r)) is not None
        ]
        if not near:
            return None
        pts = np.concatenate(near)
        q = self.scale.denominator
        m = self._margin_w / float(self.scale)
        lo = np.floor((pts.min(axis=0) - m) / q).astype(int) * q
        hi = np.ceil((pts.max(axis=0) + m) / q).astype(int) * q
        x0, y0 = max(0, int(lo[0])), max(0, int(lo[1]))
        x1 = min(self.width // q * q, int(hi[0]))
        y1 = min(self.height // q * q, int(hi[1]))
        if x1 - x0 < 2 * q or y1 - y0 < 2 * q:
            return None
        return x0, y0, x1, y1

    def crop(self, gray: np.ndarray, box: tuple[int, int, int, int]) -> Crop:
        """The crop of ``box`` from a full grey frame."""
        import cv2

        s = self.scale
        assert s is not None
        x0, y0, x1, y1 = box
        size = ((x1 - x0) * s.numerator // s.denominator, (y1 - y0) * s.numerator // s.denominator)
        img = cv2.resize(
            np.ascontiguousarray(gray[y0:y1, x0:x1]), size, interpolation=cv2.INTER_AREA
        )
        p, q = s.numerator, s.denominator
        return Crop(x0 // q * p, y0 // q * p, img)


class FootCrops:
    """Crops kept while a decoding pass reads the frames (the pose pass), within a budget."""

    def __init__(self, budget_bytes: int = BUDGET_BYTES) -> None:
        self.budget = budget_bytes
        self.plan: CropPlan | None = None
        self.kept: dict[int, tuple[tuple[int, int, int, int], Crop]] = {}
        self.nbytes = 0
        self._pending: deque[tuple[int, np.ndarray]] = deque()

    def start(self, fps: float, stride: int, width: int, height: int) -> None:
        self.plan = CropPlan(fps, stride, width, height)
        self.kept.clear()
        self._pending.clear()
        self.nbytes = 0

    def push(self, i: int, gray: np.ndarray, xy: np.ndarray | None) -> None:
        """Frame ``i`` (full grey image, as displayed) and, on a base frame, its keypoints."""
        plan = self.plan
        assert plan is not None
        if i % plan.stride == 0:
            plan.add(i, xy)
        self._pending.append((i, gray))
        while self._pending and self._pending[0][0] + plan.fwd <= i:
            self._keep(*self._pending.popleft())

    def finish(self) -> None:
        if self.plan is not None:
            self.plan.finish()
            while self._pending:
                self._keep(*self._pending.popleft())

    def _keep(self, i: int, gray: np.ndarray) -> None:
        plan = self.plan
        if plan is None or plan.scale is None or self.nbytes > self.budget:
            return  # before the scale is known (or past the budget): decoded again if needed
        box = plan.box(i)
        if box is None:
            return
        c = plan.crop(gray, box)
        self.kept[i] = (box, c)
        self.nbytes += c.image.nbytes


#: ``crops(frames) -> {frame: Crop}`` (frames with no crop left out), plus the scale.
@dataclass
class CropSource:
    scale: float
    read: Callable[[list[int]], dict[int, Crop]]
    decoded: list[int]  # frames decoded (not kept) so far, for the stats


def source(
    track: KeypointTrack,
    video: str | Path | None = None,
    kept: FootCrops | None = None,
    frames: np.ndarray | None = None,
    cancelled: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
) -> CropSource | None:
    """Crops of ``track``'s frames: those ``kept`` by the pose pass (when made with the same
    plan), the others decoded from ``video`` (one pass up to the last one needed) or cut from
    ``frames`` (an (N, H, W) grey array: tests). None when the track gives no scale."""
    plan = CropPlan.from_track(track)
    if plan.scale is None:
        return None
    held = kept.kept if kept is not None and kept.plan is not None else {}
    if kept is not None and kept.plan is not None and kept.plan.scale != plan.scale:
        held = {}  # not this track's plan (cannot happen for the pose pass's own track)
    decoded: list[int] = []

    def read(wanted: list[int]) -> dict[int, Crop]:
        out: dict[int, Crop] = {}
        boxes: dict[int, tuple[int, int, int, int]] = {}
        for i in wanted:
            b = plan.box(i)
            if b is None:
                continue
            h = held.get(i)
            if h is not None and h[0] == b:
                out[i] = h[1]
            else:
                boxes[i] = b
        if boxes and frames is not None:
            for i, b in boxes.items():
                out[i] = plan.crop(frames[i], b)
        elif boxes and video is not None:
            for i, gray in _decode(Path(video), set(boxes), cancelled, progress):
                out[i] = plan.crop(gray, boxes[i])
        decoded.extend(boxes)
        return out

    return CropSource(float(plan.scale), read, decoded)


def _decode(
    video: Path,
    wanted: set[int],
    cancelled: Callable[[], bool] | None,
    progress: Callable[[float], None] | None,
):  # type: ignore[no-untyped-def]
    """(frame, full grey image as displayed) for the ``wanted`` frames, decoding once."""
    from app.analysis.errors import AnalysisError
    from app.analysis.pose import _display_rotation, _open

    k_rot = (_display_rotation(video) // 90) % 4
    last = max(wanted)
    container = _open(video)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for i, frame in enumerate(container.decode(stream)):
            if i > last:
                break
            if i % 30 == 0:
                if cancelled is not None and cancelled():
                    raise AnalysisError("Analysis cancelled.")
                if progress is not None:
                    progress(i / (last + 1))
            if i in wanted:
                img = luma(frame)
                yield i, (np.rot90(img, k=k_rot) if k_rot else img)
    finally:
        container.close()


def luma(frame) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The grey image of a decoded frame: its Y plane when it has one (no conversion)."""
    if frame.format.name in ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "nv12"):
        plane = frame.planes[0]
        buf = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        return buf[: frame.height, : frame.width]
    return frame.to_ndarray(format="gray")
