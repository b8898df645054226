"""Patient and visit forms. Validation lives in ``app.records``; the forms show its messages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.records.patients import PatientData
from app.records.validation import SEXES, ValidationError
from app.records.visits import VisitData
from ui.unsaved import GuardedDialog


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class _Form(GuardedDialog):
    """A dialog whose OK runs ``validate``; a ValidationError is shown next to its field."""

    def __init__(self, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.setMinimumWidth(460)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._try_accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.fields: dict[str, QWidget] = {}
        self.validate: Callable[[], None] | None = None
        self.unsaved_what = "the " + title.lower().split()[-1] + " details"

    def save_changes(self) -> bool:
        """Save from the unsaved-changes question: the same validation as the Save button."""
        self._try_accept()
        return self.result() == QDialog.DialogCode.Accepted

    def add(self, name: str, label: str, widget: QWidget, tip: str = "") -> QWidget:
        widget.setObjectName(name)
        if tip:
            widget.setToolTip(tip)
        self.fields[name] = widget
        self.form.addRow(label, widget)
        return widget

    def show_error(self, field: str, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        widget = self.fields.get(field)
        for w in self.fields.values():
            w.setProperty("invalid", w is widget)
            w.style().unpolish(w)
            w.style().polish(w)
        if widget is not None:
            widget.setFocus()

    def _try_accept(self) -> None:
        try:
            if self.validate is not None:
                self.validate()
        except ValidationError as exc:
            self.show_error(exc.field, exc.message)
            return
        self.accept()


class PatientDialog(_Form):
    def __init__(self, data: PatientData | None = None, parent: QWidget | None = None) -> None:
        super().__init__("Edit patient" if data else "New patient", parent)
        data = data or PatientData()
        self.name = self.add("full_name", "Name *", QLineEdit(data.full_name))
        self.dob = self.add(
            "date_of_birth",
            "Date of birth",
            QLineEdit(_text(data.date_of_birth)),
            "Year-month-day, e.g. 1985-04-23",
        )
        self.dob.setPlaceholderText("YYYY-MM-DD")
        self.sex = QComboBox()
        for s in SEXES:
            self.sex.addItem(s.capitalize(), s)
        self.sex.setCurrentIndex(max(0, self.sex.findData(data.sex)))
        self.add("sex", "Sex", self.sex)
        self.height = self.add("height_cm", "Height (cm)", QLineEdit(_text(data.height_cm)))
        self.leg = self.add(
            "leg_length_cm",
            "Leg length (cm)",
            QLineEdit(_text(data.leg_length_cm)),
            "Greater trochanter to floor, standing. Used to express overstride as % of leg length.",
        )
        self.phone = self.add("phone", "Phone", QLineEdit(_text(data.phone)))
        self.email = self.add("email", "E-mail", QLineEdit(_text(data.email)))
        self.complaint = self.add(
            "complaint",
            "Complaint / injury",
            QLineEdit(_text(data.complaint)),
            "e.g. low back pain when running > 5 km",
        )
        self.notes = QPlainTextEdit(_text(data.notes))
        self.notes.setFixedHeight(80)
        self.add("notes", "Notes", self.notes)
        self.result_data: PatientData | None = None
        self.validate = self._validate
        self.check: Callable[[PatientData], None] | None = None  # extra check, e.g. duplicates

    def data(self) -> PatientData:
        return PatientData(
            full_name=self.name.text(),  # type: ignore[attr-defined]
            date_of_birth=self.dob.text().strip() or None,  # type: ignore[attr-defined]
            sex=self.sex.currentData(),
            height_cm=self.height.text(),  # type: ignore[attr-defined]
            leg_length_cm=self.leg.text(),  # type: ignore[attr-defined]
            phone=self.phone.text(),  # type: ignore[attr-defined]
            email=self.email.text(),  # type: ignore[attr-defined]
            complaint=self.complaint.text(),  # type: ignore[attr-defined]
            notes=self.notes.toPlainText(),
        )

    def _validate(self) -> None:
        from app.records.patients import _validated

        data = self.data()
        _validated(data)  # raises ValidationError with the field name
        if self.check is not None:
            self.check(data)
        self.result_data = data


class VisitDialog(_Form):
    def __init__(
        self,
        data: VisitData | None = None,
        clinicians: list[tuple[int, str]] = (),  # type: ignore[assignment]
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Edit visit" if data else "New visit", parent)
        data = data or VisitData(visit_date=dt.date.today())
        self.date = self.add(
            "visit_date", "Date *", QLineEdit(_text(data.visit_date)), "YYYY-MM-DD"
        )
        self.clinician = QComboBox()
        self.clinician.addItem("—", None)
        for cid, name in clinicians:
            self.clinician.addItem(name, cid)
        self.clinician.setCurrentIndex(max(0, self.clinician.findData(data.clinician_id)))
        self.add("clinician_id", "Clinician", self.clinician)
        self.speed = self.add(
            "treadmill_speed_kmh",
            "Treadmill speed (km/h)",
            QLineEdit(_text(data.treadmill_speed_kmh)),
        )
        self.incline = self.add("incline_pct", "Incline (%)", QLineEdit(_text(data.incline_pct)))
        self.shoes = self.add("shoes", "Shoes", QLineEdit(_text(data.shoes)))
        self.pain_now = self.add(
            "pain_now",
            "Pain now (0–10)",
            QLineEdit(_text(data.pain_now)),
            "Numeric pain rating scale",
        )
        self.pain_worst = self.add(
            "pain_worst_24h", "Worst pain, last 24 h (0–10)", QLineEdit(_text(data.pain_worst_24h))
        )
        self.pain_run = self.add(
            "pain_running", "Pain during running (0–10)", QLineEdit(_text(data.pain_running))
        )
        self.notes = QPlainTextEdit(_text(data.notes))
        self.notes.setFixedHeight(80)
        self.add("notes", "Notes", self.notes)
        self.result_data: VisitData | None = None
        self.validate = self._validate
        self.check: Callable[[VisitData], None] | None = None

    def data(self) -> VisitData:
        return VisitData(
            visit_date=self.date.text().strip() or None,  # type: ignore[attr-defined]
            clinician_id=self.clinician.currentData(),
            treadmill_speed_kmh=self.speed.text(),  # type: ignore[attr-defined]
            incline_pct=self.incline.text(),  # type: ignore[attr-defined]
            shoes=self.shoes.text(),  # type: ignore[attr-defined]
            pain_now=self.pain_now.text(),  # type: ignore[attr-defined]
            pain_worst_24h=self.pain_worst.text(),  # type: ignore[attr-defined]
            pain_running=self.pain_run.text(),  # type: ignore[attr-defined]
            notes=self.notes.toPlainText(),
        )

    def _validate(self) -> None:
        data = self.data()
        if not data.visit_date:
            raise ValidationError("visit_date", "Please enter the visit date (YYYY-MM-DD).")
        if self.check is not None:
            self.check(data)
        self.result_data = data
