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

import contextlib
import errno
import os
import stat
import sys
import tempfile
import uuid
import wave
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from app.errors import ClinicError
from app.paths import fsync_dir

STDOUT = "-"
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
_DB_SUFFIXES = ("", "-wal", "-shm", "-journal")

Check = Callable[[Path], None]


class OutputError(ClinicError):
    """A file could not (or must not) be written. ``message`` is one sentence for the clinician."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- which targets are allowed ------------------------------------------------------------------


def _abs(path: str | os.PathLike[str]) -> Path:
    """Absolute, ``..``-free path without following a final symlink (we must see the link)."""
    p = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
    try:
        return p.parent.resolve() / p.name
    except (OSError, RuntimeError):
        return p


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


@dataclass(frozen=True)
class OutputRules:
    """What a writer may replace or create. Build with :meth:`for_data_folder` for the clinic."""

    protected_files: tuple[Path, ...] = ()
    """Inputs of the command and the database files: never written."""
    protected_dirs: tuple[Path, ...] = ()
    """The data folder and the videos folder: nothing inside is written..."""
    managed_dirs: tuple[Path, ...] = ()
    """...except inside these (the program's own locations, e.g. the stills folder)."""
    force: bool = False
    """Replace an existing regular file (otherwise refused)."""
    parents: bool = False
    """Create missing parent folders (otherwise refused)."""
    database_files: tuple[Path, ...] = ()
    """The clinic database and its -wal/-shm/-journal companions: never written."""

    @classmethod
    def for_data_folder(
        cls,
        root: str | os.PathLike[str] | None,
        *,
        database: str | os.PathLike[str] | None = None,
        videos_root: str | os.PathLike[str] | None = None,
        inputs: Iterable[str | os.PathLike[str] | None] = (),
        managed: Iterable[str | os.PathLike[str]] = (),
        force: bool = False,
        parents: bool = False,
    ) -> OutputRules:
        """Rules protecting a data folder, its database (default: the folder's SQLite file),
        a videos folder kept elsewhere, and ``inputs``."""
        files: list[Path] = [_abs(p) for p in inputs if p]
        db_files: list[Path] = []
        dirs: list[Path] = []
        if root is not None:
            dirs.append(_real(_abs(root)))
            if database is None:
                from app.paths import DataFolder

                database = DataFolder(Path(root)).database
        if database is not None:
            db_files += _db_family(database)
        if videos_root:
            dirs.append(_real(_abs(videos_root)))
        return cls(
            protected_files=tuple(files),
            database_files=tuple(db_files),
            protected_dirs=tuple(dirs),
            managed_dirs=tuple(_real(_abs(m)) for m in managed),
            force=force,
            parents=parents,
        )

    def with_inputs(self, *inputs: str | os.PathLike[str] | None) -> OutputRules:
        return replace(
            self, protected_files=self.protected_files + tuple(_abs(p) for p in inputs if p)
        )

    def with_managed(self, *folders: str | os.PathLike[str]) -> OutputRules:
        return replace(
            self, managed_dirs=self.managed_dirs + tuple(_real(_abs(m)) for m in folders)
        )

    def check(self, path: str | os.PathLike[str]) -> Path:
        """The absolute target if it may be written; otherwise :class:`OutputError` saying why.

        Checked again just before the final rename (the folder may change while we write).
        """
        if os.fspath(path) == "":
            raise OutputError("Please give a file name to write.")
        target = _abs(path)
        name = target.name
        if os.path.islink(target):
            raise OutputError(
                f"{target} is a link to another file; Stride Clinic does not write through "
                "links. Give the real file name or another name."
            )
        real = _real(target)
        for f in self.database_files + self.protected_files:
            if real == _real(f) or (target.exists() and _same_file(target, f)):
                what = (
                    "the clinic database"
                    if f in self.database_files
                    else "an input of this command"
                )
                raise OutputError(
                    f"{target} is {what}; writing there would destroy it. Choose another file name."
                )
        if any(_inside(real, d) for d in self.protected_dirs) and not any(
            _inside(real, m) for m in self.managed_dirs
        ):
            raise OutputError(
                f"{target} is inside Stride Clinic's data folder, which only the program itself "
                "may change. Save the file somewhere else, e.g. your Documents folder."
            )
        if target.exists() or os.path.lexists(target):
            try:
                st = os.stat(target)
            except OSError as exc:
                raise OutputError(f"{target} cannot be checked: {exc.strerror or exc}.") from exc
            if stat.S_ISDIR(st.st_mode):
                raise OutputError(f"{target} is a folder: give a file name inside it.")
            if not stat.S_ISREG(st.st_mode):
                raise OutputError(
                    f"{target} is not an ordinary file (a device or a pipe); choose a file name."
                )
            if not self.force:
                raise OutputError(
                    f"{target} already exists and was left unchanged. Choose another name, or "
                    "use --force to replace it."
                )
        parent = target.parent
        if not parent.exists():
            if not self.parents:
                raise OutputError(
                    f"The folder {parent} does not exist. Create it first, or use --parents to "
                    "let Stride Clinic create it."
                )
        elif not parent.is_dir():
            raise OutputError(f"{parent} is not a folder, so {name} cannot be saved in it.")
        return target


def _db_family(database: str | os.PathLike[str]) -> list[Path]:
    db = _abs(database)
    return [db.with_name(db.name + s) for s in _DB_SUFFIXES]


def rules_for_clinic(
    clinic: object,
    *,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    managed: Iterable[str | os.PathLike[str]] = (),
    force: bool = False,
    parents: bool = False,
) -> OutputRules:
    """:class:`OutputRules` for an open :class:`app.clinic.Clinic` (data folder, its database
    wherever the settings put it, the videos folder)."""
    folder = clinic.folder  # type: ignore[attr-defined]
    db = getattr(clinic.db, "sqlite_path", None)  # type: ignore[attr-defined]
    return OutputRules.for_data_folder(
        folder.root,
        database=db or folder.database,
        videos_root=getattr(clinic, "videos_root", None),
        inputs=inputs,
        managed=managed,
        force=force,
        parents=parents,
    )


def rules_for_home(
    *,
    demo: bool = False,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    force: bool = False,
    parents: bool = False,
) -> OutputRules:
    """Rules for a command that does not open the database (``analyze``): the data folder (real
    and demo), the database named in its settings and its videos folder, read without changing
    anything."""
    from app.paths import data_folder
    from app.settings import Settings

    folder = data_folder(demo=False)
    try:
        settings = Settings.load(folder.settings_file)
        videos = settings.videos_dir if isinstance(settings.videos_dir, str) else ""
        url = settings.database_url if isinstance(settings.database_url, str) else ""
    except Exception:  # a damaged settings file must not stop a protective check
        videos, url = "", ""
    extra_db: list[str] = []
    if url.startswith("sqlite:///"):
        extra_db = [url.removeprefix("sqlite:///")]
    rules = OutputRules.for_data_folder(
        folder.root, videos_root=videos or None, inputs=inputs, force=force, parents=parents
    )
    if extra_db:
        rules = replace(rules, database_files=rules.database_files + tuple(_db_family(extra_db[0])))
    del demo  # the demo clinic lives inside the real data folder, which is protected whole
    return rules


# --- writing ------------------------------------------------------------------------------------


def disk_message(target: Path | str, exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return (
            f"The disk is full, so {target} could not be written (nothing was saved under that "
            "name). Free some space and try again."
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"Stride Clinic may not write {target} ({exc.strerror}). Choose a folder you may "
            "write to, e.g. your Documents folder."
        )
    return f"{target} could not be written: {exc.strerror or exc}."




def _create_temp(folder: Path, name: str, private: bool) -> Path:
    mode = PRIVATE_FILE_MODE if private else 0o666
    for _ in range(10):
        tmp = folder / f".{name[:80]}.{uuid.uuid4().hex[:12]}.partial"
        try:
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode
            )
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise OutputError(f"No temporary file could be created in {folder}.")


class PendingOutput:
    """A file being written: the writer fills :attr:`temp`; the rename happens on success.

    Use through :func:`writing`. :meth:`verify` may be called early (before recording the file
    somewhere); it runs the checks once.
    """

    def __init__(self, target: Path | None, temp: Path, checks: list[Check]) -> None:
        self.target = target
        """The final file, or None for standard output."""
        self.temp = temp
        self._checks = checks
        self._verified = False

    @property
    def display(self) -> str:
        return "the standard output" if self.target is None else str(self.target)

    def verify(self) -> None:
        """fsync the temporary file and run every check; raises :class:`OutputError`."""
        if self._verified:
            return
        name = self.display
        try:
            with open(self.temp, "rb+") as fh:
                fh.flush()
                os.fsync(fh.fileno())
            size = self.temp.stat().st_size
        except OSError as exc:
            raise OutputError(disk_message(name, exc)) from exc
        if size == 0:
            raise OutputError(
                f"Writing {name} produced an empty file (is the disk full?); nothing was saved."
            )
        for check in self._checks:
            try:
                check(self.temp)
            except OutputError as exc:
                raise OutputError(f"{name} was not saved: {exc.message}") from exc
            except OSError as exc:
                raise OutputError(disk_message(name, exc)) from exc
        self._verified = True


@contextlib.contextmanager
def writing(
    path: str | os.PathLike[str],
    rules: OutputRules,
    *,
    private: bool = False,
    check: Check | Iterable[Check] | None = None,
) -> Iterator[PendingOutput]:
    """Write a file safely: ``with writing(p, rules) as out: produce(out.temp)``.

    The target is checked against ``rules`` first. On leaving the block the temporary file is
    fsynced and checked, then renamed onto the target (without replacing a file that appeared
    meanwhile unless ``rules.force``). Any failure removes the temporary file and raises
    :class:`OutputError`; an ``OSError`` inside the block becomes one too ("the disk is full").
    ``-`` writes the finished, checked bytes to standard output.
    """
    checks: list[Check] = [check] if callable(check) else list(check or [])
    to_stdout = os.fspath(path) == STDOUT
    if to_stdout:
        target = None
        folder = Path(tempfile.gettempdir())
        name = "stdout"
    else:
        target = rules.check(path)
        folder = target.parent
        if not folder.exists():  # rules.check allowed it: parents=True
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputError(
                    f"The folder {folder} could not be created: {exc.strerror or exc}."
                ) from exc
        name = target.name
    try:
        temp = _create_temp(folder, name, private)
    except OSError as exc:
        raise OutputError(disk_message(target or "the output", exc)) from exc
    pending = PendingOutput(target, temp, checks)
    try:
        try:
            yield pending
            pending.verify()
            if private:
                os.chmod(temp, PRIVATE_FILE_MODE)  # a tool that recreated the file lost the mode
            if target is None:
                _copy_to_stdout(temp)
            else:
                _commit(temp, rules, target)
        except OSError as exc:
            raise OutputError(disk_message(pending.display, exc)) from exc
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


def _commit(temp: Path, rules: OutputRules, target: Path) -> None:
    rules.check(target)  # again: a link or a protected file may have appeared meanwhile
    if rules.force:
        os.replace(temp, target)
    else:
        try:
            os.link(temp, target)  # fails if the name was taken meanwhile: never overwrites
        except FileExistsError:
            raise OutputError(
                f"{target} appeared while it was being written and was left unchanged. "
                "Choose another name."
            ) from None
        except OSError:  # no hard links here (FAT/exFAT sticks): check-then-rename instead
            if os.path.lexists(target):
                raise OutputError(f"{target} already exists and was left unchanged.") from None
            os.rename(temp, target)
    fsync_dir(target.parent)


def _copy_to_stdout(temp: Path) -> None:
    out = getattr(sys.stdout, "buffer", None)
    try:
        with open(temp, "rb") as fh:
            data = fh.read()
        if out is None:
            sys.stdout.write(data.decode("utf-8"))
        else:
            out.write(data)
        sys.stdout.flush()
    except OSError as exc:
        raise OutputError(disk_message("the standard output", exc)) from exc


def write_bytes(
    path: str | os.PathLike[str],
    data: bytes,
    rules: OutputRules,
    *,
    private: bool = False,
    check: Check | Iterable[Check] | None = None,
) -> Path | None:
    """Write ``data`` (read back and compared before the rename). Returns the file, or None
    for standard output. Raises :class:`OutputError`."""
    if not data:
        raise OutputError("There is nothing to write.")
    checks: list[Check] = [check] if callable(check) else list(check or [])
    with (
        writing(path, rules, private=private, check=[read_back(data), *checks]) as out,
        open(out.temp, "wb") as fh,
    ):
        fh.write(data)
    return out.target


def write_text(
    path: str | os.PathLike[str],
    text: str,
    rules: OutputRules,
    *,
    encoding: str = "utf-8",
    private: bool = False,
) -> Path | None:
    """:func:`write_bytes` for text (``encoding="utf-8-sig"`` for spreadsheet CSV)."""
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise OutputError(f"The text cannot be saved as {encoding}: {exc.reason}.") from exc
    return write_bytes(path, data, rules, private=private)


# --- result checks ------------------------------------------------------------------------------


def read_back(expected: bytes) -> Check:
    """A check that the file holds exactly ``expected``."""

    def check(path: Path) -> None:
        if path.read_bytes() != expected:
            raise OutputError("what was read back differs from what was written (disk error?).")

    return check


def check_pdf(path: Path) -> None:
    """A complete PDF: starts with ``%PDF-`` and ends with ``%%EOF``."""
    with open(path, "rb") as fh:
        head = fh.read(5)
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 1024))
        tail = fh.read()
    if head != b"%PDF-" or b"%%EOF" not in tail:
        raise OutputError("the PDF is incomplete (the disk may be full).")


