"""Layers wired at one root: storage imports nothing above it; opening a clinic seeds nothing."""

from __future__ import annotations

import ast
from pathlib import Path

from app.clinic import open_clinic, open_clinic_database
from app.db.database import open_database, sqlite_url

ROOT = Path(__file__).resolve().parents[2]
# app.db may import only these app packages (besides itself).
STORAGE_MAY_IMPORT = {"app.db", "app.errors", "app.logs", "app.paths"}


def _app_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {n for n in names if n == "app" or n.startswith("app.")}


def test_storage_imports_nothing_above_it() -> None:
    bad = {}
    for p in (ROOT / "app" / "db").rglob("*.py"):
        if "migrations" in p.parts:
            continue
        above = {
            n
            for n in _app_imports(p)
            if not any(n == ok or n.startswith(ok + ".") for ok in STORAGE_MAY_IMPORT)
        }
        if above:
            bad[str(p.relative_to(ROOT))] = sorted(above)
    assert bad == {}


def test_audit_trail_is_attached_where_the_clinic_is_opened(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "c.sqlite3")
    bare = open_database(url)
    assert bare.session_hooks == frozenset()  # storage alone knows no audit trail
    bare.dispose()
    db = open_clinic_database(url)
    assert db.session_hooks == {"audit"}
    assert db.add_session_hooks("audit", {}) is False  # idempotent
    db.dispose()


def test_opening_the_demo_clinic_seeds_nothing() -> None:
    from app.db.models import Patient
    from app.demo import ensure_demo_data

    clinic = open_clinic(demo=True)
    try:
        with clinic.db.session() as s:
            assert s.query(Patient).count() == 0
        ensure_demo_data(clinic)  # what the entry points do
        with clinic.db.session() as s:
            assert s.query(Patient).count() > 0
    finally:
        clinic.close()


def test_ui_imports_no_sqlalchemy() -> None:
    """ui/ reads through app/'s read models (app.records.summary, app.safety.accounts...)."""
    bad = {}
    for p in (ROOT / "ui").rglob("*.py"):
        tops = {n.split(".")[0] for n in _all_imports(p)}
        if "sqlalchemy" in tops:
            bad[str(p.relative_to(ROOT))] = "sqlalchemy"
    assert bad == {}


def _all_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):  # also inside functions
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_patient_summary_is_a_plain_read_model(tmp_path: Path) -> None:
    from app.records.patients import PatientData, create_patient
    from app.records.summary import patient_names, patient_summary
    from app.records.visits import VisitData, create_visit

    db = open_clinic_database(sqlite_url(tmp_path / "c.sqlite3"))
    try:
        with db.session() as s:
            pid = create_patient(s, PatientData(full_name="Ana Ruiz", height_cm=170)).id
            create_visit(s, pid, VisitData())
        with db.session() as s:
            summary = patient_summary(s, pid)
            assert patient_names(s, {pid, 999}) == {pid: "Ana Ruiz"}
            assert patient_summary(s, 999) is None
        assert summary is not None and summary.full_name == "Ana Ruiz"
        assert "170 cm" in summary.details and len(summary.visits) == 1
    finally:
        db.dispose()
