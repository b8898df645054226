"""``stride-clinic program`` error paths (no PDF drawn, so no Qt is needed here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main
from app.clinic import open_clinic
from app.records.patients import PatientData, create_patient
from app.records.visits import VisitData, create_visit


def test_patient_without_prescription_exits_2_with_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clinic = open_clinic()
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Ørjan Dahl")).id
        create_visit(s, pid, VisitData())
    clinic.close()
    out = tmp_path / "p.pdf"
    rc = main(["program", "--patient", str(pid), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert "Ørjan Dahl has no cadence prescription" in err and "--without-cadence" in err
    assert err.count("\n") == 1 and not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--patient", "9999", "--out", "x.pdf"], "no patient"),
        (["--patient", "abc", "--out", "x.pdf"], "must be a number"),
        (["--patient", "1"], "--out"),
        (["--patient", "1", "--out", "x.docx"], "must end in .pdf"),
        (["--reprint", "77", "--out", "x.pdf"], "no saved home program"),
    ],
)
def test_bad_input_is_one_plain_line(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a if not a.endswith((".pdf", ".docx")) else str(tmp_path / a) for a in args]
    assert main(["program", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_list_with_no_programs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["program", "--patient", "2", "--list"]) == 0
    assert "No home program" in capsys.readouterr().out
