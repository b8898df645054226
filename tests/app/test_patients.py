from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.clinic import open_clinic
from app.db.models import Patient
from app.records.patients import (
    PatientData,
    create_patient,
    delete_patient,
    find_duplicates,
    list_patients,
    remove_media,
    search_patients,
    update_patient,
)
from app.records.validation import ValidationError, name_key
from app.records.visits import VisitData, create_visit


@pytest.fixture
def clinic():
    c = open_clinic()
    yield c
    c.close()


def test_name_key_folds_case_and_accents() -> None:
    assert name_key("  María José  NÚÑEZ ") == "maria jose nunez"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (PatientData(full_name="   "), "full_name"),
        (PatientData(full_name="A", date_of_birth="1985-02-30"), "date_of_birth"),
        (PatientData(full_name="A", date_of_birth="23/04/1985"), "date_of_birth"),
        (PatientData(full_name="A", date_of_birth="2999-01-01"), "date_of_birth"),
        (PatientData(full_name="A", height_cm="20"), "height_cm"),
        (PatientData(full_name="A", height_cm="300"), "height_cm"),
        (PatientData(full_name="A", height_cm="tall"), "height_cm"),
        (PatientData(full_name="A", height_cm="nan"), "height_cm"),
        (PatientData(full_name="A", height_cm=170, leg_length_cm=150), "leg_length_cm"),
        (PatientData(full_name="A", sex="robot"), "sex"),
    ],
)
def test_bad_patient_input_is_refused_with_a_field(clinic, data: PatientData, field: str) -> None:
    with clinic.db.session() as s, pytest.raises(ValidationError) as err:
        create_patient(s, data)
    assert err.value.field == field
    assert err.value.message


def test_decimal_comma_is_accepted(clinic) -> None:
    with clinic.db.session() as s:
        p = create_patient(s, PatientData(full_name="Jan Kowalski", height_cm="181,5"))
        assert p.height_cm == 181.5


def test_duplicates_are_detected_and_can_be_confirmed(clinic) -> None:
    data = PatientData(full_name="José Núñez", date_of_birth="1980-01-01")
    with clinic.db.session() as s:
        create_patient(s, data)
    with clinic.db.session() as s:
        assert find_duplicates(s, PatientData(full_name="jose nunez", date_of_birth="1980-01-01"))
        assert not find_duplicates(
            s, PatientData(full_name="jose nunez", date_of_birth="1990-01-01")
        )
        with pytest.raises(ValidationError):
            create_patient(s, data)
    with clinic.db.session() as s:
        create_patient(s, data, allow_duplicate=True)
    with clinic.db.session() as s:
        assert len(list_patients(s)) == 2


def test_non_ascii_names_round_trip_and_search(clinic) -> None:
    names = ["山田 花子", "Ørjan Ødegård", "Zoë Ångström", "Мария Иванова"]
    with clinic.db.session() as s:
        for n in names:
            create_patient(s, PatientData(full_name=n))
    with clinic.db.session() as s:
        rows = list_patients(s)
    assert sorted(r.full_name for r in rows) == sorted(names)
    assert [r.full_name for r in search_patients(rows, "angst")] == ["Zoë Ångström"]
    assert [r.full_name for r in search_patients(rows, "花子")] == ["山田 花子"]
    assert [r.full_name for r in search_patients(rows, "мария")] == ["Мария Иванова"]


def test_stale_edit_is_refused(clinic) -> None:
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Ann Lee")).id
    with clinic.db.session() as s:
        update_patient(s, pid, PatientData(full_name="Ann Lee-Smith"), expected_version=1)
    with clinic.db.session() as s, pytest.raises(ValidationError) as err:
        update_patient(s, pid, PatientData(full_name="Ann Other"), expected_version=1)
    assert "another workstation" in err.value.message
    with clinic.db.session() as s:
        assert s.get(Patient, pid).full_name == "Ann Lee-Smith"


def test_concurrent_sessions_cannot_silently_overwrite(clinic) -> None:
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Bo Ek")).id
    s1 = clinic.db._sessions()
    s2 = clinic.db._sessions()
    p1, p2 = s1.get(Patient, pid), s2.get(Patient, pid)
    p1.notes = "first"
    s1.commit()
    p2.notes = "second"
    with pytest.raises(StaleDataError):
        s2.commit()
    s1.close()
    s2.close()


