from __future__ import annotations

import pytest
from sqlalchemy import select

from app.clinic import open_clinic
from app.db.models import VisitOutcome
from app.history.outcomes import (
    OutcomeData,
    OutcomeError,
    PsfsItem,
    disability_scale,
    important_change,
    is_important_improvement,
    load_outcomes,
    psfs_mean,
    psfs_running,
    save_outcomes,
    validate_outcomes,
)
from app.records.validation import ValidationError
from app.records.visits import delete_visit

from .test_history_helpers import add_visit, make_patient


@pytest.fixture
def clinic():  # type: ignore[no-untyped-def]
    c = open_clinic()
    yield c
    c.close()


def _psfs(*scores: object, running: int = 0) -> list[PsfsItem]:
    names = ["Run 5 km", "Sit 1 hour", "Lift a child", "Garden", "Drive"]
    return [PsfsItem(names[i], s, i == running) for i, s in enumerate(scores)]


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (OutcomeData(rmdq=25), "rmdq", "0 to 24"),
        (OutcomeData(rmdq="3.5"), "rmdq", "whole number"),
        (OutcomeData(odi=101), "odi", "0 to 100"),
        (OutcomeData(odi="abc"), "odi", "whole number"),
        (OutcomeData(pain_now=11), "pain_now", "outside"),
        (OutcomeData(psfs=_psfs(3, 4)), "psfs", "3 to 5"),
        (OutcomeData(psfs=[*_psfs(3, 4, 5, 6, 7), PsfsItem("Swim", 2)]), "psfs", "3 to 5"),
        (OutcomeData(psfs=_psfs(3, 4, 11)), "psfs_3", "0 to 10"),
        (OutcomeData(psfs=_psfs(3, 4, 5, running=-1)), "psfs", "running item"),
        (OutcomeData(psfs=[*_psfs(3, 4), PsfsItem("Hike", 5, True)]), "psfs", "Only one"),
        (OutcomeData(psfs=[*_psfs(3, 4), PsfsItem("Hike", None)]), "psfs_3", "Please score"),
        (OutcomeData(psfs=[*_psfs(3, 4), PsfsItem("", 5)]), "psfs_3", "no activity"),
    ],
)
def test_validation_gives_clear_messages(data: OutcomeData, field: str, words: str) -> None:
    with pytest.raises(ValidationError) as err:
        validate_outcomes(data)
    assert err.value.field == field
    assert words in err.value.message


def test_valid_entries_and_empty_rows() -> None:
    items = [*_psfs(3, "4", 5), PsfsItem("  ", None), PsfsItem("", "")]
    v = validate_outcomes(OutcomeData(pain_now="2", odi="24", rmdq=None, psfs=items))
    assert v["pain_now"] == 2 and v["odi"] == 24 and v["rmdq"] is None
    assert [i["score"] for i in v["psfs"]] == [3, 4, 5]
    assert v["psfs"][0]["running"] is True
    assert validate_outcomes(OutcomeData())["psfs"] is None
    assert psfs_mean(v["psfs"]) == 4.0 and psfs_running(v["psfs"]) == 3.0


def test_save_load_and_cascade(clinic) -> None:  # type: ignore[no-untyped-def]
    with clinic.db.session() as s:
        vid = add_visit(s, make_patient(s), "2026-02-01")
        save_outcomes(s, vid, OutcomeData(1, 4, 3, None, 12, _psfs(2, 5, 6)))
    with clinic.db.session() as s:
        back = load_outcomes(s, vid)
        assert (back.pain_now, back.pain_worst_24h, back.pain_running, back.rmdq) == (1, 4, 3, 12)
        assert [(i.activity, i.score, i.running) for i in back.psfs][0] == ("Run 5 km", 2, True)
        back.rmdq = 8
        save_outcomes(s, vid, back)  # edit: still one row per visit
    with clinic.db.session() as s:
        rows = s.scalars(select(VisitOutcome)).all()
        assert len(rows) == 1 and rows[0].rmdq == 8
        delete_visit(s, vid)
    with clinic.db.session() as s:
        assert s.scalars(select(VisitOutcome)).all() == []
        with pytest.raises(OutcomeError):
            save_outcomes(s, vid, OutcomeData())


def test_disability_scale_setting() -> None:
    assert disability_scale({}) == "rmdq"
    assert disability_scale(None) == "rmdq"
    assert disability_scale({"disability_scale": "ODI"}) == "odi"
    assert disability_scale({"disability_scale": "sf36"}) == "rmdq"


def test_smallest_important_change() -> None:
    assert important_change("nprs", None) == 2
    assert important_change("rmdq", 20) == 5  # 30 % of 20 = 6 > 5 points
    assert important_change("odi", 20) == pytest.approx(6)  # 30 % of 20 < 10 points
    assert important_change("psfs", 5) is None
    assert is_important_improvement("nprs", 6, 4) is True
    assert is_important_improvement("nprs", 6, 5) is False
    assert is_important_improvement("rmdq", None, 3) is None
