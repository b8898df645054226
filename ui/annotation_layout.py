"""The marking panel's widgets: header, video with tools, transport, timeline and sidebar.

One function, :func:`build`, makes them, lays them out and connects their signals to the
panel's slots (:class:`ui.annotation_panel.AnnotationPanel` keeps the behaviour).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from app.annotation.session import REVIEW_RULE
from ui import annotation_drawings as drawings
from ui.annotation_measures import MarkingToolBar
from ui.annotation_saving import SaveMonitor
from ui.annotation_sidebar import AnnotationSidebar
from ui.event_timeline import EventTimeline
from ui.playback import CaptureRateBox, TransportBar
from ui.video_view import VideoView

if TYPE_CHECKING:
    from ui.annotation_panel import AnnotationPanel


def build(p: AnnotationPanel) -> None:
    """Create the panel's widgets as attributes of ``p`` and wire them to its slots."""
    # --- header -----------------------------------------------------------------------
    p.title = QLabel("No recording open")
    p.title.setObjectName("sectionTitle")
    rate = CaptureRateBox()
    p.capture_fps, p.fps_note = rate.spin, rate.note
    p.capture_fps.valueChanged.connect(p._capture_fps_changed)
    p.banner = QLabel()
    p.banner.setObjectName("warning")
    p.banner.setWordWrap(True)
    p.banner.hide()
    p.save_monitor = SaveMonitor(p.banner, p)
    p.save_monitor.saved.connect(p._saved)
    p.save_monitor.conflict.connect(p._resolve_conflict)
    header = QHBoxLayout()
    header.addWidget(p.title, 1)
    header.addWidget(rate)

    # --- video, tools, transport, timeline -----------------------------------------------
    p.view = VideoView()
    # Right-click on a drawing: delete it, or keep it on all frames / this frame only.
    p.view.overlay_delete_requested.connect(p._drawing_menu)
    # Left-drag on a drawing moves its point (or the whole drawing): one undoable step.
    p.view.set_editable(True)
    p.view.overlay_moved.connect(lambda i, item: drawings.moved(p, i, item))
    p.transport = TransportBar()
    p.transport.frame_requested.connect(p.go_to)
    p.transport.go_to_entered.connect(p._go_to_entered)
    p.transport.frame_box_left.connect(p._frame_box_left)
    p.timeline = EventTimeline()
    p.timeline.frame_requested.connect(p.go_to)
    p.timeline.event_moved.connect(p._event_moved)
    p.timeline.event_selected.connect(p._event_clicked)

    tools = MarkingToolBar(p.view, p)
    p.measure = tools.measure
    p.measure.drawn.connect(p._drawing_created)
    p.measure.calibration_drawn.connect(p._calibrate)
    p.tool_buttons = p.measure.buttons
    p.measure.set_view("side")  # until a rear-view recording is opened
    p.span_box, p.skeleton_box = tools.span_box, tools.skeleton_box
    p.direction_action = tools.direction_action
    p.direction_action.triggered.connect(lambda: p.set_direction(-p.direction))
    p.skeleton_box.toggled.connect(p._skeleton_toggled)
    tools.export_action.triggered.connect(p.export_frame_dialog)
    p.export_video_action = QAction("Export video…", p)  # ui.dual_export: this recording alone
    p.export_video_action.triggered.connect(lambda: _export_video(p))
    tools.addAction(p.export_video_action)
    p.landing_action = QAction("Landing plots…", p)
    p.landing_action.setToolTip("The landing measures and plots in a large window")
    p.landing_action.triggered.connect(p.enlarge_landing)
    p.landing_action.setEnabled(False)
    tools.addAction(p.landing_action)

    # The timeline sits under a splitter handle: drag it up to make the lanes taller.
    video_area = QWidget()
    va = QVBoxLayout(video_area)
    va.setContentsMargins(0, 0, 0, 0)
    va.addWidget(tools)
    va.addWidget(p.view, 1)
    va.addWidget(p.transport)
    p.video_split = QSplitter(Qt.Orientation.Vertical)
    p.video_split.addWidget(video_area)
    p.video_split.addWidget(p.timeline)
    p.video_split.setStretchFactor(0, 1)
    p.video_split.setChildrenCollapsible(False)

    p.sidebar = AnnotationSidebar()
    p.sidebar.mark_requested.connect(p.mark)
    p.sidebar.delete_requested.connect(p.delete_at_current)
    p.sidebar.detect_requested.connect(p.detect_contacts)
    p.sidebar.accept_all_requested.connect(p.accept_all)
    p.sidebar.accept_high_requested.connect(p.accept_high_confidence)
    p.sidebar.set_rule(REVIEW_RULE)

    split = QSplitter(Qt.Orientation.Horizontal)
    split.addWidget(p.video_split)
    side_scroll = QScrollArea()
    side_scroll.setWidgetResizable(True)
    side_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    side_scroll.setWidget(p.sidebar)
    side_scroll.setMinimumWidth(p.sidebar.minimumWidth() + 16)
    split.addWidget(side_scroll)
    split.setStretchFactor(0, 1)
    split.setSizes([980, 420])

    layout = QVBoxLayout(p)
    layout.setContentsMargins(8, 6, 8, 6)
    layout.addLayout(header)
    layout.addWidget(p.banner)
    layout.addWidget(split, 1)


def _export_video(p) -> None:  # type: ignore[no-untyped-def]
    from ui.dual_export import open_single_export

    open_single_export(p)
