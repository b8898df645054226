"""Clinic records: validated create/read/update/delete of patients, visits and recordings."""

from app.records.validation import ValidationError

__all__ = ["ValidationError"]
