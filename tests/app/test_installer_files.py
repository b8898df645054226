"""Cheap static checks of the installer files (no PyInstaller run; the bundle is tested by
``installer/smoke_test.sh``)."""

from __future__ import annotations

import ast
import configparser
import importlib.util
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALLER = REPO / "installer"
ICONS = REPO / "resources" / "icons"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, INSTALLER / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bundle_config() -> ModuleType:
    return _load("bundle_config")


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
    ]


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def test_spec_parses_and_builds_one_folder() -> None:
    tree = ast.parse((INSTALLER / "stride-clinic.spec").read_text(encoding="utf-8"))
    (analysis,) = _calls(tree, "Analysis")
    assert _calls(tree, "COLLECT"), "one-folder builds end in COLLECT"
    for exe in _calls(tree, "EXE"):
        flag = _kw(exe, "exclude_binaries")
        # one-file builds put the binaries inside the EXE; ours keeps them in the folder
        assert isinstance(flag, ast.Constant) and flag.value is True
    assert _kw(analysis, "hookspath") is not None
    assert _kw(analysis, "excludes") is not None
    (bundle,) = _calls(tree, "BUNDLE")  # the macOS .app
    plist = _kw(bundle, "info_plist")
    assert isinstance(plist, ast.Dict)
    keys = {k.value for k in plist.keys if isinstance(k, ast.Constant)}
    assert "NSCameraUsageDescription" in keys
    assert "NSMicrophoneUsageDescription" not in keys  # no audio capture


def test_spec_references_existing_files() -> None:
    text = (INSTALLER / "stride-clinic.spec").read_text(encoding="utf-8")
    for rel in (
        "installer/stride_clinic_main.py",
        "installer/hooks/rthook_stride_clinic.py",
        "installer/hooks/rthook_smoke.py",
        "installer/hooks/hook-mediapipe.py",
        "app/db/migrations/script.py.mako",
        "app/db/migrations/env.py",
        "resources/icons/stride-clinic.ico",
        "resources/icons/stride-clinic.icns",
    ):
        assert (REPO / rel).is_file(), rel
    for name in ("rthook_stride_clinic.py", "rthook_smoke.py", "stride_clinic_main.py"):
        assert name in text
    assert '"app" / "db" / "migrations"' in text


def test_excluded_modules_are_not_imported_by_the_program(bundle_config: ModuleType) -> None:
    """Import every app/ and ui/ module (as the bundle's hidden imports do) in a fresh process:
    nothing the spec excludes may be among the loaded modules, or the bundle breaks at run time."""
    assert not set(bundle_config.QT_EXCLUDES) & set(bundle_config.QT_REQUIRED)
    modules = []
    for package in ("app", "ui"):
        for path in sorted((REPO / package).rglob("*.py")):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts)
            if "migrations" not in name:
                modules.append(name.removesuffix(".__init__"))
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    bad = sorted(
        m for m in loaded for ex in bundle_config.EXCLUDES if m == ex or m.startswith(ex + ".")
    )
    assert not bad, f"the spec excludes modules the program imports: {bad}"
    missing = [m for m in bundle_config.QT_REQUIRED if m not in loaded]
    assert not missing or set(missing) <= {"PySide6.QtMultimedia"}  # imported lazily


def test_unused_qt_binary_filter(bundle_config: ModuleType) -> None:
    drop = bundle_config.UNUSED_QT_BINARY.match
    for name in ("libqpdf.so", "libQt6Pdf.so.6", "Qt6Pdf.dll", "libqtvirtualkeyboardplugin.so"):
        assert drop(name), name
    for name in ("libqxcb.so", "libqoffscreen.so", "libqwayland.so", "qwindows.dll", "libqsvg.so"):
        assert not drop(name), name


