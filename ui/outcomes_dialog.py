"""Enter or edit a visit's outcome measures: pain (NPRS), the clinic's disability scale, PSFS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.db.models import Visit
from app.history.outcomes import (
    DISABILITY_SCALES,
    PSFS_MAX_ITEMS,
    OutcomeData,
    PsfsItem,
    disability_scale,
    load_outcomes,
    save_outcomes,
)
from app.records.validation import ValidationError
from ui.unsaved import GuardedDialog

if TYPE_CHECKING:
    from app.clinic import Clinic


def _score_box(top: int) -> QSpinBox:
    """0..top, with an extra "not recorded" step below 0 so empty never means 0."""
    box = QSpinBox()
    box.setRange(-1, top)
    box.setSpecialValueText("not recorded")
    box.setValue(-1)
    box.setMinimumWidth(120)
    return box


def _value(box: QSpinBox) -> int | None:
    return None if box.value() < 0 else box.value()


class OutcomesDialog(GuardedDialog):
    """Edits one visit; saving validates and shows problems inline (the dialog stays open)."""

    def __init__(
        self,
        clinic: Clinic,
        visit_id: int,
        parent: QWidget | None = None,
        *,
        visit_label: str = "",
    ) -> None:
        super().__init__(parent)
        self.clinic = clinic
        self.visit_id = visit_id
        self.scale = disability_scale(clinic.settings.extra)
        with clinic.db.session() as s:
            data = load_outcomes(s, visit_id)
            if not visit_label:
                visit = s.get(Visit, visit_id)
                visit_label = f"{visit.visit_date:%d %b %Y}" if visit is not None else ""
        # Which visit these scores belong to, in the title and at the top (it was implicit).
        self.setWindowTitle(f"Outcome measures — visit of {visit_label}" if visit_label
                            else "Outcome measures")  # fmt: skip
        self.visit_title = QLabel(f"Scores for the visit of <b>{visit_label}</b>")
        self.visit_title.setObjectName("sectionTitle")

        pain = QGroupBox("Pain (NPRS 0–10; smallest important change 2 points)")
        form = QFormLayout(pain)
        self.pain_now, self.pain_worst, self.pain_running = (_score_box(10) for _ in range(3))
        form.addRow("Pain now", self.pain_now)
        form.addRow("Worst pain in the last 24 h", self.pain_worst)
        form.addRow("Pain during running", self.pain_running)

        label, top = DISABILITY_SCALES[self.scale]
        change = "10 points" if self.scale == "odi" else "5 points"
        dis = QGroupBox(f"Disability: {label} (smallest important change {change} or 30 %)")
        dform = QFormLayout(dis)
        self.disability = _score_box(top)
        dform.addRow(f"Score (0–{top}{' %' if self.scale == 'odi' else ''})", self.disability)

        psfs = QGroupBox("Patient-Specific Functional Scale: 3–5 activities the patient finds hard")
        grid = QGridLayout(psfs)
        grid.addWidget(QLabel("Activity (patient's words)"), 0, 0)
        grid.addWidget(QLabel("0 = unable … 10 = as before"), 0, 1)
        grid.addWidget(QLabel("Running item"), 0, 2)
        self.activities: list[QLineEdit] = []
        self.scores: list[QSpinBox] = []
        self.running = QButtonGroup(self)
        for i in range(PSFS_MAX_ITEMS):
            act = QLineEdit(placeholderText="e.g. run 5 km without pain" if i == 0 else "")
            score = _score_box(10)
            radio = QRadioButton()
            radio.setAccessibleName(f"PSFS item {i + 1} is the running item")
            self.running.addButton(radio, i)
            grid.addWidget(act, i + 1, 0)
            grid.addWidget(score, i + 1, 1)
            grid.addWidget(radio, i + 1, 2)
            self.activities.append(act)
            self.scores.append(score)

        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (self.visit_title, pain, dis, psfs, self.error, buttons):
            layout.addWidget(w)
        self.set_data(data)
        self.unsaved_what = "the outcome measures"
        self.guard()  # Cancel / Esc / close with changes asks first (ui.unsaved)

    def set_data(self, data: OutcomeData) -> None:
        for box, v in (
            (self.pain_now, data.pain_now),
            (self.pain_worst, data.pain_worst_24h),
            (self.pain_running, data.pain_running),
            (self.disability, data.odi if self.scale == "odi" else data.rmdq),
        ):
            box.setValue(-1 if v is None else int(v))
        for i in range(PSFS_MAX_ITEMS):
            item = data.psfs[i] if i < len(data.psfs) else None
            self.activities[i].setText(item.activity if item else "")
            self.scores[i].setValue(-1 if item is None or item.score is None else int(item.score))
            self.running.button(i).setChecked(bool(item and item.running))
        self._other_scale = data.rmdq if self.scale == "odi" else data.odi

    def data(self) -> OutcomeData:
        dis = _value(self.disability)
        return OutcomeData(
            _value(self.pain_now),
            _value(self.pain_worst),
            _value(self.pain_running),
            dis if self.scale == "odi" else self._other_scale,
            dis if self.scale == "rmdq" else self._other_scale,
            [
                PsfsItem(a.text(), _value(s), self.running.checkedId() == i)
                for i, (a, s) in enumerate(zip(self.activities, self.scores, strict=True))
            ],
        )

    def accept(self) -> None:
        try:
            with self.clinic.db.session() as s:
                save_outcomes(s, self.visit_id, self.data())
        except ValidationError as exc:  # OutcomeError and pain-score errors
            self.error.setText(exc.message)
            self.error.show()
            return
        except Exception as exc:  # e.g. a concurrent edit: say so, keep what was typed
            self.error.setText(f"Could not save: {getattr(exc, 'message', exc)}")
            self.error.show()
            return
        super().accept()
