"""app/ must run without a screen: no Qt, pyqtgraph or ui import anywhere in it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "ui")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _dynamic_imports(path: Path) -> set[str]:
    """Top-level names given as a literal to ``import_module(...)`` or ``__import__(...)``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        first = node.args[0]
        if (
            called in ("import_module", "__import__", "find_spec")
            and isinstance(first, ast.Constant)
            and isinstance(first.value, str)
        ):
            names.add(first.value.split(".")[0])
    return names


def test_no_app_module_imports_qt_or_ui_dynamically() -> None:
    offenders = {
        str(p.relative_to(APP.parent)): sorted(_dynamic_imports(p) & set(FORBIDDEN))
        for p in APP.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_dynamic_check_sees_both_spellings(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import importlib\nimportlib.import_module('ui.home_program')\n__import__('PySide6.QtGui')\n",
        encoding="utf-8",
    )
    assert _dynamic_imports(bad) == {"ui", "PySide6"}


def test_no_app_module_imports_qt_statically() -> None:
    offenders = {
        str(p.relative_to(APP.parent)): sorted(_imports(p) & set(FORBIDDEN))
        for p in APP.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_every_app_module_imports_with_qt_blocked() -> None:
    """Import every app module in a fresh interpreter where Qt imports fail."""
    code = (
        r"""
import importlib, pkgutil, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in %r:
            raise ImportError('blocked: ' + name)
        return None
sys.meta_path.insert(0, Block())
import app
bad = []
for m in pkgutil.walk_packages(app.__path__, 'app.'):
    if '.migrations' in m.name:
        continue
    try:
        importlib.import_module(m.name)
    except ImportError as e:
        if 'blocked' in str(e):
            bad.append((m.name, str(e)))
print(bad)
sys.exit(1 if bad else 0)
"""
    ).replace("%r", repr(FORBIDDEN))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stdout + result.stderr
