"""The log file a clinic can send to support: rotating, owner-only, ids only.

The windowed Windows build has no console, so without a file an unexpected error on a clinic
PC is lost. :func:`install_file_log` adds one rotating file under ``<data folder>/logs``.

What is logged is ids, kinds and error codes, never patient names or health data: the code
logs ids on purpose, SQLAlchemy's statement parameters are hidden (``hide_parameters``), and
:class:`NoRowData` drops SQLAlchemy's DEBUG result rows. That filter sits on the SQLAlchemy
loggers (so it guards every handler) *and* on the file handler itself (so a record that reaches
the file by another route is dropped too).
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
from pathlib import Path

LOG_FILE = "stride-clinic.log"
MAX_BYTES = 1_000_000
BACKUPS = 4  # five files of 1 MB at most


class NoRowData(logging.Filter):
    """Drop SQLAlchemy's DEBUG "Row (...)" records: they print patient names and notes.

    ``hide_parameters`` already keeps statement parameters out of logs and errors; result rows
    are logged separately when someone turns the engine logger up to DEBUG.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Row"))


def protect_logs() -> None:
    """Put :class:`NoRowData` on SQLAlchemy's engine loggers (idempotent)."""
    for name in ("sqlalchemy.engine.Engine", "sqlalchemy.engine"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, NoRowData) for f in logger.filters):
            logger.addFilter(NoRowData())


class _OwnerOnlyFile(logging.handlers.RotatingFileHandler):
    """A rotating file whose every generation is created readable by its owner only."""

    def _open(self):  # type: ignore[no-untyped-def]
        # Created with 0o600 from the start (no window in which another user could open it).
        fd = os.open(self.baseFilename, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600)
        with contextlib.suppress(OSError):  # a file system without modes
            os.chmod(self.baseFilename, 0o600)  # an older file made before this version
        return os.fdopen(fd, self.mode, encoding=self.encoding, errors=self.errors)


def log_path(root: Path) -> Path:
    """Where the log file of the data folder ``root`` lives."""
    return Path(root) / "logs" / LOG_FILE


def install_file_log(root: Path, *, level: int = logging.INFO) -> Path:
    """Log to ``<root>/logs/stride-clinic.log`` (rotating, owner-only); returns the path.

    Idempotent for one path; a second data folder replaces the first one's handler.
    """
    path = log_path(root)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    protect_logs()
    logger = logging.getLogger()
    for h in list(logger.handlers):
        if isinstance(h, _OwnerOnlyFile):
            if Path(h.baseFilename) == path.resolve():
                return path
            logger.removeHandler(h)
            h.close()
    handler = _OwnerOnlyFile(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    handler.setLevel(level)
    handler.addFilter(NoRowData())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    if logger.level > level or logger.level == logging.NOTSET:
        logger.setLevel(level)
    return path


def current_log_path() -> Path | None:
    """The file the root logger writes to, None when no log file is installed."""
    for h in logging.getLogger().handlers:
        if isinstance(h, _OwnerOnlyFile):
            return Path(h.baseFilename)
    return None
