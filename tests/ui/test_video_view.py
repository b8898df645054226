"""VideoView: frame display, wheel zoom around the cursor, measurement tools, export."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from ui.video_view import MAX_ZOOM, VideoView

W, H = 320, 240


def _frame(w: int = W, h: int = H) -> np.ndarray:
    """A grey gradient: every pixel value known, nothing like an overlay colour."""
    ramp = np.linspace(40, 120, w, dtype=np.uint8)
    return np.ascontiguousarray(np.repeat(np.repeat(ramp[None, :, None], h, 0), 3, 2))


@pytest.fixture
def view(qtbot):  # type: ignore[no-untyped-def]
    v = VideoView()
    qtbot.addWidget(v)
    v.resize(640, 480)
    v.show()
    qtbot.waitExposed(v)
    v.set_frame(_frame())
    return v


def _wheel(view: VideoView, pos: QPoint, notches: float) -> None:
    event = QWheelEvent(
        QPointF(pos),
        QPointF(view.viewport().mapToGlobal(pos)),
        QPoint(),
        QPoint(0, round(120 * notches)),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), event)


def _click(qtbot, view: VideoView, x: float, y: float, button=Qt.MouseButton.LeftButton):  # type: ignore[no-untyped-def]
    qtbot.mouseClick(view.viewport(), button, pos=view.mapFromScene(QPointF(x, y)))


def test_set_frame_reports_size_and_fits_the_window(view: VideoView) -> None:
    assert view.frame_size() == (W, H)
    shown = view.mapFromScene(view.sceneRect()).boundingRect()
    vp = view.viewport().rect()
    assert vp.contains(shown.adjusted(1, 1, -1, -1))
    # Fitted: the frame fills the window in at least one direction (640/320 = 2x here).
    assert view.zoom() == pytest.approx(min(vp.width() / W, vp.height() / H), rel=0.03)


def test_set_frame_rejects_wrong_arrays_and_copies_non_contiguous(view: VideoView) -> None:
    with pytest.raises(ValueError, match="8-bit RGB"):
        view.set_frame(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="8-bit RGB"):
        view.set_frame(np.zeros((10, 10, 3), np.float32))
    strided = np.zeros((100, 200, 3), np.uint8)[:, ::2]
    view.set_frame(strided)
    assert view.frame_size() == (100, 100)


def test_wheel_zooms_around_the_cursor_and_fit_resets(view: VideoView, qtbot) -> None:  # type: ignore[no-untyped-def]
    fitted = view.zoom()
    cursor = view.mapFromScene(QPointF(80, 60))
    before = view.mapToScene(cursor)
    with qtbot.waitSignal(view.zoom_changed, timeout=1000) as sig:
        _wheel(view, cursor, 2)
    assert view.zoom() == pytest.approx(fitted * 1.25**2, rel=1e-6)
    assert sig.args[0] == pytest.approx(view.zoom())
    after = view.mapToScene(cursor)
    # The frame pixel under the mouse stays under it (to within one screen pixel).
    assert abs(after.x() - before.x()) <= 1.0 / view.zoom() + 1e-6
    assert abs(after.y() - before.y()) <= 1.0 / view.zoom() + 1e-6
    view.fit_to_window()
    assert view.zoom() == pytest.approx(fitted)


def test_zoom_is_clamped_and_switches_to_hard_pixels(view: VideoView) -> None:
    for _ in range(40):
        _wheel(view, QPoint(300, 200), 1)
    assert view.zoom() == pytest.approx(MAX_ZOOM)
    item = view.items()[0]
    assert item.transformationMode() == Qt.TransformationMode.FastTransformation
    view.fit_to_window()
    assert item.transformationMode() == Qt.TransformationMode.SmoothTransformation
    view.zoom_actual()
    assert view.zoom() == pytest.approx(1.0)


def _created(qtbot, view: VideoView, points: list[tuple[float, float]]) -> dict:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(view.overlay_created, timeout=1000) as sig:
        for x, y in points:
            _click(qtbot, view, x, y)
    return sig.args[0]


def test_angle_tool_gives_knee_flexion(view: VideoView, qtbot) -> None:  # type: ignore[no-untyped-def]
    view.zoom_actual()
    view.set_tool("angle")
    item = _created(qtbot, view, [(100, 40), (100, 140), (170, 140)])  # hip, knee, ankle
    assert item["kind"] == "angle"
    assert np.allclose(item["points"], [[100, 40], [100, 140], [170, 140]], atol=1.0)
    assert item["value"] == pytest.approx(90.0, abs=1.0)
    assert "90" in item["label"]
    assert view.tool() == "angle"  # stays on for the next measurement


def test_shank_tool_sign_follows_direction(view: VideoView, qtbot) -> None:  # type: ignore[no-untyped-def]
    view.zoom_actual()
    view.set_direction(-1)
    view.set_tool("shank")
    item = _created(qtbot, view, [(150, 60), (110, 100)])  # ankle 45 deg ahead (to the left)
    assert item["value"] == pytest.approx(45.0, abs=1.0)
    view.set_direction(1)
    item = _created(qtbot, view, [(150, 60), (110, 100)])
    assert item["value"] == pytest.approx(-45.0, abs=1.0)


def test_distance_needs_calibration_for_a_value(view: VideoView, qtbot) -> None:  # type: ignore[no-untyped-def]
    view.zoom_actual()
    view.set_tool("distance")
    item = _created(qtbot, view, [(50, 200), (150, 200)])
    assert item["value"] is None and item["label"] == "100 px"
    view.set_calibration(0.5)
    item = _created(qtbot, view, [(50, 200), (150, 200)])
    assert item["value"] == pytest.approx(50.0, abs=0.6)
    view.set_tool("vline")
    item = _created(qtbot, view, [(123, 77)])
    assert item["kind"] == "vline" and item["points"][0][0] == pytest.approx(123, abs=1)


def test_escape_cancels_the_points_in_progress(view: VideoView, qtbot) -> None:  # type: ignore[no-untyped-def]
    view.zoom_actual()
    view.set_tool("calibration")
    _click(qtbot, view, 10, 10)
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    item = _created(qtbot, view, [(200, 50), (200, 150)])
    assert np.allclose(item["points"], [[200, 50], [200, 150]], atol=1.0)
    with qtbot.waitSignal(view.tool_changed, timeout=1000) as sig:
        qtbot.keyClick(view, Qt.Key.Key_Escape)  # nothing pending: leave the tool
    assert sig.args == [None] and view.tool() is None


def test_stepping_keys_reach_the_parent(qtbot) -> None:  # type: ignore[no-untyped-def]
    seen: list[int] = []

    class Panel(QWidget):
        def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
            seen.append(event.key())

    panel = Panel()
    qtbot.addWidget(panel)
    view = VideoView(panel)
    QVBoxLayout(panel).addWidget(view)
    panel.show()
    view.set_frame(_frame())
    view.setFocus()
    for key in (Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_Space, Qt.Key.Key_J, Qt.Key.Key_L):
        qtbot.keyClick(view, key)
    assert seen == [Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_Space, Qt.Key.Key_J, Qt.Key.Key_L]


def test_right_click_on_an_overlay_requests_its_deletion(view: VideoView, qtbot) -> None:  # type: ignore[no-untyped-def]
    view.set_overlays(
        [
            {"kind": "distance", "points": [[20, 20], [120, 20]]},
            {"kind": "vline", "points": [[250, 100]]},
        ]
    )
    with qtbot.waitSignal(view.overlay_delete_requested, timeout=1000) as sig:
        _click(qtbot, view, 250, 200, Qt.MouseButton.RightButton)  # anywhere on the vline
    assert sig.args == [1]
    with qtbot.waitSignal(view.overlay_delete_requested, timeout=1000) as sig:
        _click(qtbot, view, 70, 21, Qt.MouseButton.RightButton)
    assert sig.args == [0]
    with qtbot.assertNotEmitted(view.overlay_delete_requested):
        _click(qtbot, view, 180, 150, Qt.MouseButton.RightButton)


def test_bad_overlays_are_skipped_and_indices_still_match(view: VideoView, qtbot) -> None:  # type: ignore[no-untyped-def]
    view.set_overlays(
        [
            {"kind": "angle", "points": [[0, 0], [1, 1]]},  # one point short
            {"kind": "circle", "points": [[0, 0]]},
            {"kind": "vline", "points": [["x", 1]]},
            {"kind": "vline", "points": [[250, 100]]},
        ]
    )
    with qtbot.waitSignal(view.overlay_delete_requested, timeout=1000) as sig:
        _click(qtbot, view, 250, 200, Qt.MouseButton.RightButton)
    assert sig.args == [3]
    with pytest.raises(ValueError, match="Unknown measurement tool"):
        view.set_tool("lasso")
    with pytest.raises(ValueError, match="positive"):
        view.set_calibration(-1.0)
    with pytest.raises(ValueError, match="direction"):
        view.set_direction(0)


def _colour(image: QImage, x: int, y: int) -> tuple[int, int, int]:
    c = QColor(image.pixel(x, y))
    return c.red(), c.green(), c.blue()


def test_render_current_is_native_size_with_overlay_pixels(view: VideoView) -> None:
    plain = view.render_current(with_overlays=False)
    assert (plain.width(), plain.height()) == (W, H)
    assert _colour(plain, 100, 120)[0] == _colour(plain, 100, 120)[2]  # grey
    view.set_overlays([{"kind": "vline", "points": [[100, 50]]}])
    view.set_skeleton({"left_hip": (200, 40), "left_knee": (200, 140), "right_hip": (50, 50)})
    drawn = view.render_current()
    assert (drawn.width(), drawn.height()) == (W, H)
    column = [_colour(drawn, 100, y) for y in range(H)]
    cyan = [b > r + 60 for r, g, b in column]
    assert sum(cyan) > H // 3  # the light cyan (dashed) line runs the full height
    r, g, b = _colour(drawn, 200, 90)  # middle of the left thigh
    assert b > r + 60  # left leg is blue
    assert _colour(drawn, 300, 200) == _colour(plain, 300, 200)  # elsewhere untouched
    assert view.render_current(with_overlays=False) == plain


def test_empty_view_and_message(qtbot) -> None:  # type: ignore[no-untyped-def]
    v = VideoView()
    qtbot.addWidget(v)
    v.resize(400, 300)
    v.show()
    assert v.frame_size() is None and v.render_current().isNull()
    blank = v.grab().toImage()
    v.set_message("Video not found")
    shown = v.grab().toImage()
    assert shown != blank
    v.set_tool("distance")
    _click(qtbot, v, 10, 10)  # no frame: nothing to measure, no crash
    _wheel(v, QPoint(100, 100), 1)
    assert v.frame_size() is None


def test_tool_shows_a_rubber_band_to_the_mouse(view: VideoView, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QMouseEvent

    view.zoom_actual()
    view.set_tool("distance")
    _click(qtbot, view, 40, 40)
    before = view.grab().toImage()
    pos = QPointF(view.mapFromScene(QPointF(250, 200)))
    move = QMouseEvent(
        QEvent.Type.MouseMove,
        pos,
        QPointF(view.viewport().mapToGlobal(pos)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(view.viewport(), move)
    after = view.grab().toImage()
    assert after != before  # the preview line and its live length follow the mouse
