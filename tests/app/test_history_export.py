from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from app.clinic import open_clinic
from app.history.export import (
    ExportError,
    clinic_salt,
    export_patient_history,
    pseudonym,
    research_export,
    write_tables,
)
from app.history.outcomes import OutcomeData, PsfsItem, save_outcomes
from app.records.measurements import save_prescription
from app.records.patients import PatientData, create_patient

from .test_history_helpers import add_visit, make_patient


@pytest.fixture
def clinic():  # type: ignore[no-untyped-def]
    c = open_clinic()
    yield c
    c.close()


PEOPLE = [
    ("Zoë Quennell-Sørensen", "1981-02-13", "zoe@example.org", "Secret knee story"),
    ("山田 花子", "1992-09-17", "+81 90 1234 5678", "Private back note"),
]


def _fill(clinic) -> list[int]:  # type: ignore[no-untyped-def]
    ids = []
    with clinic.db.session() as s:
        for k, (name, dob, contact, note) in enumerate(PEOPLE):
            p = create_patient(
                s,
                PatientData(full_name=name, date_of_birth=dob, email=contact if "@" in contact
                            else None, phone=None if "@" in contact else contact,
                            complaint=note, notes=note + " notes", sex="female"),
            )  # fmt: skip
            v1 = add_visit(s, p.id, "2026-03-02", 160.0 + k, pain=(4, 6, 5), seed=k)
            v2 = add_visit(s, p.id, "2026-04-13", 168.0 + k, pain=(1, 2, 2), seed=k + 5)
            save_prescription(s, v1, {"target_spm": 168})
            save_outcomes(s, v2, OutcomeData(1, 2, 2, None, 4, [
                PsfsItem("Jog with my dog Rex", 7, True), PsfsItem("Carry shopping", 8),
                PsfsItem("Sit through a concert", 9)]))  # fmt: skip
            ids.append(p.id)
    return ids


def test_patient_export_reads_back_csv_and_excel(clinic, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pid = _fill(clinic)[0]
    files = export_patient_history(clinic, pid, tmp_path / "out", formats=("csv", "xlsx", "zip"))
    names = {f.name for f in files}
    stem = f"patient_{pid:06d}_history"
    assert {f"{stem}_visits.csv", f"{stem}_metrics.csv", f"{stem}_events.csv", f"{stem}.xlsx",
            f"{stem}_csv.zip"} <= names  # fmt: skip
    visits = pd.read_csv(tmp_path / "out" / f"{stem}_visits.csv")
    assert list(visits["date"]) == ["2026-03-02", "2026-04-13"]
    assert list(visits["pain_worst_24h"]) == [6, 2]
    assert visits["target_spm"].iloc[0] == 168 and pd.isna(visits["target_spm"].iloc[1])
    metrics = pd.read_csv(tmp_path / "out" / f"{stem}_metrics.csv")
    assert metrics["cadence_mean"].iloc[0] == pytest.approx(160, abs=2)
    assert metrics["cadence_n"].iloc[0] == 29 and metrics["cadence_sd"].iloc[0] > 0
    assert pd.isna(metrics["shank_angle_mean"]).all()  # not measured stays empty
    events = pd.read_csv(tmp_path / "out" / f"{stem}_events.csv")
    assert len(events) == 2 * 60
    assert set(events["event"]) == {"initial_contact", "toe_off"}
    book = pd.read_excel(tmp_path / "out" / f"{stem}.xlsx", sheet_name=None)
    assert set(book) == {"visits", "metrics", "events", "psfs"}
    assert len(book["events"]) == len(events)
    assert book["metrics"]["cadence_mean"].iloc[1] == pytest.approx(metrics["cadence_mean"].iloc[1])
    assert list(book["psfs"]["activity"])[0] == "Jog with my dog Rex"
    with zipfile.ZipFile(tmp_path / "out" / f"{stem}_csv.zip") as zf:
        assert sorted(zf.namelist()) == ["events.csv", "metrics.csv", "psfs.csv", "visits.csv"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions")
def test_unwritable_folder_gives_a_clear_error(clinic, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pid = _fill(clinic)[0]
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ExportError) as err:
            export_patient_history(clinic, pid, locked)
        assert "Choose a folder you may write to" in err.value.message
        with pytest.raises(ExportError):
            research_export(clinic, locked / "sub")
    finally:
        locked.chmod(0o700)
    with pytest.raises(ExportError):
        write_tables({}, tmp_path, "x", ("pdf",))


def _all_text(folder: Path) -> str:
    parts = []
    for f in folder.iterdir():
        if f.suffix in (".xlsx", ".zip"):
            with zipfile.ZipFile(f) as zf:
                parts += [zf.read(n).decode("utf-8", "replace") for n in zf.namelist()]
        else:
            parts.append(f.read_text(encoding="utf-8-sig"))
    return "\n".join(parts)


def test_research_export_is_deidentified(clinic, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ids = _fill(clinic)
    with clinic.db.session() as s:
        make_patient(s, "No Visits Person", "1970-01-01")
    files = research_export(clinic, tmp_path / "res", formats=("csv", "xlsx", "zip"))
    assert files
    text = _all_text(tmp_path / "res")
    for name, dob, contact, note in PEOPLE:
        for secret in (name, *name.split(), dob, contact, note, "Rex", "concert", "No Visits"):
            assert secret not in text, secret
        assert dob.replace("-", "/") not in text
    assert "2026-03-02" not in text  # no calendar dates at all
    visits = pd.read_csv(tmp_path / "res" / "stride_clinic_research_visits.csv")
    subjects = pd.read_csv(tmp_path / "res" / "stride_clinic_research_subjects.csv")
    assert len(subjects) == 3 and subjects["subject"].is_unique
    assert set(visits["subject"]) == {pseudonym(clinic_salt(clinic.folder.root), i) for i in ids}
    assert list(visits["days_since_first_visit"])[:2] == [0, 42]
    assert list(visits["age_years"])[:2] == [45, 45]  # born 1981-02-13, seen in 2026
    assert "rmdq" in visits.columns and "clinician" not in visits.columns
    events = pd.read_csv(tmp_path / "res" / "stride_clinic_research_events.csv")
    assert len(events) == 2 * 2 * 60 and "recording_id" not in events.columns
    # The pseudonym is stable across exports (same salt) and secret (salt file is private).
    again = research_export(clinic, tmp_path / "res2", formats=("csv",))
    assert pd.read_csv(again[0])["subject"].tolist() == subjects["subject"].tolist()
    salt_file = clinic.folder.root / "research_salt.key"
    assert salt_file.stat().st_mode & 0o077 == 0
    assert salt_file.read_text() not in text


def test_pseudonyms_depend_on_the_salt() -> None:
    assert pseudonym(b"a" * 32, 1) == pseudonym(b"a" * 32, 1)
    assert pseudonym(b"a" * 32, 1) != pseudonym(b"b" * 32, 1)
    assert pseudonym(b"a" * 32, 1) != pseudonym(b"a" * 32, 2)


def test_folder_that_cannot_be_created_gives_a_clear_error(clinic, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Works as root too: a folder inside a plain file can never be created."""
    pid = _fill(clinic)[0]
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(ExportError) as err:
        export_patient_history(clinic, pid, blocker / "export")
    assert "Cannot save the export" in err.value.message