def check_png(path: Path) -> None:
    """A complete PNG: the signature and the final ``IEND`` chunk."""
    with open(path, "rb") as fh:
        head = fh.read(8)
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 12))
        tail = fh.read()
    if head != b"\x89PNG\r\n\x1a\n" or b"IEND" not in tail:
        raise OutputError("the picture is incomplete (the disk may be full).")


def check_zip(path: Path) -> None:
    """A readable zip (also .xlsx): every member's CRC checks out."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, EOFError) as exc:
        raise OutputError("the file is incomplete (the disk may be full).") from exc
    if bad is not None:
        raise OutputError(f"the part {bad} of the file is damaged (disk error?).")


def check_wav(frames: int, sample_rate: int) -> Check:
    """A WAV whose header is readable and announces ``frames`` samples at ``sample_rate``, with
    the data really present."""

    def check(path: Path) -> None:
        try:
            with wave.open(str(path), "rb") as w:
                n, sr, width, ch = (
                    w.getnframes(),
                    w.getframerate(),
                    w.getsampwidth(),
                    w.getnchannels(),
                )
        except (wave.Error, EOFError) as exc:
            raise OutputError("the sound file's header is damaged.") from exc
        if n != frames or sr != sample_rate:
            raise OutputError(f"the sound file holds {n} samples, {frames} were expected.")
        if path.stat().st_size < 44 + n * width * ch:
            raise OutputError("the sound file is shorter than its header says (disk full?).")

    return check


def check_audio_duration(seconds: float, tolerance_s: float = 0.5) -> Check:
    """A compressed audio file (M4A, MP3) that opens and lasts ``seconds`` (± ``tolerance_s``)."""

    def check(path: Path) -> None:
        import av

        try:
            with av.open(str(path)) as c:
                if not c.streams.audio:
                    raise OutputError("the sound file holds no sound.")
                s = c.streams.audio[0]
                if s.duration is not None and s.time_base is not None:
                    got = float(s.duration * s.time_base)
                elif c.duration is not None:
                    got = c.duration / 1_000_000
                else:
                    got = _decoded_seconds(c)
        except OutputError:
            raise
        except Exception as exc:  # PyAV's errors: the file is unreadable
            raise OutputError("the sound file cannot be read back (the disk may be full).") from exc
        if abs(got - seconds) > tolerance_s:
            raise OutputError(f"the sound file lasts {got:.1f} s, {seconds:.1f} s were expected.")

    return check


def _decoded_seconds(container) -> float:  # type: ignore[no-untyped-def]
    s = container.streams.audio[0]
    n = sum(f.samples for f in container.decode(s))
    return n / float(s.rate or 1)


# --- owner-only files and folders (media outside the data folder) --------------------------------


def restrict_to_owner(path: str | os.PathLike[str]) -> None:
    """Make ``path`` owner-only: 0600 for a file, 0700 for a folder (POSIX; no-op elsewhere).

    For media copied to a ``videos_dir`` outside the (already owner-only) data folder, so a
    patient's video is never readable by other users of the computer.
    """
    if os.name != "posix":
        return
    p = Path(path)
    mode = PRIVATE_DIR_MODE if p.is_dir() else PRIVATE_FILE_MODE
    os.chmod(p, mode)


def make_private_dirs(folder: str | os.PathLike[str], *, below: str | os.PathLike[str]) -> Path:
    """Create ``folder`` (and missing parents up to ``below``) owner-only (0700) and return it.

    Folders that already existed between ``below`` and ``folder`` are tightened too; ``below``
    itself (e.g. the clinic's configured videos folder) is tightened only when it was created.
    """
    folder = Path(folder)
    base = Path(below)
    created_base = not base.exists()
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    if os.name == "posix":
        p = folder
        while p != base and p.is_relative_to(base) and p != p.parent:
            os.chmod(p, PRIVATE_DIR_MODE)
            p = p.parent
        if created_base:
            os.chmod(base, PRIVATE_DIR_MODE)
    return folder
