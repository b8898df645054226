"""Reliability and data safety: backups, integrity checks, accounts, audit trail, conflicts.

Pure domain logic (no Qt). The Qt side lives in ``ui/backup_dialog.py``, ``ui/sign_in.py`` and
``ui/audit_view.py``.
"""
