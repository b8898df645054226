"""Cadence prescription: rules (target, warnings, follow-up), the plan, and metronome audio.

Pure logic: no Qt here. The Qt widgets live in ``ui/metronome_widget.py`` and
``ui/prescription_panel.py``.
"""

from __future__ import annotations

from app.prescription.plan import (
    CadencePlan,
    FeedbackPhase,
    PatientWording,
    PlanStep,
    PracticeDose,
    build_plan,
    plan_for,
)
from app.prescription.rules import (
    Baseline,
    FollowUp,
    FollowUpStatus,
    Prescription,
    PrescriptionError,
    PrescriptionSettings,
    PrescriptionWarning,
    WarningCode,
    assess_follow_up,
    baseline_from_measurement,
    baseline_typed,
    prescribe,
    target_spm,
)

__all__ = [
    "Baseline",
    "CadencePlan",
    "FeedbackPhase",
    "FollowUp",
    "FollowUpStatus",
    "PatientWording",
    "PlanStep",
    "PracticeDose",
    "Prescription",
    "PrescriptionError",
    "PrescriptionSettings",
    "PrescriptionWarning",
    "WarningCode",
    "assess_follow_up",
    "baseline_from_measurement",
    "baseline_typed",
    "build_plan",
    "plan_for",
    "prescribe",
    "target_spm",
]
