"""The marking panel's drawings on the video: measurement lines and angles, their right-click
menu, calibration, and exporting the frame with its drawings as a still.

Functions over the panel (:class:`ui.annotation_panel.AnnotationPanel` keeps one-line slots that
call them); the drawings themselves live in the marking session (undoable, autosaved).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.annotation.session import ALL_FRAMES, Drawing

if TYPE_CHECKING:
    from ui.annotation_panel import AnnotationPanel


def created(p: AnnotationPanel, item: dict) -> None:
    frame = ALL_FRAMES if p.span_box.isChecked() else p.current
    drawing = Drawing.from_overlay(dict(item, frame=frame))
    p._after_edit(p.session.add_drawing(drawing))


def choices(p: AnnotationPanel, index: int) -> list[tuple[str, object]]:
    """What a right-click on drawing ``index`` (of this frame's) offers: (text, action)."""
    here = p.session.drawings_on(p.current)
    if not 0 <= index < len(here):
        return []
    d = here[index]
    out: list[tuple[str, object]] = [("Delete", lambda: p.session.delete_drawing(d))]
    if d.on_all_frames or d.on_range:
        out.append(("Show on this frame only", lambda: p.session.set_drawing_span(d, p.current)))
    if not d.on_all_frames:
        out.append(("Show on all frames", lambda: p.session.set_drawing_span(d, ALL_FRAMES)))
    out.append(("Show on frames…", lambda: show_on_frames(p, d)))
    return out


def show_on_frames(p: AnnotationPanel, d: Drawing) -> bool:
    """Ask for a from–to range of frames and keep ``d`` on it (one undo step)."""
    from ui import annotation_dialogs as dialogs

    last = max(0, p.session.frame_count - 1)
    if d.on_range:
        first, to = d.frame, d.last_frame or d.frame
    else:
        first = p.current if d.on_all_frames else d.frame
        to = min(last, first + 30) if last else first + 30
    answer = dialogs.ask_frame_range(p, first, to, last)
    if answer is None:
        return False
    return p.session.set_drawing_span(d, answer[0], answer[1])


def moved(p: AnnotationPanel, index: int, item: dict) -> None:
    """A drawing drag-moved in the video view: one undo step, saved like any edit."""
    here = p.session.drawings_on(p.current)
    changed = False
    if 0 <= index < len(here):
        d = here[index]
        changed = p.session.move_drawing(d, item["points"], item.get("value"), item.get("label"))
        p._after_edit(changed)
    if not (0 <= index < len(here)) or not changed:
        p._show_drawings()  # nothing changed: draw the session's drawings again


def menu(p: AnnotationPanel, index: int) -> None:
    from PySide6.QtGui import QCursor
    from PySide6.QtWidgets import QMenu

    choices = p.drawing_choices(index)
    if not choices:
        return
    popup = QMenu(p)
    picked = {popup.addAction(text): fn for text, fn in choices}
    chosen = popup.exec(QCursor.pos())
    if chosen in picked:
        p._after_edit(picked[chosen]())  # type: ignore[operator]


def overlay_created(p: AnnotationPanel, item: dict) -> None:
    """A finished drawing from the video view (tests and the view both land here)."""
    if item.get("kind") == "calibration":
        p._calibrate(item)
    else:
        p._drawing_created(item)


def calibrate(p: AnnotationPanel, item: dict) -> None:
    answer = p.measure.ask_calibration(item)
    if answer is None or p.saver is None:
        return
    cm_per_px, detail = answer
    p.saver.submit(
        {"calibration": {"cm_per_px": cm_per_px, "detail": {**detail, "frame": p.current}}}
    )
    p.view.set_calibration(cm_per_px)
    p.cm_per_px = cm_per_px
    p._refresh_landing()
    p.status_message.emit(f"Calibrated: {cm_per_px * 10:.2f} mm per pixel.")


def export_frame(p: AnnotationPanel, path) -> bool:  # type: ignore[no-untyped-def]
    from app.safety.audit import log_action

    ok = p.measure.export_frame(path, p.clinic)
    if ok:
        detail = f"video still, recording {p.recording_id}"
        log_action(p.clinic.db, "export", p.patient_id, detail=detail)
    return ok


def export_frame_dialog(p: AnnotationPanel) -> None:
    if p.server is not None:
        from app.records.media import still_for_export

        # Named by the recording's uid, so the still is offered for this recording only.
        default = still_for_export(p.clinic, p.recording_id, p.current)
        chosen = p.measure.ask_export_path(default)
        if chosen is not None:
            ok = p.export_frame(chosen)
            p.status_message.emit(f"Saved {chosen}" if ok else f"Could not save {chosen}")
