"""PyInstaller hook for MediaPipe 0.10.21 as Stride Clinic uses it (``solutions.pose`` only).

PyInstaller and its contributed hooks have no MediaPipe hook. The pose solution loads its graph
(``pose_landmark_cpu.binarypb``) and two models (``pose_detection.tflite``,
``pose_landmark_full.tflite``) from files under ``mediapipe/modules/`` at run time, so they
must be copied as data. Only the pose folders are taken: the hand, face, iris, selfie and
objectron models (about 20 MB) are never loaded by Stride Clinic.
"""

from __future__ import annotations

from PyInstaller.utils.hooks import collect_data_files, collect_dynamic_libs

POSE_MODULES = ("pose_detection", "pose_landmark")

datas = collect_data_files(
    "mediapipe",
    includes=[f"modules/{name}/*.tflite" for name in POSE_MODULES]
    + [f"modules/{name}/*.binarypb" for name in POSE_MODULES],
)
binaries = collect_dynamic_libs("mediapipe")
