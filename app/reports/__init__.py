"""Printed reports: the patient's home program and the exercise library (Qt-free).

Rendering to paper and PDF needs Qt and lives in :mod:`ui.home_program`.
"""

from __future__ import annotations