def test_desktop_entry_is_valid() -> None:
    path = INSTALLER / "stride-clinic.desktop"
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Stride Clinic"
    assert entry["Exec"].split()[0] == "stride-clinic"  # install.sh makes it absolute
    assert entry["Icon"] == "stride-clinic"
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";")
    for action in entry["Actions"].strip(";").split(";"):
        assert parser[f"Desktop Action {action}"]["Exec"].startswith("stride-clinic")
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(
            ["desktop-file-validate", str(path)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_inno_setup_keeps_patient_data_unless_asked() -> None:
    iss = (INSTALLER / "stride-clinic.iss").read_text(encoding="utf-8")
    paths = (REPO / "app" / "paths.py").read_text(encoding="utf-8")
    assert '#define DataFolderName "StrideClinic"' in iss
    assert 'user_data_dir("StrideClinic"' in paths and "roaming=True" in paths  # = {userappdata}
    assert "{userappdata}\\{#DataFolderName}" in iss
    assert "Box.Checked := False" in iss  # the delete box starts unticked
    assert "UninstallSilent()" in iss  # silent uninstalls never delete data
    code = iss[iss.index("[Code]") :]
    # the only deletion of the data folder is behind the clinician's explicit choice
    assert code.count("DelTree(PatientDataDir()") == 1
    guarded = code[code.index("if (CurUninstallStep = usPostUninstall) and DeletePatientData") :]
    assert "DelTree(PatientDataDir()" in guarded
    assert "[UninstallDelete]" in iss
    section = iss[iss.index("[UninstallDelete]") : iss.index("[Code]")]
    assert "userappdata" not in section
    assert 'Name: "desktopicon"' in iss and "Flags: unchecked" in iss
    assert '{group}\\{#AppName}"; Filename: "{app}\\{#AppExe}"' in iss


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_icons_are_committed_and_well_formed() -> None:
    for size in (16, 32, 48, 256, 512):
        assert _png_size((ICONS / f"stride-clinic-{size}.png").read_bytes()) == (size, size)
    ico = (ICONS / "stride-clinic.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1) and count >= 5
    sizes = set()
    for i in range(count):
        w, h, _, _, _, _, length, offset = struct.unpack("<BBBBHHII", ico[6 + 16 * i : 22 + 16 * i])
        assert _png_size(ico[offset : offset + length]) == (w or 256, h or 256)
        sizes.add(w or 256)
    assert {16, 32, 48, 256} <= sizes
    icns = (ICONS / "stride-clinic.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)


def test_build_script_pins_pyinstaller_in_its_own_venv() -> None:
    script = (INSTALLER / "build_linux.sh").read_text(encoding="utf-8")
    assert 'PYINSTALLER_PIN="pyinstaller==6.' in script
    assert "installer/.build-venv" in script and "--frozen" in script
    assert ".build-venv/" in (INSTALLER / ".gitignore").read_text(encoding="utf-8")
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8").lower()
    assert "pyinstaller" not in pyproject  # not a project dependency


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_shell_scripts_parse() -> None:
    for name in ("build_linux.sh", "smoke_test.sh", "install.sh"):
        result = subprocess.run(["bash", "-n", str(INSTALLER / name)], capture_output=True)
        assert result.returncode == 0, (name, result.stderr)


def test_build_info_writer(tmp_path: Path) -> None:
    writer = _load("write_build_info")
    out = tmp_path / "build_info.json"
    assert writer.main(["--out", str(out)]) == 0
    info = json.loads(out.read_text(encoding="utf-8"))
    assert info["version"] and info["version"] != "unknown"
    assert info["build_date"].endswith("Z") and len(info["build_date"]) == 20


_SMOKE_PROGRAM = """
import sys
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget
exec(open(sys.argv[1]).read())
app = QApplication([])
window = QMainWindow() if sys.argv[2] == "main" else QWidget()
window.setWindowTitle("probe")
window.show()
sys.exit(app.exec())
"""


@pytest.mark.parametrize(("shown", "code"), [("main", 0), ("plain", 3)])
def test_smoke_hook_reports_the_main_window(shown: str, code: int) -> None:
    """The run-time hook the smoke test relies on: exit 0 with a main window, 3 without."""
    result = subprocess.run(
        [sys.executable, "-c", _SMOKE_PROGRAM, str(INSTALLER / "hooks" / "rthook_smoke.py"), shown],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "STRIDE_CLINIC_SMOKE_EXIT_MS": "0"},
    )
    assert result.returncode == code, result.stderr[-2000:]
    assert ("stride-clinic smoke: main window shown at" in result.stdout) == (code == 0)
    if code == 0:
        assert "QMainWindow 'probe'" in result.stdout


def test_installers_ship_the_licence_notices_naming_the_gpl_encoder() -> None:
    notices = REPO / "resources" / "THIRD_PARTY_NOTICES.md"
    text = notices.read_text(encoding="utf-8")
    assert "libx264" in text and "GPL-2.0-or-later" in text
    iss = (INSTALLER / "stride-clinic.iss").read_text(encoding="utf-8")
    setup = iss[iss.index("[Setup]") : iss.index("[Languages]")]
    assert "LicenseFile=..\\resources\\THIRD_PARTY_NOTICES.md" in setup  # shown before install
    files = iss[iss.index("[Files]") : iss.index("[Icons]")]
    assert "THIRD_PARTY_NOTICES" in files  # and kept beside the program
    build = (INSTALLER / "build_linux.sh").read_text(encoding="utf-8")
    tarball = build[build.index("STAGE=") :]
    assert 'cp resources/THIRD_PARTY_NOTICES.md "$STAGE/$NAME/' in tarball
