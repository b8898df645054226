"""A video file to keep with the visit or give the patient: one recording or two side by side.

* **H.264 in MP4** (``yuv420p``, High profile, ``+faststart``): what the operating system's own
  player and phones play. Encoded with libx264 from the PyAV wheel the video engine already
  uses (no new dependency: ``av`` is in pyproject.toml for decoding; its wheel bundles FFmpeg
  with libx264). OpenCV's pip wheel cannot write H.264 ('avc1' is missing).
* **Frame-exact.** Output frame ``k`` shows instant ``t_k`` (real seconds, A's clock, from
  :func:`app.video.sync.instants`); each side shows its frame nearest that instant exactly as
  the dual player does (:class:`app.video.sync.DualSync`). Frames are decoded front to back
  (:class:`app.video.decoder.SequentialReader`: indices by timestamp, exact by construction).
* **Real time or slowed** (``speed`` 1, ¼, ⅛): the output runs at the leader's real rate ×
  speed, kept within 15-60 frames/s (a 240 fps recording at ⅛ shows every frame once, at 30).
* **Overlays burnt in** by the caller's ``decorate(frame, rgb) -> rgb`` for each side (the UI
  paints the skeleton and drawings as on screen); a caption strip (patient initials, date,
  cadence) under the pictures and a short title card first.
* **Safe writing** through :func:`app.outputs.writing`: a temporary file, checked (decodable,
  H.264, every frame there), then renamed; a full disk or a cancel leaves no file at all.
"""

from __future__ import annotations

import errno
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from app.outputs import OutputError, OutputRules, writing
from app.video.compose import fit
from app.video.errors import Cancelled
from app.video.sync import A, DualSync, instants

MAX_W, MAX_H = 1920, 1080
CAPTION_H = 64
TITLE_S = 2.0
MIN_FPS, MAX_FPS = 15, 60
CRF = "20"
#: x264 preset: "superfast" wrote 1080p side-by-side about twice as fast as "veryfast".
PRESET = "superfast"
SPEEDS = {1.0: "real time", 0.25: "1/4 speed", 0.125: "1/8 speed"}

Decorate = Callable[[int, np.ndarray], np.ndarray]


@dataclass
class ExportSide:
    """One recording in the export."""

    path: Path
    caption: str = ""  # "JS · 10 Oct 2026 · 172 steps/min"
    decorate: Decorate | None = None


@dataclass
class ExportPlan:
    sides: list[ExportSide]
    sync: DualSync  # for one recording: a DualSync of that recording with itself
    speed: float = 1.0
    start_s: float | None = None  # A's clock; None: from the start both have
    end_s: float | None = None
    title: list[str] = field(default_factory=list)
    title_s: float = TITLE_S

    def out_fps(self) -> int:
        leader = self.sync.tbs[self.sync.leader].real_fps or 30.0
        return int(min(MAX_FPS, max(MIN_FPS, round(leader * self.speed))))

    def times(self) -> np.ndarray:
        start = self.sync.start_time() if self.start_s is None else self.start_s
        end = self.sync.end_time() if self.end_s is None else self.end_s
        return instants(self.sync, self.speed, self.out_fps(), start, max(start, end))

    def frames(self) -> list[tuple[int, ...]]:
        """For each output frame after the title card, the source frame of each side."""
        s = self.sync
        out = []
        for t in self.times():
            lead = s.frame_for(s.leader, float(t))
            t_lead = float(s.tbs[s.leader].time_of(lead))
            t_a = t_lead if s.leader == A else t_lead - s.offset_s
            pair = tuple(s.frame_for(i, t_a) if i != s.leader else lead for i in (0, 1))
            out.append(pair[: len(self.sides)])
        return out

    def title_frames(self) -> int:
        return int(round(self.title_s * self.out_fps())) if self.title else 0


@dataclass
class ExportResult:
    path: Path
    frames: int
    title_frames: int
    fps: int
    seconds_to_write: float
    size: tuple[int, int]
    source_frames: list[tuple[int, ...]]

    @property
    def real_time_factor(self) -> float:
        """Seconds of video written per second of work (> 1: faster than it plays)."""
        return (self.frames / self.fps) / max(1e-9, self.seconds_to_write)


