"""A read-only table model over a list of row objects, with per-frame pre-formatted cells.

Subclasses declare `HEADERS` and implement `cells(row) -> list[Cell]`. `refresh(rows)` formats
once, then tells the view with row inserts/removes at the end and one range `dataChanged`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from app.gui.theme import Theme, current_theme, monospace_font

Index = QModelIndex | QPersistentModelIndex
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


@dataclass(slots=True, frozen=True)
class Cell:
    """One formatted cell: text plus optional colour names from the theme."""

    text: str
    fg: str | None = None  # theme attribute, e.g. "buy"
    bg: str | None = None
    align: int = RIGHT
    tooltip: str | None = None
    bold: bool = False


class FixedColumnsModel(QAbstractTableModel):
    """The Qt plumbing every read-only table model of the widgets shares: a flat list of rows
    under fixed `HEADERS`, header alignment per column, optional row selection, and the index
    check of `data()` (`cell_at`). Subclasses implement `row_total()` and `data()`."""

    HEADERS: ClassVar[tuple[str, ...]] = ()
    SELECTABLE: ClassVar[bool] = True

    def row_total(self) -> int:
        """Number of rows (override)."""
        raise NotImplementedError

    def header_alignment(self, section: int) -> int:
        """Alignment of a column's header: the first left, the others right (override)."""
        return LEFT if section == 0 else RIGHT

    def cell_at(self, index: Index) -> tuple[int, int] | None:
        """(row, column) of a valid index inside the table, else None."""
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if not (0 <= r < self.row_total()) or not (0 <= c < len(self.HEADERS)):
            return None
        return r, c

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.row_total()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.HEADERS):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.HEADERS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return self.header_alignment(section)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if self.SELECTABLE:
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return Qt.ItemFlag.ItemIsEnabled


class RowTableModel(FixedColumnsModel):
    """Base model: formatted cells per row, brushes cached per theme."""

    def __init__(self) -> None:
        super().__init__()
        self._items: list[Any] = []
        self._cells: list[list[Cell]] = []
        self._brushes: dict[str, QBrush] = {}
        self._theme = current_theme()
        self._font = monospace_font()
        self._bold = QFont(self._font)
        self._bold.setBold(True)

    def cells(self, item: Any) -> list[Cell]:
        """The formatted cells of one row (override)."""
        raise NotImplementedError

    def items(self) -> list[Any]:
        """The row objects shown."""
        return list(self._items)

    def cell(self, row: int, column: int) -> Cell:
        """The formatted cell at (row, column)."""
        return self._cells[row][column]

    def apply_theme(self, theme: Theme) -> None:
        """New colours; repaint everything."""
        self._theme = theme
        self._brushes.clear()
        self._emit_changed(0, len(self._items) - 1)

    def key(self, item: Any) -> Hashable:
        """Identity of a row across refreshes (override; default: the item itself)."""
        return item

    def refresh(self, items: Sequence[Any]) -> None:
        """Show `items` (in order): rows that left are removed, new ones inserted in place,
        and one range `dataChanged` covers the rest; a reorder resets the model."""
        new_items = list(items)
        new_keys = [self.key(i) for i in new_items]
        if len(set(new_keys)) != len(new_keys):
            self._reset(new_items)
            return
        wanted = set(new_keys)
        keys = [self.key(i) for i in self._items]
        for row in range(len(keys) - 1, -1, -1):
            if keys[row] not in wanted:
                self.beginRemoveRows(QModelIndex(), row, row)
                del keys[row]
                del self._items[row]
                del self._cells[row]
                self.endRemoveRows()
        kept = set(keys)
        if keys != [k for k in new_keys if k in kept]:
            self._reset(new_items)
            return
        for row, key in enumerate(new_keys):
            if row < len(keys) and keys[row] == key:
                continue
            self.beginInsertRows(QModelIndex(), row, row)
            keys.insert(row, key)
            self._items.insert(row, new_items[row])
            self._cells.insert(row, self.cells(new_items[row]))
            self.endInsertRows()
        new_cells = [self.cells(item) for item in new_items]
        changed = [r for r in range(len(new_cells)) if new_cells[r] != self._cells[r]]
        self._items = new_items
        self._cells = new_cells
        if changed:
            self._emit_changed(changed[0], changed[-1])

    def _reset(self, items: list[Any]) -> None:
        self.beginResetModel()
        self._items = items
        self._cells = [self.cells(item) for item in items]
        self.endResetModel()

    def _emit_changed(self, first: int, last: int) -> None:
        if last >= first >= 0:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.HEADERS) - 1))

    def _brush(self, name: str) -> QBrush:
        brush = self._brushes.get(name)
        if brush is None:
            brush = self._brushes[name] = QBrush(self._theme.qcolor(name))
        return brush

    # ---- Qt model interface ----------------------------------------------------------
    def row_total(self) -> int:
        return len(self._items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        at = self.cell_at(index)
        if at is None:
            return None
        cell = self._cells[at[0]][at[1]]
        if role == Qt.ItemDataRole.DisplayRole:
            return cell.text
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return cell.align
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._brush(cell.fg) if cell.fg else None
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._brush(cell.bg) if cell.bg else None
        if role == Qt.ItemDataRole.FontRole:
            return self._bold if cell.bold else self._font
        if role == Qt.ItemDataRole.ToolTipRole:
            return cell.tooltip
        return None


def make_table_view(
    model: QAbstractTableModel,
    parent: QWidget,
    name: str,
    widths: dict[int, str] | None = None,
    fit_contents: bool = False,
) -> QTableView:
    """A read-only, row-selecting, compact table view for a RowTableModel.

    `widths` fixes columns to the width of a sample text (the rest stretch); `fit_contents`
    sizes every column to its contents (for small tables such as positions).
    """
    view = QTableView(parent)
    view.setObjectName(name)
    view.setModel(model)
    view.setFont(monospace_font())
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    vh = view.verticalHeader()
    vh.hide()
    vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    vh.setDefaultSectionSize(view.fontMetrics().height() + 4)
    hh = view.horizontalHeader()
    hh.setHighlightSections(False)
    if fit_contents:
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setStretchLastSection(True)
        return view
    hh.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    metrics = view.fontMetrics()
    for column, sample in (widths or {}).items():
        hh.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
        hh.resizeSection(column, metrics.horizontalAdvance(sample) + 12)
    return view
