"""Gait analysis: keypoint tracks, automatic foot-contact detection and gait metrics."""
