"""Settings are checked once, at load: a bad key is named, replaced by its default (or, for the
two keys where a default would silently put work elsewhere, the start is refused)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.clinic import open_clinic
from app.demo import ensure_demo_data
from app.paths import DataFolderError, data_folder
from app.safety.accounts import idle_minutes
from app.safety.backup import BackupPolicy
from app.settings import Settings, SettingsError, check_database_url, check_videos_dir


def _write(values: dict) -> Path:
    path = data_folder().ensure().settings_file
    path.write_text(json.dumps(values), encoding="utf-8")
    return path


def _keys(s: Settings) -> list[str]:
    return [p.key for p in s.problems]


@pytest.mark.parametrize(
    ("raw", "key", "attr", "default"),
    [
        ({"extra": []}, "extra", "extra", {}),
        ({"extra": "logo.png"}, "extra", "extra", {}),
        ({"video_memory_budget_mb": "lots"}, "video_memory_budget_mb", "video_memory_budget_mb", 1500),
        ({"video_memory_budget_mb": 10**9}, "video_memory_budget_mb", "video_memory_budget_mb", 1500),
        ({"video_memory_budget_mb": True}, "video_memory_budget_mb", "video_memory_budget_mb", 1500),
        ({"clinic_contact": 12}, "clinic_contact", "clinic_contact", ""),
        ({"clinic_name": ["x"]}, "clinic_name", "clinic_name", "Stride Clinic"),
        ({"clinic_name": "Physio \u202eNord"}, "clinic_name", "clinic_name", "Stride Clinic"),
        ({"shank_angle_heuristic_deg": None}, "shank_angle_heuristic_deg", "shank_angle_heuristic_deg", 10.0),
    ],
)  # fmt: skip
def test_a_bad_value_is_named_and_replaced_by_its_default(raw, key, attr, default) -> None:
    s = Settings.from_dict(raw)
    assert _keys(s) == [key]
    assert getattr(s, attr) == default
    assert f"“{key}”" in str(s.problems[0]) and not s.problems[0].fatal


def test_good_values_pass_unchanged_and_numbers_in_text_are_read() -> None:
    s = Settings.from_dict(
        {"video_memory_budget_mb": "2000", "clinic_name": " Physio  Nord ", "clinic_contact": "A\nB"}
    )
    assert s.problems == []
    assert (s.video_memory_budget_mb, s.clinic_name, s.clinic_contact) == (2000, "Physio Nord", "A\nB")


def test_infinity_and_nan_in_the_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(
        '{"video_memory_budget_mb": Infinity, "extra": {"backup_keep_daily": 1e400,'
        ' "idle_lock_minutes": NaN}}',
        encoding="utf-8",
    )
    s = Settings.load(path)
    assert sorted(_keys(s)) == [
        "extra.backup_keep_daily",
        "extra.idle_lock_minutes",
        "video_memory_budget_mb",
    ]
    # the readers of extra see only good values, so they cannot raise (int(inf) did)
    assert BackupPolicy.from_extra(s.extra) == BackupPolicy()
    assert idle_minutes(s.extra) == 10.0


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("backup_every_hours", -1),
        ("backup_every_hours", "daily"),
        ("backup_keep_daily", 0),
        ("backup_keep_daily", 2.5),
        ("backup_keep_weekly", [4]),
        ("idle_lock_minutes", -5),  # would have meant "never lock" after max(0, …)
        ("idle_lock_minutes", "soon"),
        ("clinic_logo", 5),
        ("disability_scale", "sf36"),
    ],
)
def test_each_extra_key_is_checked(key: str, value: object) -> None:
    s = Settings.from_dict({"extra": {key: value, "other_version_key": [1, 2]}})
    assert _keys(s) == [f"extra.{key}"]
    assert key not in s.extra  # the reader falls back to its own default
    assert s.extra["other_version_key"] == [1, 2]  # keys we do not know are kept


def test_good_extra_values_are_kept() -> None:
    extra = {
        "backup_every_hours": 12,
        "backup_keep_daily": 10,
        "backup_keep_weekly": 0,
        "idle_lock_minutes": 0,
        "disability_scale": "ODI",
        "clinic_logo": "/srv/logo.png",
    }
    s = Settings.from_dict({"extra": extra})
    assert s.problems == []
    assert s.extra["disability_scale"] == "odi"
    assert BackupPolicy.from_extra(s.extra).keep_daily == 10


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (5, "in quotes"),
        ("postgres://stride:secret@server/stride", "postgresql://"),
        ("clinic.db", "file name"),
        ("/srv/clinic.db", "file name"),
        ("sqlite:///clinic.db", "relative"),
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("mysql://u@server/stride", "sqlite and postgresql"),
        ("postgresql+psycopg2://u@server/stride", "not installed"),
        ("postgresql://u@server", "names no database"),
        ("postgresql:///stride", "server"),
    ],
)
def test_database_url_must_be_a_supported_address(url: object, says: str) -> None:
    s = Settings.from_dict({"database_url": url})
    assert _keys(s) == ["database_url"] and s.problems[0].fatal
    assert says in s.problems[0].message
    assert "secret" not in s.problems[0].message  # never echo a password
    assert s.database_url == ""


def test_database_url_accepted_forms() -> None:
    assert check_database_url("") == ""
    assert check_database_url("postgresql://u@server/stride") == "postgresql+psycopg://u@server/stride"
    assert check_database_url("postgresql+psycopg://u:pw@server:5432/stride").endswith(":5432/stride")
    assert check_database_url("sqlite:////srv/clinic.db") == "sqlite:////srv/clinic.db"


@pytest.mark.parametrize("value", [5, "videos", "   ", ["a"]])
def test_videos_dir_must_be_a_full_folder_path(value: object) -> None:
    s = Settings.from_dict({"videos_dir": value})
    assert _keys(s) == ["videos_dir"] and s.problems[0].fatal


def test_videos_dir_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "x.mp4"
    f.write_bytes(b"")
    assert Settings.from_dict({"videos_dir": str(f)}).problems[0].key == "videos_dir"
    assert check_videos_dir(str(tmp_path)) == str(tmp_path)


def test_open_clinic_keeps_going_with_defaults_and_names_the_keys() -> None:
    _write({"extra": [], "video_memory_budget_mb": "lots", "clinic_contact": 12})
    clinic = open_clinic()
    try:
        text = " ".join(clinic.settings_warnings)
        for key in ("extra", "video_memory_budget_mb", "clinic_contact"):
            assert f"“{key}”" in text
        assert clinic.settings.video_memory_budget_mb == 1500
    finally:
        clinic.close()


@pytest.mark.parametrize(
    "values",
    [{"database_url": 5}, {"database_url": "postgres://u@h/db"}, {"database_url": "clinic.db"},
     {"videos_dir": 5}],
)  # fmt: skip
def test_open_clinic_refuses_a_database_or_videos_setting_it_cannot_use(values: dict) -> None:
    _write(values)
    with pytest.raises(SettingsError) as err:
        open_clinic()
    assert isinstance(err.value, DataFolderError)  # every start-up path already explains these
    key = next(iter(values))
    assert f"“{key}”" in err.value.message and "settings.json" in err.value.message
    assert not data_folder().database.exists()  # nothing was created in the wrong place


def test_demo_clinic_ignores_a_bad_database_url() -> None:
    folder = data_folder(demo=True).ensure()
    folder.settings_file.write_text('{"database_url": 5}', encoding="utf-8")
    clinic = open_clinic(demo=True)
    ensure_demo_data(clinic)
    clinic.close()


def test_save_keeps_unknown_keys_and_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"future_key": {"a": 1}, "clinic_name": "Nord"}', encoding="utf-8")
    s = Settings.load(path)
    s.clinic_name = "Süd"
    s.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["future_key"] == {"a": 1} and data["clinic_name"] == "Süd"
    assert "problems" not in data and "unknown" not in data

    path.write_text('{"database_url": "postgresql://u@server/db", ', encoding="utf-8")
    broken = Settings.load(path)
    assert _keys(broken) == ["settings.json"]
    broken.save(path)
    kept = list(tmp_path.glob("settings-unreadable-*.json"))
    assert len(kept) == 1 and "server" in kept[0].read_text(encoding="utf-8")


def test_program_cli_prints_the_settings_warning(capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main

    _write({"video_memory_budget_mb": "lots", "extra": "x"})
    code = main(["program", "--list", "--patient", "1"])
    err = capsys.readouterr().err
    assert code == 0
    assert "video_memory_budget_mb" in err and "“extra”" in err and "Traceback" not in err


def test_program_cli_refuses_a_bad_database_url_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from app.cli import main

    _write({"database_url": "postgres://u@server/stride"})
    code = main(["program", "--list", "--patient", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "postgresql://" in err and err.count("\n") == 1


def test_program_cli_prints_a_changed_audit_trail(capsys: pytest.CaptureFixture[str]) -> None:
    """A start-up finding (here: audit entries removed behind the program's back) reaches the
    command line too, not only the window's bar and the log file."""
    import sqlite3

    from app.cli import main
    from app.clinic import open_clinic
    from app.records.patients import PatientData, create_patient

    clinic = open_clinic()
    with clinic.db.session() as s:
        for name in ("Ana Ruiz", "Ben Ode"):
            create_patient(s, PatientData(full_name=name))
    path = clinic.folder.database
    clinic.close()
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM audit_log WHERE id = 1")
    conn.commit()
    conn.close()
    code = main(["program", "--list", "--patient", "1"])
    err = capsys.readouterr().err
    assert code == 0
    assert "warning:" in err and "audit trail" in err and "Traceback" not in err
