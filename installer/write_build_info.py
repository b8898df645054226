"""Write ``resources/build_info.json``: the version and build date baked into a bundle.

Run by ``installer/build_linux.sh`` (and by hand before a Windows/macOS build) with the build
venv's Python, so the version is the installed package's. The file is git-ignored; the spec
bundles it with the other resources. The program can show it in About / ``--version`` with
``json.loads(resource_path("build_info.json").read_text())`` when the file exists.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _git_commit() -> str:
    """Short commit of the tree being built, "+dirty" when it has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"  # building from a source archive without git
    return commit + ("+dirty" if dirty else "")


def build_info() -> dict[str, str]:
    """The facts written into the bundle."""
    try:
        ver = version("stride-clinic")
    except PackageNotFoundError:
        ver = "unknown"
    return {
        "name": "Stride Clinic",
        "version": ver,
        "build_date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "platform": f"{sys.platform}-{platform.machine()}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "resources" / "build_info.json")
    args = parser.parse_args(argv)
    info = build_info()
    args.out.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    print(f"write_build_info: {args.out}: {info['version']} built {info['build_date']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
