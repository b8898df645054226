"""Patient and visit forms. Validation lives in ``app.records``; the forms show its messages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QDate, QLocale, Qt
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
from app.records.visits import PreviousConditions, VisitData
from ui.db_errors import database_message
from ui.unsaved import GuardedDialog


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dt.date):
        return local_date_text(value)
    return str(value)


def _locale_date_format(locale: QLocale) -> str:
    """The locale's short date format with a four-digit year (“dd.MM.yy” → “dd.MM.yyyy”)."""
    fmt = locale.dateFormat(QLocale.FormatType.ShortFormat)
    if "yyyy" not in fmt:
        fmt = fmt.replace("yy", "yyyy")
    return fmt


def local_date_text(date: dt.date, locale: QLocale | None = None) -> str:
    """``date`` written as this computer's locale writes dates (four-digit year)."""
    locale = locale or QLocale.system()
    return locale.toString(QDate(date.year, date.month, date.day), _locale_date_format(locale))


def parse_local_date(text: str, field: str, locale: QLocale | None = None) -> str | None:
    """Typed date text → ISO text for ``app.records`` (which then checks future dates etc.).

    Accepted: ISO (1987-03-14), the system locale's own short form with a two- or four-digit
    year (14/03/1987 in the UK, 3/14/1987 in the US), and day-first dotted dates (14.03.1987;
    dots are written day-first wherever they are used). ISO-looking text goes through
    unchanged, so an impossible ISO date gets the records' own message.
    """
    text = " ".join(text.split())
    if not text:
        return None
    if len(text) >= 8 and text[:4].isdigit() and text[4] == "-":
        return text
    locale = locale or QLocale.system()
    short = locale.dateFormat(QLocale.FormatType.ShortFormat)
    four = _locale_date_format(locale)
    formats = [four, four.replace("yyyy", "yy"), short, "d.M.yyyy", "d.M.yy"]
    for fmt in formats:
        date = locale.toDate(text, fmt)
        if not date.isValid():
            date = QDate.fromString(text, fmt)
        if date.isValid():
            if "yyyy" not in fmt and date.addYears(100) <= QDate.currentDate():
                date = date.addYears(100)  # Qt reads “05” as 1905: the latest past year wins
            return date.toString("yyyy-MM-dd")
    example = local_date_text(dt.date(1987, 3, 14), locale)
    raise ValidationError(
        field, f"“{text}” is not a date. Type it as {example} or 1987-03-14 (year-month-day)."
    )


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
        for button in self.buttons.buttons():
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # clicks do not steal the focus
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
        self._fit_height()
        widget = self.fields.get(field)
        for w in self.fields.values():
            w.setProperty("invalid", w is widget)
            w.style().unpolish(w)
            w.style().polish(w)
        if widget is not None:
            widget.setFocus()

    def _fit_height(self) -> None:
        """Grow to fit a wrapped message, so it never covers the field above (it overlapped
        the Notes box: the layout had reserved one line for a two-line message)."""
        self.layout().activate()
        width = self.size().width()  # (``self.height`` is a field of PatientDialog)
        needed = max(
            self.layout().totalHeightForWidth(width), self.layout().totalMinimumSize().height()
        )
        if needed > self.size().height():
            self.resize(width, needed)

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802 - Qt API
        super().showEvent(event)
        # Typing goes into the first field, never onto Save (Space pressed Save on an empty form).
        first = next(iter(self.fields.values()), None)
        if first is not None and not any(w.hasFocus() for w in self.fields.values()):
            first.setFocus(Qt.FocusReason.OtherFocusReason)

    def _try_accept(self) -> None:
        try:
            if self.validate is not None:
                self.validate()
        except ValidationError as exc:
            self.show_error(exc.field, exc.message)
            return
        except Exception as exc:
            # A locked, read-only or full database: say so here and keep what was typed, so
            # the clinician can press Save again once the cause is gone.
            message = database_message(exc)
            if message is None:
                raise
            self.show_error("", message)
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
            f"e.g. {local_date_text(dt.date(1985, 4, 23))} (as this computer writes dates) "
            "or 1985-04-23",
        )
        self.dob.setPlaceholderText(_locale_date_format(QLocale.system()).upper())
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
            date_of_birth=parse_local_date(self.dob.text(), "date_of_birth"),  # type: ignore[attr-defined]
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
        *,
        previous: PreviousConditions | None = None,
    ) -> None:
        super().__init__("Edit visit" if data else "New visit", parent)
        if data is None and previous is not None:
            # A follow-up runs under the last visit's conditions, so cadences stay comparable.
            data = VisitData(
                visit_date=dt.date.today(),
                treadmill_speed_kmh=previous.treadmill_speed_kmh,
                incline_pct=previous.incline_pct,
                shoes=previous.shoes,
            )
        data = data or VisitData(visit_date=dt.date.today())
        self.date = self.add(
            "visit_date",
            "Date *",
            QLineEdit(_text(data.visit_date)),
            f"e.g. {local_date_text(dt.date.today())} or {dt.date.today().isoformat()}",
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
        self.prefill_note = QLabel()
        self.prefill_note.setObjectName("muted")
        self.prefill_note.setWordWrap(True)
        if previous is not None and previous.any():
            self.prefill_note.setText(
                "Treadmill speed, incline and shoes from the visit of "
                f"{previous.visit_date.isoformat()}: keep them the same so the cadence can be "
                "compared, or change them."
            )
            self.form.addRow("", self.prefill_note)
        else:
            self.prefill_note.hide()
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
            visit_date=parse_local_date(self.date.text(), "visit_date"),  # type: ignore[attr-defined]
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
