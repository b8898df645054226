"""A throwaway PostgreSQL server for tests and benchmarks (a real server, not a mock).

``PostgresServer.start()`` runs ``initdb`` into a fresh temporary folder and ``pg_ctl start`` on a
free loopback port (Unix socket in the same folder, trust authentication, fsync off: nothing in
it needs to survive). ``initdb`` refuses to run as root, so as root the server runs as the
``postgres`` system user (created by Debian's ``postgresql`` package, which
``scripts/bootstrap.sh`` installs when missing). ``stop()`` stops it and deletes the folder.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path


def find_bin(name: str) -> str | None:
    """``name`` from PATH or from Debian's versioned folder (highest version)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return candidates[-1] if candidates else None


def unavailable_reason() -> str | None:
    """Why a server cannot be started here, or None when it can."""
    if find_bin("initdb") is None or find_bin("pg_ctl") is None:
        return (
            "PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's "
            "'postgresql' package (scripts/bootstrap.sh does so when run as root)"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the psycopg driver is not installed (run scripts/bootstrap.sh)"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One private server; use as a context manager or call start()/stop()."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="stride-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0
        self.started = False

    def _run(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)

    def start(self) -> PostgresServer:
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
        r = self._run(
            str(initdb), "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed: {r.stderr.strip() or r.stdout.strip()}")
        opts = (
            f"-p {self.port} -h 127.0.0.1 -k {self.root} -F "
            "-c max_connections=40 -c shared_buffers=16MB -c full_page_writes=off"
        )
        r = self._run(
            str(pg_ctl), "-D", str(self.data), "-l", str(self.root / "server.log"),
            "-w", "-t", "60", "-o", opts, "start",
        )  # fmt: skip
        if r.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"pg_ctl start failed: {r.stderr.strip()} {log}")
        self.started = True
        return self

    def stop(self) -> None:
        if self.started:
            self._run(
                str(find_bin("pg_ctl")), "-D", str(self.data), "-m", "immediate", "-w", "stop"
            )
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        yield server.start()
    finally:
        server.stop()