def ascii_text(text: str) -> str:
    """The caption font has ASCII only: accents are dropped ("José" -> "Jose")."""
    text = text.replace("·", "-").replace("¼", "1/4").replace("⅛", "1/8")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def layout(plan: ExportPlan, sizes: Sequence[tuple[int, int]]) -> tuple[int, int, int, int]:
    """(width, height, pane width, pane height) of the output: even numbers, at most 1080p."""
    n = len(sizes)
    pane_w = MAX_W // n
    pane_h = min(MAX_H - CAPTION_H, max(round(h * pane_w / w) for w, h in sizes))
    if n == 1:
        w, h = sizes[0]
        scale = min(MAX_W / w, (MAX_H - CAPTION_H) / h, 1.0)
        pane_w, pane_h = round(w * scale), round(h * scale)
    pane_w -= pane_w % 2
    pane_h -= pane_h % 2
    return pane_w * n, pane_h + CAPTION_H, pane_w, pane_h


def _put(img: np.ndarray, text: str, x: int, y: int, size: float, colour=(255, 255, 255)) -> None:  # type: ignore[no-untyped-def]
    thick = max(1, int(round(size * 2)))
    cv2.putText(img, ascii_text(text), (x, y), cv2.FONT_HERSHEY_SIMPLEX, size, colour, thick,
                cv2.LINE_AA)  # fmt: skip


