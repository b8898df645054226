"""The Practice tab's widgets and their wiring (built once by :class:`ui.practice_panel.PracticePanel`).

Layout: the live picture on the left with, under it, the cadence trend beside the metronome
(both fit a 1280x720 screen); on the right a column of controls (camera, target, live readout,
start/stop, runner view, save) that scrolls on its own on a short screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.practice.session import DEFAULT_TOLERANCE_SPM
from ui.capture_preview import PreviewView
from ui.metronome_widget import AudioFactory, MetronomeWidget
from ui.practice_widgets import LiveReadout, PracticeTrend

if TYPE_CHECKING:
    from ui.practice_panel import PracticePanel


def build(p: PracticePanel, audio_factory: AudioFactory | None) -> None:
    """Create the panel's widgets as attributes of ``p`` and connect them to its slots."""
    p.preview = PreviewView()
    p.preview.placeholder = "Start the camera to see the runner."
    p.trend = PracticeTrend()

    p.header = QLabel()
    p.header.setWordWrap(True)
    f = QFont(p.header.font())
    f.setBold(True)
    p.header.setFont(f)

    p.camera_combo = QComboBox()
    p.camera_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    p.camera_combo.setMinimumContentsLength(16)
    p.camera_button = QPushButton("Start camera")
    p.camera_state = QLabel()
    p.camera_state.setWordWrap(True)
    p.camera_state.setObjectName("warning")
    p.record_check = QCheckBox("Record the video as well")
    p.record_check.setToolTip("The same crash-safe recording as the Record tab; saved with the visit.")
    cam = QGroupBox("Camera")
    cl = QVBoxLayout(cam)
    cl.addWidget(p.camera_combo)
    cl.addWidget(p.camera_button)
    cl.addWidget(p.camera_state)
    cl.addWidget(p.record_check)

    p.target_spin = QSpinBox()
    p.target_spin.setRange(100, 240)
    p.target_spin.setSuffix(" spm")
    p.target_note = QLabel()
    p.target_note.setObjectName("muted")
    p.target_note.setWordWrap(True)
    p.tol_spin = QDoubleSpinBox()
    p.tol_spin.setRange(0.5, 20.0)
    p.tol_spin.setSingleStep(0.5)
    p.tol_spin.setDecimals(1)
    p.tol_spin.setPrefix("± ")
    p.tol_spin.setSuffix(" spm")
    p.tol_spin.setValue(DEFAULT_TOLERANCE_SPM)
    p.schedule_combo = QComboBox()
    p.schedule_combo.setToolTip("When the metronome sounds during the session (faded feedback)")
    tgt = QGroupBox("Target")
    tl = QGridLayout(tgt)
    tl.addWidget(QLabel("Cadence"), 0, 0)
    tl.addWidget(p.target_spin, 0, 1)
    tl.addWidget(QLabel("On target"), 1, 0)
    tl.addWidget(p.tol_spin, 1, 1)
    # Two lines reserved: a wrapped label in a grid is otherwise squeezed to one.
    p.target_note.setMinimumHeight(2 * p.target_note.fontMetrics().lineSpacing() + 4)
    tl.addWidget(p.target_note, 2, 0, 1, 2)
    tl.addWidget(QLabel("Metronome"), 3, 0)
    tl.addWidget(p.schedule_combo, 3, 1)

    p.readout = LiveReadout()
    p.cadence_label = p.readout.cadence_label
    p.band_label = p.readout.band_label
    p.analysis_label = p.readout.analysis_label

    p.start_button = QPushButton("▶  Start session  (Space)")
    p.start_button.setMinimumHeight(40)
    p.stop_button = QPushButton("■  Stop  (End)")
    p.stop_button.setToolTip("End the session and save it with the visit")
    p.runner_button = QPushButton("Runner view…")
    p.runner_button.setToolTip("A big window for a second screen by the treadmill (F11: full screen)")
    p.save_button = QPushButton("Save again")
    p.save_button.hide()
    p.result_label = QLabel()
    p.result_label.setWordWrap(True)
    buttons = QHBoxLayout()
    buttons.addWidget(p.start_button, 2)
    buttons.addWidget(p.stop_button, 1)

    # Its own button switches the sound on or off at any moment (the clinician's override of
    # the schedule); it says so, so that it is not read as a second session Start.
    p.metronome = MetronomeWidget(
        audio_factory=audio_factory, button_texts=("Metronome on  (M)", "Metronome off  (M)")
    )

    side = QVBoxLayout()
    side.addWidget(p.header)
    side.addWidget(cam)
    side.addWidget(tgt)
    side.addWidget(p.readout)
    side.addLayout(buttons)
    side.addWidget(p.runner_button)
    side.addWidget(p.result_label)
    side.addWidget(p.save_button)
    side.addWidget(p.analysis_label)
    side.addStretch(1)
    side_w = QWidget()
    side_w.setLayout(side)
    side_w.setFixedWidth(330)
    # The controls scroll on a short screen (1280x720) instead of being squeezed or cut.
    side_scroll = QScrollArea()
    side_scroll.setWidget(side_w)
    side_scroll.setWidgetResizable(True)
    side_scroll.setFrameShape(QFrame.Shape.NoFrame)
    side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    side_scroll.setFixedWidth(330 + side_scroll.verticalScrollBar().sizeHint().width() + 4)
    # Under the picture: the trend beside the metronome, so both fit at 720 px high.
    below = QHBoxLayout()
    # The metronome's wrapped status line is not counted in its minimum: reserve its height,
    # or the beat light and the tempo row overlap on a short screen. Its size hint has the line
    # at full width; in the narrow column at 1280x720 it wraps onto a second line (which was cut
    # off), so one more line is reserved.
    p.metronome.setMinimumHeight(
        p.metronome.sizeHint().height() + p.metronome.fontMetrics().lineSpacing()
    )
    below.addWidget(p.trend, 3)
    below.addWidget(p.metronome, 2)
    left = QVBoxLayout()
    p.preview.setMinimumSize(320, 160)  # the clinician watches the runner, not the screen
    left.addWidget(p.preview, 1)
    left.addLayout(below)
    layout = QHBoxLayout(p)
    layout.addLayout(left, 1)
    layout.addWidget(side_scroll)

    p.camera_button.clicked.connect(p.toggle_camera)
    p.start_button.clicked.connect(p.start_or_pause)
    p.stop_button.clicked.connect(p.stop)
    p.runner_button.clicked.connect(p.show_runner_view)
    p.save_button.clicked.connect(lambda: p.save(final=True))
    p.target_spin.valueChanged.connect(p._target_changed)
    p.tol_spin.valueChanged.connect(p._target_changed)
    p.metronome.started.connect(lambda: p._metronome_by_hand(True))
    p.metronome.stopped.connect(lambda: p._metronome_by_hand(False))
    ctx = Qt.ShortcutContext.WidgetWithChildrenShortcut
    for key, fn in ((Qt.Key.Key_Space, p.start_or_pause), (Qt.Key.Key_End, p.stop),
                    (Qt.Key.Key_M, p.toggle_metronome),
                    (Qt.Key.Key_F11, p._runner_full)):  # fmt: skip
        sc = QShortcut(QKeySequence(key), p)
        sc.setContext(ctx)
        sc.activated.connect(fn)