def test_delete_patient_removes_records_and_files(clinic) -> None:
    from app.db.models import HomeProgram, Recording, Visit

    with clinic.db.session() as s:
        p = create_patient(s, PatientData(full_name="Del Me"))
        pid, puid = p.id, p.uid
        create_visit(s, pid, VisitData(visit_date="2026-01-01"))
    layout = clinic.folder.media(clinic.videos_root)
    with clinic.db.session() as s:
        v = s.scalars(select(Visit).where(Visit.patient_id == pid)).one()
        folder = layout.visit_folder(puid, v.uid)
        rec = Recording(visit_id=v.id, video_path=str((folder / "clip.mp4").relative_to(clinic.videos_root)))
        s.add(rec)
        s.flush()
        rid, ruid = rec.id, rec.uid
        pdf = layout.program_folder(puid) / "program.pdf"
        s.add(HomeProgram(visit_id=v.id, pdf_path=pdf.relative_to(clinic.folder.root).as_posix()))
    folder.mkdir(parents=True)
    (folder / "clip.mp4").write_bytes(b"x")
    (folder / "clip.timestamps.csv").write_bytes(b"x")
    (folder / "unlinked capture.mkv").write_bytes(b"x")  # in the patient's own folder: theirs
    still = layout.still(ruid, 12)
    still.write_bytes(b"png")
    other_still = layout.still("f" * 32, 12)
    other_still.write_bytes(b"png")  # another recording's picture stays
    old_still = clinic.folder.stills / f"recording{rid}_frame12.png"
    old_still.write_bytes(b"png")  # id-named: nobody knows whose it is, so it is left alone
    pdf.parent.mkdir(parents=True)
    pdf.write_bytes(b"%PDF")
    with clinic.db.session() as s:
        paths = delete_patient(s, pid, clinic.videos_root, clinic.folder.root)
    assert remove_media(paths) == []
    assert not layout.patient_folder(puid).exists() and not still.exists()
    assert not layout.program_folder(puid).exists()
    assert other_still.exists() and old_still.exists()
    assert clinic.videos_root.is_dir() and clinic.folder.stills.is_dir()
    with clinic.db.session() as s:
        assert list_patients(s) == []


def test_visit_validation(clinic) -> None:
    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="V Test")).id
    for bad, field in [
        (VisitData(visit_date="2026-13-01"), "visit_date"),
        (VisitData(treadmill_speed_kmh="-3"), "treadmill_speed_kmh"),
        (VisitData(treadmill_speed_kmh="200"), "treadmill_speed_kmh"),
        (VisitData(pain_now="11"), "pain_now"),
        (VisitData(pain_running="4.5"), "pain_running"),
    ]:
        with clinic.db.session() as s, pytest.raises(ValidationError) as err:
            create_visit(s, pid, bad)
        assert err.value.field == field


def test_media_folders_are_named_by_uid(clinic) -> None:
    layout = clinic.folder.media()
    uid = "0123456789abcdef" * 2
    assert layout.patient_folder(uid).name == f"patient-{uid}"
    assert layout.visit_folder(uid, uid).parent == layout.patient_folder(uid)
    assert layout.still(uid, 12).name == f"recording-{uid}_frame000012.png"
    assert layout.program_folder(uid).parent == clinic.folder.root / "programs"
    for bad in ("", "7", "../" + uid[:29], None, uid.upper()):
        with pytest.raises(ValueError):
            layout.patient_folder(bad)  # type: ignore[arg-type]


def test_delete_visit_returns_its_files_only(clinic) -> None:
    from app.db.models import HomeProgram, Recording
    from app.records.visits import delete_visit

    with clinic.db.session() as s:
        pid = create_patient(s, PatientData(full_name="Visit Files")).id
        v1 = create_visit(s, pid, VisitData(visit_date="2026-01-01")).id
        v2 = create_visit(s, pid, VisitData(visit_date="2026-02-01")).id
        r1 = Recording(visit_id=v1, video_path="patient/v1/clip.mkv")
        r2 = Recording(visit_id=v2, video_path="patient/v2/clip.mkv")
        s.add_all([r1, r2])
        s.flush()
        s.add(HomeProgram(visit_id=v1, pdf_path="programs/p1.pdf"))
        uids = (r1.uid, r2.uid)
    for rel in ("patient/v1/clip.mkv", "patient/v1/clip.timestamps.csv", "patient/v2/clip.mkv"):
        (clinic.videos_root / rel).parent.mkdir(parents=True, exist_ok=True)
        (clinic.videos_root / rel).write_bytes(b"x")
    layout = clinic.folder.media()
    layout.still(uids[0], 3).write_bytes(b"p")
    layout.still(uids[1], 3).write_bytes(b"p")
    (clinic.folder.root / "programs").mkdir()
    (clinic.folder.root / "programs" / "p1.pdf").write_bytes(b"%PDF")
    with clinic.db.session() as s:
        files = delete_visit(s, v1, clinic.videos_root, clinic.folder.root)
    names = sorted(f.name for f in files if f.is_file())
    assert names == ["clip.mkv", "clip.timestamps.csv", "p1.pdf", f"recording-{uids[0]}_frame000003.png"]
    assert all("v2" not in str(f) for f in files)
    assert remove_media(files) == []
    assert (clinic.videos_root / "patient" / "v2" / "clip.mkv").exists()
    assert not (clinic.videos_root / "patient" / "v1").exists()  # emptied, so removed
