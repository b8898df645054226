"""The click track: what is heard at every sample, rendered ahead and re-rendered on change."""

from __future__ import annotations

import numpy as np
import pytest

from app.prescription.click_track import ClickTrack
from app.prescription.metronome import MetronomeError, MetronomeStream, detect_onsets

SR = 44100


def _onsets(x: np.ndarray, offset: int = 0) -> np.ndarray:
    return np.rint(detect_onsets(x.astype(float), SR) * SR).astype(int) + offset


def test_same_signal_as_the_stream_and_any_block_split_renders_the_same() -> None:
    track = ClickTrack(172, SR, accent_every=4)
    whole = track.render(0, SR * 20)
    assert np.array_equal(whole, MetronomeStream(172, SR, 4).read(SR * 20))
    cuts = [0, 1, 999, 15381, 15382, 44100, 300000, SR * 20]
    parts = np.concatenate([track.render(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True)])
    assert np.array_equal(parts, whole)


def test_grid_is_computed_not_accumulated_over_an_hour() -> None:
    track = ClickTrack(173, SR)
    beats = track.beats(3600 * SR - 2 * SR, 3600 * SR)
    for b in beats:
        assert b.sample == round(b.number * SR * 60 / 173)


def test_tempo_change_from_the_first_sample_not_taken_keeps_phase() -> None:
    track = ClickTrack(120, SR)  # beats every 22050
    before = track.render(0, 30000)
    track.set_bpm(150, 30000)  # last beat before: 22050 -> next one 17640 later
    after = track.render(30000, 30000 + SR * 2)
    assert np.array_equal(track.render(0, 30000), before)  # the past is not rewritten
    on = _onsets(after, 30000)
    assert abs(on[0] - (22050 + 17640)) <= 10 and np.all(np.abs(np.diff(on) - 17640) <= 1)
    # slowing down: no old-tempo beat survives between the change and the new next beat
    track.set_bpm(100, 45000)
    nxt = track.beats(45000, 45000 + SR)
    assert nxt[0].sample == 22050 + 17640 + round(SR * 60 / 100)


def test_cue_off_and_on_mutes_whole_beats_and_the_grid_goes_on() -> None:
    track = ClickTrack(120, SR)
    track.set_cue(False, 30000, [(100000, True)])
    on = _onsets(track.render(0, SR * 4)) // 22050
    assert list(on) == [0, 1, 5, 6, 7]  # 44100, 66150, 88200 silent; back on the grid
    assert not track.cue_at(50000) and track.cue_at(100000)
    b = track.beat_at(50000)
    assert b is not None and b.number == 2 and not b.audible
    # a click already begun is not cut by a switch inside it
    t2 = ClickTrack(120, SR)
    t2.set_cue(False, 22050 + 100)
    x = t2.render(22050, 22050 + t2.click_length)
    assert np.array_equal(x, ClickTrack(120, SR).render(22050, 22050 + t2.click_length))


def test_replanning_replaces_only_what_comes_after() -> None:
    track = ClickTrack(120, SR)
    track.set_cue(True, 0, [(50000, False), (90000, True)])
    track.set_cue(True, 60000, [(130000, False)])  # the plan changed at 60000
    assert not track.cue_at(55000)  # before the change: as planned then
    assert track.cue_at(70000) and track.cue_at(120000) and not track.cue_at(140000)


def test_volume_and_accent_changes_apply_from_then_on() -> None:
    track = ClickTrack(120, SR, volume=0.8)
    track.set_volume(0.0, 30000)
    track.set_accent_every(2, 30000)
    assert track.render(0, 30000).any() and not track.render(30000, SR * 3).any()
    assert track.beat_at(44100).accent and not track.beat_at(22050).accent


def test_forget_before_keeps_what_is_still_to_be_heard() -> None:
    track = ClickTrack(120, SR)
    for k in range(1, 40):
        track.set_cue(k % 2 == 0, k * SR)
        track.set_bpm(120 + k, k * SR + 7)
    ahead = track.render(35 * SR, 40 * SR)
    track.forget_before(35 * SR)
    assert len(track._gate) <= 11 and len(track._segments) <= 11  # of 40: the last 4 s and on
    assert np.array_equal(track.render(35 * SR, 40 * SR), ahead)


@pytest.mark.parametrize("kwargs", [{"bpm": 10}, {"bpm": 120, "volume": 2}, {"bpm": 120, "accent_every": -1}])
def test_bad_settings_are_plain_errors(kwargs) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MetronomeError):
        ClickTrack(sample_rate=SR, **kwargs)