def title_card(lines: Sequence[str], width: int, height: int) -> np.ndarray:
    img = np.zeros((height, width, 3), dtype=np.uint8)
    img[:] = (22, 38, 52)
    size = max(0.6, height / 600)
    y = int(height * 0.35)
    for i, line in enumerate(lines):
        s = size * (1.5 if i == 0 else 1.0)
        (tw, th), _ = cv2.getTextSize(ascii_text(line), cv2.FONT_HERSHEY_SIMPLEX, s, 2)
        _put(img, line, max(8, (width - tw) // 2), y, s)
        y += int(th * 2.2)
    return img


def _frames_of(path: Path, wanted: Sequence[int]) -> Iterator[tuple[int, np.ndarray]]:
    """The frames ``wanted`` (increasing indices) of ``path``, decoded front to back.

    Each decoded picture is placed by its timestamp (as :class:`app.video.decoder.
    SequentialReader` does: exact even if the decoder drops one); only the wanted ones are
    converted to RGB (the conversion costs as much as decoding at 1080p).
    """
    from app.video.decoder import decode_frames, frame_to_rgb
    from app.video.probe import open_container, scan_index, video_stream

    info, index = scan_index(path)
    by_pts = None if index.synthetic else {int(p): i for i, p in enumerate(index.pts)}
    container = open_container(path)
    try:
        stream = video_stream(container, path)
        stream.thread_type = "AUTO"
        errors: list[str] = []
        k, n, last = 0, 0, -1
        for frame in decode_frames(container, stream, errors):
            if k >= len(wanted):
                return
            idx = n if by_pts is None else by_pts.get(frame.pts if frame.pts is not None else -1, -1)
            if idx < 0:
                continue
            n += 1
            last = idx
            if idx == wanted[k]:
                yield idx, frame_to_rgb(frame, info.rotation)
                k += 1
            elif idx > wanted[k]:
                raise OutputError(f"Frame {wanted[k]} of {path.name} could not be decoded.")
        if k < len(wanted):
            raise OutputError(
                f"{path.name} ended at frame {last} before frame {wanted[k]}: the video could "
                "not be exported completely."
            )
    finally:
        container.close()


def _source_stream(path: Path, wanted: list[int]) -> Iterator[np.ndarray]:
    """One picture per entry of ``wanted`` (repeats allowed), in order."""
    unique = sorted(set(wanted))
    frames = _frames_of(path, unique)
    current, rgb = -1, None
    for n in wanted:
        while current < n:
            current, rgb = next(frames)
        yield rgb  # type: ignore[misc]


def check_mp4(frames: int) -> Callable[[Path], None]:
    """Check a written file: H.264 in MP4, and every frame decodes."""

    def check(path: Path) -> None:
        try:
            with av.open(str(path), format="mp4") as c:
                stream = c.streams.video[0]
                if stream.codec_context.name != "h264":
                    raise OutputError(f"the video is {stream.codec_context.name}, not H.264")
                count = sum(1 for _ in c.decode(stream))
        except av.FFmpegError as exc:
            raise OutputError(f"the written video cannot be read back ({exc})") from exc
        if count != frames:
            raise OutputError(f"{count} of {frames} frames were written")

    return check


def export_video(
    plan: ExportPlan,
    target: Path,
    rules: OutputRules,
    *,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ExportResult:
    """Write ``plan`` to ``target`` (MP4). Raises :class:`OutputError` (disk full, not allowed,
    failed check: no file is left) or :class:`Cancelled`."""
    started = time.perf_counter()
    pairs = plan.frames()
    if not pairs:
        raise OutputError("There is nothing to export: the two recordings do not overlap.")
    fps = plan.out_fps()
    from app.video.probe import probe

    sizes = []
    for side in plan.sides:
        info = probe(side.path)
        w, h = (info.height, info.width) if info.rotation in (90, 270, -90) else (info.width, info.height)
        sizes.append((w, h))
    width, height, pane_w, pane_h = layout(plan, sizes)
    n_title = plan.title_frames()
    total = n_title + len(pairs)
    streams = [_source_stream(s.path, [p[i] for p in pairs]) for i, s in enumerate(plan.sides)]
    with writing(target, rules, private=True, check=check_mp4(total)) as out:
        try:
            _encode(out.temp, plan, pairs, streams, fps, (width, height, pane_w, pane_h),
                    n_title, total, progress, cancelled)  # fmt: skip
        except av.FFmpegError as exc:
            code = getattr(exc, "errno", None)
            if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise OSError(code, "No space left on device") from exc
            raise OutputError(f"The video could not be encoded ({exc}).") from exc
    return ExportResult(target, total, n_title, fps, time.perf_counter() - started,
                        (width, height), pairs)  # fmt: skip


def _encode(
    temp: Path,
    plan: ExportPlan,
    pairs: list[tuple[int, ...]],
    streams: list[Iterator[np.ndarray]],
    fps: int,
    geometry: tuple[int, int, int, int],
    n_title: int,
    total: int,
    progress: Callable[[float], None] | None,
    cancelled: Callable[[], bool] | None,
) -> None:
    width, height, pane_w, pane_h = geometry
    with av.open(str(temp), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = 2 * fps
        stream.codec_context.options = {"preset": PRESET, "crf": CRF, "profile": "high"}

        def put(rgb: np.ndarray, k: int) -> None:
            if cancelled is not None and cancelled():
                raise Cancelled()
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = k
            for packet in stream.encode(frame.reformat(format="yuv420p")):
                out.mux(packet)
            if progress is not None and (k % 8 == 0 or k == total - 1):
                progress((k + 1) / total)

        if n_title:
            card = title_card(plan.title, width, height)
            for k in range(n_title):
                put(card, k)
        canvas = np.zeros((height, width, 3), dtype=np.uint8)
        speed = SPEEDS.get(plan.speed, f"{plan.speed:g}x speed")
        for k, pair in enumerate(pairs):
            canvas[:] = 0
            for i, side in enumerate(plan.sides):
                rgb = next(streams[i])
                if side.decorate is not None:
                    rgb = side.decorate(pair[i], rgb)
                pane, _s, _x, _y = fit(rgb, pane_w, pane_h)
                canvas[:pane_h, i * pane_w : (i + 1) * pane_w] = pane
                size = max(0.5, CAPTION_H / 70)
                _put(canvas, side.caption, i * pane_w + 12, pane_h + int(CAPTION_H * 0.62), size)
            (tw, _th), _ = cv2.getTextSize(speed, cv2.FONT_HERSHEY_SIMPLEX, 0.6, 1)
            _put(canvas, speed, width - tw - 12, height - 8, 0.6, (200, 200, 200))
            put(canvas, n_title + k)
        for packet in stream.encode(None):
            out.mux(packet)


def default_name(initials: str, date_text: str, two: bool, speed: float) -> str:
    kind = "side-by-side" if two else "video"
    pace = {1.0: "realtime", 0.25: "quarter", 0.125: "eighth"}.get(speed, f"x{speed:g}")
    safe = "".join(ch for ch in ascii_text(initials) if ch.isalnum()) or "patient"
    return f"{date_text}_{safe}_{kind}_{pace}.mp4"


def free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``name_2``, ``_3``... if taken (an earlier export is never replaced)."""
    p = Path(folder) / name
    stem, suffix = p.stem, p.suffix
    k = 2
    while p.exists():
        p = Path(folder) / f"{stem}_{k}{suffix}"
        k += 1
    return p

