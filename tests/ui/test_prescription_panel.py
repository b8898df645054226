"""Prescription panel (offscreen; no sound device)."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from app.prescription.metronome import detect_onsets, read_audio
from app.prescription.plan import CadencePlan
from ui.prescription_panel import PrescriptionPanel


@pytest.fixture
def panel(qtbot):
    p = PrescriptionPanel()
    qtbot.addWidget(p)
    p.resize(1280, 800)
    yield p
    p.shutdown()


def test_measured_baseline_default_five_percent(panel) -> None:
    panel.set_context(165.0, (8, 9), 10.5, None, None)
    assert "173 spm" in panel.target_label.text()
    assert panel.metronome.bpm() == 173
    assert "8 left / 9 right" in panel.baseline_source.text()
    assert panel.speed_label.text() == "10.5 km/h"
    assert not panel.warnings_label.isVisibleTo(panel)
    assert not panel.follow_up_label.isVisibleTo(panel)
    assert [panel.steps_table.item(r, 1).text() for r in range(3)] == ["173", "177", "182"]
    assert "173 steps per minute" in panel.preview_label.text()


def test_target_choices_and_custom(panel) -> None:
    panel.set_context(160.0, (8, 8), None, None, None)
    panel.preset_buttons[10.0].click()
    assert "176 spm" in panel.target_label.text() and panel.metronome.bpm() == 176
    panel.custom_spin.setValue(12.5)  # typing a custom value selects "Custom"
    assert panel.custom_button.isChecked()
    assert "180 spm" in panel.target_label.text()
    assert "12.5 %" in panel.warnings_label.text() and panel.warnings_label.isVisibleTo(panel)


def test_live_warnings_and_typed_baseline(panel, qtbot) -> None:
    panel.set_context(165.0, (5, 9), None, None, None)
    assert "5 left / 9 right" in panel.warnings_label.text()
    panel.baseline_edit.setText("138")  # typed in (e.g. from a watch): no contact warning now
    assert panel.baseline_source.text() == "typed in"
    text = panel.warnings_label.text()
    assert "138" in text and "left /" not in text
    assert panel.save_button.isEnabled()  # warnings never block


@pytest.mark.parametrize("bad", ["abc", "0", "-170", "400", "nan"])
def test_invalid_baseline_shows_plain_error_and_blocks_save(panel, qtbot, bad: str) -> None:
    panel.set_context(None, None, None, None, None)
    panel.baseline_edit.setText(bad)
    assert panel.error_label.isVisibleTo(panel) and len(panel.error_label.text()) > 10
    assert not panel.save_button.isEnabled()
    with qtbot.assertNotEmitted(panel.prescription_saved):
        assert panel.save() is None


def test_follow_up_with_previous_target(panel) -> None:
    panel.set_context(171.2, (10, 10), 10.0, 172, None, baseline_sd_spm=3.0, frame_rate_hz=240.0)
    assert panel.follow_up_label.isVisibleTo(panel)
    assert "Target reached" in panel.follow_up_label.text()
    panel.set_context(160.0, (10, 10), 10.0, 172, None)
    assert "not yet reached" in panel.follow_up_label.text()
    assert "clinical heuristic" in panel.follow_up_label.text()


def test_tooltips_carry_sources(panel) -> None:
    panel.set_context(165.0, (8, 8), None, None, None)
    assert "Huber & Verhoff 2024" in panel.minutes.toolTip()
    assert "Barton 2016" in panel.steps_table.item(0, 2).toolTip()
    assert "Willy, Scholz & Davis 2012" in panel.feedback_table.item(0, 1).toolTip()
    assert "Barton 2016" in panel.cues_edit.toolTip()
    assert "Anderson 2022" in panel.costs_edit.toolTip()
    assert "Heiderscheit 2011" in panel.preset_buttons[5.0].toolTip()


def test_save_emits_edited_plan_and_reload(panel, qtbot) -> None:
    panel.set_context(165.0, (8, 8), 11.0, None, None)
    panel.preset_buttons[7.5].click()
    panel.minutes.setValue(20)
    panel.feedback_table.item(1, 1).setText("First 10 minutes only")
    panel.steps_table.item(1, 2).setText("After two weeks if easy")
    panel.cues_edit.setPlainText("Quick light steps\n\nLand under your hips\n")
    with qtbot.waitSignal(panel.prescription_saved, timeout=1000) as sig:
        panel.save_button.click()
    data = sig.args[0]
    assert data["target_spm"] == 177 and data["metronome_bpm"] == 177
    assert data["percent"] == 7.5 and data["baseline_source"] == "reviewed"
    assert data["dose"]["minutes_max"] == 20
    assert data["feedback"][1]["metronome_use"] == "First 10 minutes only"
    assert data["wording"]["cues"] == ["Quick light steps", "Land under your hips"]
    assert data["treadmill_speed_kmh"] == 11.0
    assert any("177" in line for line in data["home_program"])
    plan = CadencePlan.from_dict(data)
    assert plan.target_spm == 177

    # reopening the visit shows the saved prescription, edits included
    other = PrescriptionPanel()
    qtbot.addWidget(other)
    other.set_context(165.0, (8, 8), 11.0, None, data)
    assert other.preset_buttons[7.5].isChecked()
    assert other.minutes.value() == 20
    assert other.feedback_table.item(1, 1).text() == "First 10 minutes only"
    assert other.steps_table.item(1, 2).text() == "After two weeks if easy"
    assert other.save()["wording"]["cues"] == ["Quick light steps", "Land under your hips"]
    other.shutdown()


def test_damaged_existing_record_starts_fresh_with_message(panel) -> None:
    panel.set_context(165.0, (8, 8), None, None, {"baseline_spm": "garbage"})
    assert "damaged" in panel.error_label.text()
    assert "173 spm" in panel.target_label.text()


def test_custom_existing_record_reloads_as_custom(panel) -> None:
    panel.set_context(160.0, (8, 8), None, None, None)
    panel.custom_button.click()
    panel.custom_spin.setValue(6.0)
    data = panel.save()
    assert data["custom"] and data["target_spm"] == 170  # 169.6
    panel.set_context(160.0, (8, 8), None, None, data)
    assert panel.custom_button.isChecked() and panel.custom_spin.value() == 6.0


def test_metronome_embedded_runs_visual_beat(panel, qtbot) -> None:
    panel.set_context(165.0, (8, 8), None, None, None)
    panel.show()
    panel.metronome.start()
    qtbot.waitUntil(lambda: panel.metronome.current_beat() >= 1, timeout=3000)
    panel.close()
    assert not panel.metronome.is_running()


def test_export_in_background_wav(panel, qtbot, tmp_path: Path) -> None:
    panel.set_context(170.0, (8, 8), None, None, None)  # target 179 (178.5 rounds up)
    out = tmp_path / "home.wav"
    progress: list[int] = []
    panel.export_progress.connect(progress.append)
    with qtbot.waitSignal(panel.export_finished, timeout=20000) as sig:
        panel.start_export(out, minutes=0.5)
    assert sig.args == [str(out)]
    assert progress[-1] == 100 and not panel.export_running()
    with wave.open(str(out)) as w:
        assert w.getframerate() == 44100 and w.getnframes() == 30 * 44100
    x, sr = read_audio(out)
    assert len(detect_onsets(x, sr)) == 90  # 179 beats a minute: beats 0..89 within 30 s
    assert panel.export_button.isEnabled()


def test_export_compressed_and_errors(panel, qtbot, tmp_path: Path) -> None:
    panel.set_context(165.0, (8, 8), None, None, None)
    with qtbot.waitSignal(panel.export_finished, timeout=20000):
        panel.start_export(tmp_path / "home.m4a", minutes=0.1)
    x, sr = read_audio(tmp_path / "home.m4a")
    assert sr == 44100 and abs(len(x) / sr - 6.0) < 0.1
    with qtbot.waitSignal(panel.export_failed, timeout=5000) as sig:
        panel.start_export(tmp_path / "home.ogg", minutes=0.1)
    assert ".wav" in sig.args[0] and ".wav" in panel.export_status.text()


def test_follow_up_below_target_proposes_the_same_target_again(qtbot) -> None:
    from ui.prescription_panel import PrescriptionPanel

    panel = PrescriptionPanel()
    qtbot.addWidget(panel)
    panel.set_context(163.0, (9, 9), 10.0, 171, None)
    assert panel.current_plan().target_spm == 171  # not reached: keep 171, not 163 + 5 %
    panel.set_context(172.0, (9, 9), 10.0, 171, None)
    assert panel.current_plan().target_spm == 181  # reached: next step from today's cadence
