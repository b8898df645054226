"""The patient list: instant, accent-insensitive search over every patient of the clinic."""

from __future__ import annotations

import bisect
import datetime as dt

from PySide6.QtCore import (
    QAbstractProxyModel,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.records.patients import PatientRow
from app.records.validation import name_key

_Index = QModelIndex | QPersistentModelIndex
#: A patient row's cells: selectable, never edited here (what the table model gives).
_ROW_FLAGS = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren


def _age(dob: dt.date | None) -> str:
    if dob is None:
        return ""
    today = dt.date.today()
    return str(today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day)))


class PatientTableModel(QAbstractTableModel):
    HEADERS = ("Name", "Age", "Last visit", "Complaint")

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[PatientRow] = []
        self._shown: dict[int, tuple[str, str, str, str]] = {}  # row -> its cells, once drawn
        self._shown_on = dt.date.today()
        self._row_of: dict[int, int] | None = None  # patient id -> row, built when first asked

    def set_rows(self, rows: list[PatientRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self._shown = {}
        self._row_of = None
        self.endResetModel()

    def cells(self, r: int) -> tuple[str, str, str, str]:
        """The four texts of row ``r``, computed once (a view asks for them on every repaint,
        some ten times per keystroke while the list is filtered)."""
        today = dt.date.today()
        if today != self._shown_on:  # ages move on at midnight
            self._shown, self._shown_on = {}, today
        got = self._shown.get(r)
        if got is None:
            row = self.rows[r]
            got = self._shown[r] = (
                row.full_name,
                _age(row.date_of_birth),
                row.last_visit.isoformat() if row.last_visit else "—",
                row.complaint,
            )
        return got

    def value(self, r: int, column: int, role: int):  # type: ignore[no-untyped-def]
        """What :meth:`data` gives for row ``r`` (also asked directly by the filter)."""
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cells(r)[column]
        if role == Qt.ItemDataRole.UserRole:
            return self.rows[r].id
        if role == Qt.ItemDataRole.ToolTipRole:
            row = self.rows[r]
            dob = row.date_of_birth.isoformat() if row.date_of_birth else "unknown"
            return f"{row.full_name}\nBorn {dob} · {row.visit_count} visit(s)\n{row.complaint}"
        return None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ):  # type: ignore[no-untyped-def]
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        if not index.isValid():
            return None
        return self.value(index.row(), index.column(), role)

    def row_for_id(self, patient_id: int) -> int:
        if self._row_of is None:
            self._row_of = {r.id: i for i, r in enumerate(self.rows)}
        return self._row_of.get(patient_id, -1)


class PatientFilter(QAbstractProxyModel):
    """Every typed word must occur in the name (accents and case ignored).

    The rows are matched in one pure-Python pass over the folded names, and the view learns
    the result through one model reset. (A ``QSortFilterProxyModel`` called a Python
    ``filterAcceptsRow`` once per patient: 10,000 calls from C++ per keystroke, 29–55 ms.)
    Only the rows on screen are ever mapped, so a keystroke costs the same whatever the view.
    """

    def __init__(self) -> None:
        super().__init__()
        self._words: list[str] = []
        self._rows: list[int] = []  # source row of each shown row, in source order

    # --- filtering ----------------------------------------------------------------------------
    def setSourceModel(self, model: PatientTableModel) -> None:  # type: ignore[override]  # noqa: N802
        super().setSourceModel(model)
        model.modelAboutToBeReset.connect(self.beginResetModel)
        model.modelReset.connect(self._source_reset)
        self._match()

    def set_text(self, text: str) -> None:
        words = name_key(text).split()
        if words == self._words:
            return
        narrowing = bool(self._words) and all(
            any(old in new for new in words) for old in self._words
        )
        self.beginResetModel()
        self._words = words
        self._match(within=self._rows if narrowing else None)
        self.endResetModel()

    def _source_reset(self) -> None:
        self._match()
        self.endResetModel()

    def _match(self, within: list[int] | None = None) -> None:
        model = self.sourceModel()
        rows = model.rows if model is not None else []  # type: ignore[attr-defined]
        words = self._words
        candidates = range(len(rows)) if within is None else within
        if not words:
            self._rows = list(range(len(rows)))
        elif len(words) == 1:
            (w,) = words
            self._rows = [i for i in candidates if w in rows[i].name_key]
        else:
            self._rows = [i for i in candidates if all(w in rows[i].name_key for w in words)]

    def source_rows(self) -> list[int]:
        """Source rows shown, in order (for tests and callers that need the match itself)."""
        return list(self._rows)

    # --- QAbstractProxyModel ------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        model = self.sourceModel()
        return 0 if parent.isValid() or model is None else model.columnCount()

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if parent.isValid() or not (0 <= row < len(self._rows)) or not (
            0 <= column < self.columnCount()
        ):
            return QModelIndex()
        return self.createIndex(row, column)

    def parent(self, index: _Index | None = None):  # type: ignore[override]  # a flat table
        if index is None:
            return QObject.parent(self)
        return QModelIndex()

    def mapToSource(self, proxy_index: _Index) -> QModelIndex:  # noqa: N802
        if not proxy_index.isValid() or proxy_index.row() >= len(self._rows):
            return QModelIndex()
        return self.sourceModel().index(self._rows[proxy_index.row()], proxy_index.column())

    def mapFromSource(self, source_index: _Index) -> QModelIndex:  # noqa: N802
        if not source_index.isValid():
            return QModelIndex()
        # The shown rows are in source order: a bisection finds one, no 10,000-entry table.
        row = source_index.row()
        pos = bisect.bisect_left(self._rows, row)
        if pos < len(self._rows) and self._rows[pos] == row:
            return self.index(pos, source_index.column())
        return QModelIndex()

    # Asked by the view for every cell and role on each repaint: answered here from the shown
    # row, not through mapToSource and a source index (two Python calls and an index each).
    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        return self.sourceModel().value(self._rows[index.row()], index.column(), role)  # type: ignore[attr-defined]

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _ROW_FLAGS

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and self.sourceModel() is not None:
            return self.sourceModel().headerData(section, orientation, role)
        return None


class PatientListPanel(QWidget):
    patient_selected = Signal(object)  # int | None
    new_requested = Signal()
    edit_requested = Signal(int)
    delete_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = PatientTableModel()
        self.proxy = PatientFilter()
        self.proxy.setSourceModel(self.model)
        self._selected_id: int | None = None
        self._emitted = False
        self._quiet = False

        self.search = QLineEdit(placeholderText="Search by name…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search patients")
        self.search.textChanged.connect(self._on_search)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # Fixed widths: ResizeToContents would measure all 10,000 rows on every filter change.
        for col, sample in ((1, "Age "), (2, " 2026-12-31 ")):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(col, self.fontMetrics().horizontalAdvance(sample) + 16)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnHidden(3, True)
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        self.table.doubleClicked.connect(lambda _i: self._emit_edit())

        self.count_label = QLabel()
        self.count_label.setObjectName("muted")
        self.count_label.setWordWrap(True)

        new_btn = QPushButton("New patient…")
        new_btn.clicked.connect(self.new_requested)
        self.edit_btn = QPushButton("Edit…")
        self.edit_btn.clicked.connect(self._emit_edit)
        self.delete_btn = QPushButton("Delete…")
        self.delete_btn.clicked.connect(self._emit_delete)

        # Two rows: narrow enough that the list and the marking screen fit side by side at
        # 1280 px (three buttons in a row held the list at 279 px).
        buttons = QGridLayout()
        buttons.setSpacing(4)
        buttons.addWidget(new_btn, 0, 0, 1, 2)
        buttons.addWidget(self.edit_btn, 1, 0)
        buttons.addWidget(self.delete_btn, 1, 1)
        buttons.setColumnStretch(2, 1)
        # Narrow enough that the list and the marking screen fit side by side at 1280 px.
        self.setMinimumWidth(0)
        self.search.setMinimumWidth(120)

        title = QLabel("Patients")
        title.setObjectName("sectionTitle")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(title)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)
        layout.addLayout(buttons)
        self._update_buttons()

    # --- public --------------------------------------------------------------------------
    def set_rows(self, rows: list[PatientRow], *, select_id: int | None = None) -> None:
        keep = select_id if select_id is not None else self.current_id()
        self.model.set_rows(rows)
        self._update_count()
        if keep is not None:
            self.select(keep)
        else:
            self._update_buttons()

    def select(self, patient_id: int) -> bool:
        row = self.model.row_for_id(patient_id)
        if row < 0:
            return False
        proxy_index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not proxy_index.isValid():
            self.search.clear()
            proxy_index = self.proxy.mapFromSource(self.model.index(row, 0))
        self.table.setCurrentIndex(proxy_index)
        self.table.scrollTo(proxy_index)
        return True

    def current_id(self) -> int | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return int(self.proxy.data(index, Qt.ItemDataRole.UserRole))

    # --- internals -----------------------------------------------------------------------
    def _on_search(self, text: str) -> None:
        keep = self._selected_id
        self._quiet = True  # the filter's reset is not a new choice of patient
        try:
            self.proxy.set_text(text)
            row = self.model.row_for_id(keep) if keep is not None else -1
            index = self.proxy.mapFromSource(self.model.index(row, 0)) if row >= 0 else None
            if index is not None and index.isValid():
                self.table.setCurrentIndex(index)  # still shown: stays selected
        finally:
            self._quiet = False
        self._update_count()
        if self.proxy.rowCount() == 1:
            self.table.setCurrentIndex(self.proxy.index(0, 0))
        self._on_current(self.table.currentIndex(), QModelIndex())

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._quiet:
            return
        self._update_buttons()
        pid = self.current_id()
        if pid != self._selected_id or not self._emitted:
            # only a real change of patient: the view reloads and the audit trail logs a view
            self._selected_id, self._emitted = pid, True
            self.patient_selected.emit(pid)

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        if total == 0:
            self.count_label.setText("No patients yet. Create the first one with “New patient…”.")
        elif shown == total:
            self.count_label.setText(f"{total} patient{'s' if total != 1 else ''}")
        elif shown == 0:
            self.count_label.setText(f"No patient matches “{self.search.text()}”.")
        else:
            self.count_label.setText(f"{shown} of {total} patients")

    def _update_buttons(self) -> None:
        has = self.current_id() is not None
        self.edit_btn.setEnabled(has)
        self.delete_btn.setEnabled(has)

    def _emit_edit(self) -> None:
        pid = self.current_id()
        if pid is not None:
            self.edit_requested.emit(pid)

    def _emit_delete(self) -> None:
        pid = self.current_id()
        if pid is not None:
            self.delete_requested.emit(pid)
