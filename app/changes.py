"""What an operation changed, told once to every view (the Anki ``OpChanges`` pattern).

Each operation of the window (save a patient, a visit, marks, a prescription, an outcome, a
printed program, an import) announces one :class:`Changes`; each view decides from it whether
it must reload. No view or window keeps "stale" flags of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The kinds of record a change touched.
PATIENT = "patient"  # the patient's own details (or the patient was created/deleted)
PATIENT_LIST = "patient_list"  # rows of the patient list (names, counts, last visit)
VISIT = "visit"
RECORDING = "recording"
MARKS = "marks"  # foot events of a recording (hand marks, review, automatic detection)
PRESCRIPTION = "prescription"
OUTCOMES = "outcomes"
PROGRAM = "program"  # a printed home program
SELECTION = "selection"  # not data: another patient is now the current one

KINDS = frozenset(
    {PATIENT, PATIENT_LIST, VISIT, RECORDING, MARKS, PRESCRIPTION, OUTCOMES, PROGRAM, SELECTION}
)


@dataclass(frozen=True)
class Changes:
    """One operation's effect: which patient and visit (None: unknown or all) and what kinds."""

    patient: int | None = None
    visit: int | None = None
    kinds: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - KINDS
        if unknown:  # a programming error: a view would silently ignore the change
            raise ValueError(f"unknown change kinds {sorted(unknown)}")

    def touches(self, *kinds: str) -> bool:
        """True when any of ``kinds`` changed."""
        return not self.kinds.isdisjoint(kinds)

    def concerns(self, patient_id: int | None) -> bool:
        """True when the change may concern ``patient_id`` (an unknown patient concerns all)."""
        return self.patient is None or patient_id is None or self.patient == patient_id
