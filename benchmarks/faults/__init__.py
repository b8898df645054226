"""Fault-injection cases for ``benchmarks/reliability.py``, one module per area.

Each module defines ``CASES``: a mapping from a case name to ``run(work: Path, seed: int) ->
dict[str, object]``, which injects one kind of fault into a throwaway clinic under ``work`` and
returns counts for the JSON (for example ``{"restore_foreign_files_touched": 0}``). A case that
needs a child process registers it in the module's ``CHILDREN`` (name -> function taking
strings), started as ``python benchmarks/reliability.py NAME ARGS...``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path

CaseFn = Callable[[Path, int], dict[str, object]]


def _modules() -> list:  # type: ignore[type-arg]
    return [
        importlib.import_module(f"{__name__}.{m.name}")
        for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)
        if not m.name.startswith("_")
    ]


def all_cases() -> dict[str, CaseFn]:
    cases: dict[str, CaseFn] = {}
    for mod in _modules():
        cases.update(getattr(mod, "CASES", {}))
    return cases


def all_children() -> dict[str, Callable[..., None]]:
    children: dict[str, Callable[..., None]] = {}
    for mod in _modules():
        children.update(getattr(mod, "CHILDREN", {}))
    return children
