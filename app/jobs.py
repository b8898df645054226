"""The one spelling of the long-job contract in ``app/``.

A long function takes ``progress`` (called with a fraction in [0, 1], from any thread) and
``cancelled`` (polled; True means stop early and raise the module's cancel error). The same
names are used by :class:`ui.tasks.BackgroundTask`'s ``job(progress, cancelled)``.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float], None]
"""``progress(fraction)``: how far the job is, 0..1."""

CancelCheck = Callable[[], bool]
"""``cancelled()``: True once the clinician asked to stop."""
