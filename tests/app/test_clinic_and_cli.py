from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app import __version__
from app.cli import main
from app.clinic import open_clinic
from app.demo import ensure_demo_data
from app.paths import DataFolder, DataFolderError
from app.records.patients import list_patients
from app.settings import Settings


def test_data_folder_is_owner_only(data_home: Path) -> None:
    clinic = open_clinic()
    mode = stat.S_IMODE(os.stat(clinic.folder.root).st_mode)
    assert mode == 0o700
    assert clinic.folder.root == data_home
    assert clinic.folder.database.exists()
    clinic.close()


def test_demo_uses_a_separate_database(data_home: Path) -> None:
    real = open_clinic()
    real.close()
    demo = open_clinic(demo=True)
    ensure_demo_data(demo)
    with demo.db.session() as s:
        assert len(list_patients(s)) >= 5
    demo.close()
    assert demo.folder.root != real.folder.root
    real = open_clinic()
    with real.db.session() as s:
        assert list_patients(s) == []
    real.close()
    again = open_clinic(demo=True)  # second start does not duplicate the demo patients
    ensure_demo_data(again)
    with again.db.session() as s:
        n = len(list_patients(s))
    again.close()
    assert n == 6


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_data_folder_is_explained(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(DataFolderError) as err:
        DataFolder(ro / "sub").ensure()
    assert "cannot create" in err.value.message


def test_unwritable_data_folder_is_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_a, **_k):
        raise OSError(28, "No space left on device")

    folder = DataFolder(tmp_path / "full")
    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(DataFolderError) as err:
        folder.ensure()
    assert "not writable" in err.value.message and "No space left" in err.value.message


def test_settings_round_trip_and_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    s = Settings(clinic_name="Physio Nord", video_memory_budget_mb=800)
    s.save(path)
    assert Settings.load(path).clinic_name == "Physio Nord"
    path.write_text("{ not json", encoding="utf-8")
    assert Settings.load(path) == Settings()


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_console_script_runs(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("stride-clinic")
    if not exe.exists():
        pytest.skip("console script not installed")
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "stride-clinic" in out.stdout


def test_demo_visits_have_marked_clips_and_prescriptions(data_home: Path) -> None:
    from app.records.measurements import current_prescription_for_patient, visit_measurement
    from app.records.recordings import recordings_of, resolve_video
    from app.records.visits import visits_of

    demo = open_clinic(demo=True)
    ensure_demo_data(demo)
    with demo.db.session() as s:
        for row in list_patients(s):
            visits = visits_of(s, row.id)
            assert visits
            for v in visits:
                (rec,) = recordings_of(s, v.id)
                assert resolve_video(rec, demo.videos_root).is_file()
                m = visit_measurement(s, v.id)
                assert m is not None and 140 < m.cadence_spm < 185
                assert min(m.contacts_per_side) >= 7
            assert current_prescription_for_patient(s, row.id) is not None
    demo.close()


def test_gui_without_a_screen_explains(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys as _sys

    if not _sys.platform.startswith("linux"):
        pytest.skip("Linux-only check")
    from ui.launcher import main as launcher_main

    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    assert launcher_main([]) == 2
    assert "no screen found" in capsys.readouterr().err


def test_opening_the_clinic_configures_the_orm_mappers(tmp_path: Path) -> None:
    """The one-time mapper configuration (40-50 ms) is paid when the database opens, in a fresh
    process, not at the clinician's first History or visit click."""
    code = (
        "import sys; from pathlib import Path; from app.clinic import open_clinic; "
        "from app.paths import DataFolder; from app.db.models import Base; "
        "c = open_clinic(folder=DataFolder(Path(sys.argv[1]))); "
        "print(all(m.configured for m in Base.registry.mappers)); c.close()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "clinic")],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2],
    ).stdout  # fmt: skip
    assert out.strip().splitlines()[-1] == "True"
