"""Small everyday fixes: the capture-rate question fits a laptop; the contact-count warning
names the count, not the clip length."""

from __future__ import annotations

from app.analysis.events import EventSource, EventType, Foot, FootEvent
from app.analysis.metrics import MIN_CONTACTS_PER_SIDE, temporal_metrics
from ui.import_video import capture_fps_dialog


def test_capture_rate_dialog_is_of_reading_width(qtbot) -> None:
    dialog = capture_fps_dialog(None, "IMG_0421 slow motion from the clinic phone.MOV", 30.0)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.width() <= 600  # was 1,134 px: the explanation did not wrap
    assert dialog.doubleValue() == 30.0


def test_few_contacts_on_a_long_clip_ask_for_marks_not_a_longer_clip() -> None:
    fps, events = 30.0, []
    # 12 s of running at 168 steps/min, but only 5 contacts per side marked
    for k in range(10):
        frame = int(k * 60 / 168 * fps)
        foot = Foot.LEFT if k % 2 == 0 else Foot.RIGHT
        events.append(
            FootEvent(foot, EventType.INITIAL_CONTACT, frame, frame / fps, EventSource.MANUAL)
        )
    warnings = temporal_metrics(events).warnings
    text = " ".join(warnings)
    assert f"fewer than {MIN_CONTACTS_PER_SIDE} contacts per side" in text
    assert "Record a longer clip" not in text and "Mark the remaining contacts" in text
