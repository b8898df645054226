"""Practice on the treadmill with live cadence feedback (issue 19), without Qt.

* :mod:`.live_cadence` — the streaming cadence estimator (frames in, an estimate per step).
* :mod:`.live` — the analysis thread and the camera tap that feeds it every frame.
* :mod:`.session` — the faded-feedback schedule, the session clock and its 1 Hz record.
* :mod:`.store` — saving sessions with the visit; :mod:`.report` — summaries and sentences.
* :mod:`.footage` — test footage: a clip and the same clip re-timed, spliced.
"""
