"""Every file the program writes for the clinician goes through here: checked, atomic, honest.

One module for the command line (``analyze --json``, ``program --out``, ``metronome --out``)
and the desktop program's exports (PDFs, metronome audio, history CSV/Excel, research export,
audit CSV, stills), so the same rules hold everywhere:

* **Never overwrite what must not be overwritten.** An input of the same command, the clinic
  database (and its ``-wal``/``-shm``/``-journal`` files) and anything inside the data folder or
  the videos folder are refused, except the program's own *managed* locations inside it (the
  stills folder, the kept copies of printed programs), which the caller names explicitly.
  Protected files are compared by identity (device and inode) as well as by resolved path, so a
  hard link or ``./`` spelling does not slip past.
* **An existing file is kept unless asked** (``force``; the file dialogs ask the clinician
  themselves and pass ``force=True``). A symbolic link is never a target (writing through it
  would change a file elsewhere), nor is anything but a regular file (``/dev/full``, a FIFO).
* **Missing folders are not created unless asked** (``parents``).
* **Write to a temporary name in the same folder, flush, fsync, check, then rename.** A crash
  or a full disk leaves the old file (or nothing), never half a file under the real name.
  Before the rename the result is checked (size > 0 and a format check: ``%%EOF`` for PDF, the
  WAV header's frame count, a read-back of the bytes...) and a failed check raises
  :class:`OutputError` with a plain message: no writer may report success for a file it did not
  write. Callers that keep a record of the file (the printed home program) do so *inside*
  :func:`writing`, after :meth:`PendingOutput.verify`, so nothing is recorded for a failed write.
* ``-`` means standard output (for formats that make sense there).
* Files that hold names or health data are created owner-only (``private=True``: mode 0600).

Why /dev/full hung: the PDF writer read its own output back (to repair Qt's text maps) and a
read of ``/dev/full`` never ends (it returns zeros forever). Non-regular targets are now refused
before anything is written, and the repair runs on the regular temporary file.
"""

from __future__ import annotations

from app.outputs.base import (
    PRIVATE_DIR_MODE,
    PRIVATE_FILE_MODE,
    STDOUT,
    Check,
    OutputError,
    make_private_dirs,
    restrict_to_owner,
)
from app.outputs.checks import (
    check_audio_duration,
    check_pdf,
    check_png,
    check_wav,
    check_zip,
    read_back,
)
from app.outputs.rules import (
    OutputRules,
    rules_for_clinic,
    rules_for_home,
)
from app.outputs.writing import (
    PendingOutput,
    disk_message,
    write_bytes,
    write_text,
    writing,
)

__all__ = [
    "Check",
    "OutputError",
    "OutputRules",
    "PRIVATE_DIR_MODE",
    "PRIVATE_FILE_MODE",
    "PendingOutput",
    "STDOUT",
    "check_audio_duration",
    "check_pdf",
    "check_png",
    "check_wav",
    "check_zip",
    "disk_message",
    "make_private_dirs",
    "read_back",
    "restrict_to_owner",
    "rules_for_clinic",
    "rules_for_home",
    "write_bytes",
    "write_text",
    "writing",
]
