"""Two recordings in step: side by side (stacked on a narrow window) or superimposed.

The model is :class:`app.video.sync.DualSync` (which frame of each shows the same real instant);
this widget shows it. Keys are the single player's (:data:`ui.annotation_keys.KEYMAP`: arrows,
Shift+arrows, Home/End, Space, J/K/L, G). Linked, a step moves the active side (framed in blue;
click a picture to choose it) and the other follows in real time; unlinked (``Linked`` off),
the active side steps alone, and ``Align here`` links again at what both show now.

Frames come from two :mod:`app.video` frame servers (they share the memory budget); a 60 Hz poll
shows the newest frame that is ready on each side, as the marking panel does.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.video.compose import hip_centre, superimpose
from app.video.dual_sources import SideSource
from app.video.sync import A, B, DualSync, Link, offset_from_events, offset_from_time_zero
from ui.annotation_keys import KEYMAP
from ui.dual_pane import DualPane
from ui.playback import TransportBar
from ui.video_view import VideoView

if TYPE_CHECKING:
    from app.clinic import Clinic

log = logging.getLogger(__name__)

LAYOUTS = ("Automatic", "Side by side", "One above the other", "Superimposed")
#: Below this width (pixels) "Automatic" puts one picture above the other.
NARROW_PX = 1100
STEP_KEYS = {"next_frame", "previous_frame", "forward_10", "back_10", "first_frame",
             "last_frame", "play", "slower", "pause", "faster", "go_to_frame"}  # fmt: skip


class DualPlayer(QWidget):
    """Two recordings, linked by ``link`` ("event" or "time zero") once both are open."""

    status_message = Signal(str)

    def __init__(
        self,
        clinic: Clinic,
        sources: tuple[SideSource, SideSource],
        *,
        link: str = "event",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.sources = sources
        self.link_mode = link
        self.panes = (DualPane("A"), DualPane("B"))
        self.sync: DualSync | None = None
        self.active = A
        self.how = "centre"
        self._export_task = None

        budget = clinic.settings.video_memory_budget_mb
        for pane, src in zip(self.panes, sources, strict=True):
            pane.open(src, budget_mb=budget, cache_dir=clinic.folder.cache)
        self.panes[A].activated.connect(lambda: self.set_active(A))
        self.panes[B].activated.connect(lambda: self.set_active(B))

        # --- bar: link, layout, overlays -------------------------------------------------------
        self.link_box = QCheckBox("Linked")
        self.link_box.setChecked(True)
        self.link_box.setToolTip("Step both together in real time; off: the framed side steps alone")
        self.link_box.toggled.connect(self.set_linked)
        self.align_btn = QPushButton("Align here")
        self.align_btn.setToolTip("What both pictures show now is the same instant: link there")
        self.align_btn.clicked.connect(self.align_here)
        self.contact_btn = QPushButton("Align at contact")
        self.contact_btn.setToolTip("Link at the first confident initial contact of the same foot")
        self.contact_btn.clicked.connect(lambda: self.apply_link("event"))
        self.layout_box = QComboBox()
        self.layout_box.addItems(LAYOUTS)
        self.layout_box.currentIndexChanged.connect(lambda _i: self._arrange())
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.setMaximumWidth(160)
        self.opacity.setToolTip("Superimposed: how much of B shows over A")
        self.opacity.valueChanged.connect(lambda _v: self._show_superimposed())
        self.blend_note = QLabel("")
        self.blend_note.setObjectName("muted")
        self.skeleton_box = QCheckBox("Skeleton")
        self.skeleton_box.setChecked(True)
        self.drawings_box = QCheckBox("Drawings")
        self.drawings_box.setChecked(True)
        self.skeleton_box.toggled.connect(self._overlays_toggled)
        self.drawings_box.toggled.connect(self._overlays_toggled)
        self.export_btn = QPushButton("Export video…")
        self.export_btn.setToolTip("An MP4 (H.264) file to keep with the visit or give the patient")
        self.export_btn.clicked.connect(lambda: self.export_dialog())
        self.copy_btn = QPushButton("Copy for the patient…")
        self.copy_btn.setToolTip("Save a copy of the exported video elsewhere (e.g. a USB stick)")
        self.copy_btn.setEnabled(False)
        self.copy_btn.clicked.connect(lambda: self.copy_for_patient())
        self.last_export = None
        self.last_error = ""
        bar = QHBoxLayout()
        for w in (self.link_box, self.align_btn, self.contact_btn):
            bar.addWidget(w)
        bar.addSpacing(12)
        bar.addWidget(QLabel("View"))
        bar.addWidget(self.layout_box)
        bar.addWidget(self.opacity)
        bar.addWidget(self.blend_note)
        bar.addSpacing(12)
        bar.addWidget(self.skeleton_box)
        bar.addWidget(self.drawings_box)
        bar.addStretch(1)
        bar.addWidget(self.export_btn)
        bar.addWidget(self.copy_btn)
        for w in (self.link_box, self.align_btn, self.contact_btn, self.layout_box, self.opacity,
                  self.skeleton_box, self.drawings_box, self.export_btn, self.copy_btn):  # fmt: skip
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.panes[A])
        self.split.addWidget(self.panes[B])
        self.split.setChildrenCollapsible(False)
        self.blend = VideoView()
        self.blend.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.blend.hide()
        self.transport = TransportBar()
        self.transport.frame_requested.connect(lambda f: self.go_to(self.active, f))
        self.transport.go_to_entered.connect(self._go_to_entered)
        self.transport.frame_box_left.connect(self.setFocus)
        self.note = QLabel("")
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        self.side_area = QVBoxLayout()  # for a table kept beside (Compare visits)
        body = QHBoxLayout()
        pictures = QVBoxLayout()
        pictures.addWidget(self.split, 1)
        pictures.addWidget(self.blend, 1)
        body.addLayout(pictures, 1)
        body.addLayout(self.side_area)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addLayout(body, 1)
        layout.addWidget(self.transport)
        layout.addWidget(self.note)

        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._install_keys()
        self._poll = QTimer(self)
        self._poll.setInterval(16)
        self._poll.timeout.connect(self._poll_frames)
        self._start()

    # ------------------------------------------------------------------ set-up
    def _start(self) -> None:
        a, b = self.panes
        if a.timebase is None or b.timebase is None:
            bad = [p.name for p in self.panes if p.timebase is None]
            self.note.setText(f"Recording {' and '.join(bad)} could not be opened (see the picture).")
            for w in (self.transport, self.link_box, self.align_btn, self.contact_btn,
                      self.export_btn):  # fmt: skip
                w.setEnabled(False)
            return
        self.sync = DualSync(a.timebase, b.timebase)
        self.apply_link(self.link_mode)
        self.set_active(self.sync.leader)
        self._poll.start()
        self._arrange()

    def _install_keys(self) -> None:
        handlers = {
            "next_frame": lambda: self.step(1),
            "previous_frame": lambda: self.step(-1),
            "forward_10": lambda: self.step(10),
            "back_10": lambda: self.step(-10),
            "first_frame": lambda: self.go_to(self.active, 0),
            "last_frame": lambda: self.go_to(self.active, 10**9),
            "play": self.transport.toggle,
            "slower": self.transport.slower,
            "pause": self.transport.stop,
            "faster": self.transport.faster,
            "go_to_frame": self._focus_frame_box,
        }
        self.shortcuts = []
        for key, name, _what in KEYMAP:
            if name in STEP_KEYS:
                s = QShortcut(QKeySequence(key), self)
                s.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                s.activated.connect(handlers[name])
                self.shortcuts.append(s)

    def _focus_frame_box(self) -> None:
        self.transport.frame_box.setFocus()
        self.transport.frame_box.selectAll()

    def _go_to_entered(self, frame: int) -> None:
        self.go_to(self.active, frame)
        self.setFocus()

    # ------------------------------------------------------------------ linking
    def apply_link(self, how: str) -> Link | None:
        """Link by ``"event"`` (first contact of the same foot) or ``"time zero"`` (one capture)."""
        if self.sync is None:
            return None
        a, b = self.panes
        together = all(_filmed_by_the_recorder(src.path) for src in self.sources)
        if how == "time zero" and together:
            from app.video.sync import first_frame_offset_s

            link = offset_from_time_zero(
                first_frame_offset_s(self.sources[A].path), first_frame_offset_s(self.sources[B].path)
            )
        else:
            # Imported files (no capture timestamps) share no clock: align at a contact.
            link = offset_from_events(a.timebase, self.sources[A].events,
                                      b.timebase, self.sources[B].events)  # fmt: skip
        self.sync.set_link(link)
        self.link_box.blockSignals(True)
        self.link_box.setChecked(True)
        self.link_box.blockSignals(False)
        self.sync.go_to_time(self.sync.start_time() if how == "time zero" else self._anchor(link))
        self._show()
        self._say_link()
        return link

    def _anchor(self, link: Link) -> float:
        """Where to start after an event link: at the contact itself (A's clock)."""
        from app.video.sync import first_contacts

        if link.how == "event":
            firsts = first_contacts(self.sources[A].events)
            for e in sorted(firsts.values(), key=lambda e: e.frame):
                if e.frame < self.panes[A].frame_count:
                    return self.panes[A].timebase.time_of(e.frame)
        return self.sync.start_time()

    def set_linked(self, on: bool) -> None:
        if self.sync is None:
            return
        if on:
            self.align_here()
        else:
            self.sync.unlink()
            self.note.setText("Unlinked: the framed side steps alone. “Align here” links again "
                              "at what both pictures show.")  # fmt: skip

    def align_here(self) -> None:
        if self.sync is None:
            return
        self.sync.relink()
        self.link_box.blockSignals(True)
        self.link_box.setChecked(True)
        self.link_box.blockSignals(False)
        self._show()
        self._say_link()

    def _say_link(self) -> None:
        s = self.sync
        if s is None:
            return
        text = f"Linked: {s.link.note or s.link.how} (B {s.offset_s:+.3f} s against A)."
        self.note.setText(text)
        self.status_message.emit(text)

    # ------------------------------------------------------------------ moving
    def set_active(self, side: int) -> None:
        self.active = side
        for i, p in enumerate(self.panes):
            p.set_active(i == side)
        pane = self.panes[side]
        playing = self.transport.playing
        self.transport.set_clip(pane.frame_count, pane.display_fps)
        if self.sync is not None:
            self.transport.show_position(self.sync.frames[side], self.sync.time(side))
            if playing:
                self.transport.play()

    def step(self, n: int) -> None:
        self.transport.stop()
        if self.sync is None:
            return
        self.sync.step(n, side=self.active)
        self._show(direction=1 if n > 0 else -1, step=abs(n))

    def go_to(self, side: int, frame: int) -> None:
        if self.sync is None:
            return
        before = self.sync.frames[side]
        self.sync.go_to(side, frame)
        self._show(direction=1 if self.sync.frames[side] >= before else -1)

    def _show(self, direction: int = 0, step: int | None = None) -> None:
        s = self.sync
        if s is None:
            return
        t = s.instant()
        lead = s.tbs[self.active].real_fps or 1.0
        for side, pane in enumerate(self.panes):
            out = s.linked and not s.in_range(side, t)
            # The follower moves fewer (or more) frames per press: its own stride, at least 1.
            own = None if step is None else max(1, round(step * (s.tbs[side].real_fps or lead) / lead))
            pane.want(s.frames[side], direction, out_of_range=out, step=own)
        self.transport.show_position(s.frames[self.active], s.time(self.active))
        self._show_superimposed()

    def _poll_frames(self) -> None:
        changed = False
        for pane in self.panes:
            was = pane.shown
            pane.poll()
            changed |= pane.shown != was
        if changed:
            self._show_superimposed()

    def pair_shown(self) -> tuple[int, int]:
        """The frames on screen now (-1 where none is yet)."""
        return self.panes[A].shown, self.panes[B].shown

    # ------------------------------------------------------------------ layout
    def _layout_name(self) -> str:
        name = self.layout_box.currentText()
        if name == "Automatic":
            return "One above the other" if self.width() < NARROW_PX else "Side by side"
        return name

    def _arrange(self) -> None:
        name = self._layout_name()
        superimposed = name == "Superimposed"
        self.split.setVisible(not superimposed)
        self.blend.setVisible(superimposed)
        self.opacity.setEnabled(superimposed)
        self.opacity.setVisible(superimposed)
        self.blend_note.setVisible(superimposed)
        self.split.setOrientation(
            Qt.Orientation.Vertical if name == "One above the other" else Qt.Orientation.Horizontal
        )
        self._show_superimposed()

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        super().resizeEvent(event)
        if self.layout_box.currentText() == "Automatic":
            self._arrange()

    def _show_superimposed(self) -> None:
        if not self.blend.isVisible():
            return
        a, b = self.panes
        if a.frame_rgb is None or b.frame_rgb is None:
            return
        hip_a, hip_b = hip_centre(a.skeleton(a.shown)), hip_centre(b.skeleton(b.shown))
        rgb, self.how = superimpose(a.frame_rgb, b.frame_rgb, self.opacity.value() / 100.0,
                                    anchor_a=hip_a, anchor_b=hip_b)  # fmt: skip
        self.blend.set_frame(rgb)
        where = "the hips" if self.how == "hip" else "the frame centres (no pose for both)"
        self.blend_note.setText(f"B {self.opacity.value()} % over A, aligned at {where}")

    def _overlays_toggled(self) -> None:
        for p in self.panes:
            p.show_skeleton = self.skeleton_box.isChecked()
            p.show_drawings = self.drawings_box.isChecked()
            p.refresh_overlays()

    # ------------------------------------------------------------------ export, closing
    def export_dialog(self):  # type: ignore[no-untyped-def]
        from ui.dual_export import ExportDialog

        if self.sync is None:
            return None
        dialog = ExportDialog(self)
        dialog.open()
        return dialog

    def export(self, what: int = 0, speed: float = 0.25, **options):  # type: ignore[no-untyped-def]
        """Start exporting (0 both, 1 A only, 2 B only) without the dialog; returns the task."""
        from ui.dual_export import start_export

        return start_export(self, what, speed, **options)

    def copy_for_patient(self, dest=None):  # type: ignore[no-untyped-def]
        from ui.dual_export import copy_for_patient

        return copy_for_patient(self, dest)

    def shutdown(self) -> None:
        self._poll.stop()
        self.transport.stop()
        if self._export_task is not None:
            self._export_task.cancel()
            self._export_task.wait(10000)
            self._export_task = None
        for p in self.panes:
            p.close()


def _filmed_by_the_recorder(path) -> bool:  # type: ignore[no-untyped-def]
    """True for a camera recording of this program (its timestamp sidecar is beside it)."""
    from app.capture.writer import sidecar_path

    return sidecar_path(path).exists()


class DualPlayerDialog(QDialog):
    """The dual player in its own window (opened from Compare visits or a recording)."""

    def __init__(self, player: DualPlayer, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.player = player
        player.setParent(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(player)
        self.resize(1280, 800)
        screen = self.screen()
        if screen is not None:
            avail = screen.availableGeometry()
            self.resize(min(1280, avail.width() - 16), min(800, avail.height() - 48))
        player.setFocus()

    def done(self, result: int) -> None:
        self.player.shutdown()
        super().done(result)

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        self.player.shutdown()
        super().closeEvent(event)


def open_dual(
    clinic: Clinic,
    recording_a: int,
    recording_b: int,
    *,
    link: str = "event",
    parent: QWidget | None = None,
    beside: QWidget | None = None,
) -> DualPlayerDialog | None:
    """Open two recordings of the clinic in a dual player window (shown, not modal).

    ``beside`` (e.g. the comparison table) is kept to the right of the pictures. Returns None
    when a recording no longer exists.
    """
    from app.video.dual_sources import load_side

    a = load_side(clinic.db, clinic.videos_root, recording_a)
    b = load_side(clinic.db, clinic.videos_root, recording_b)
    if a is None or b is None:
        return None
    player = DualPlayer(clinic, (a, b), link=link)
    if beside is not None:
        beside.setMaximumWidth(420)
        player.side_area.addWidget(beside)
    what = "Side and rear view" if link == "time zero" else "Two recordings"
    dialog = DualPlayerDialog(player, f"{what} in step", parent)
    dialog.show()
    return dialog
