"""A keyed, column-spec driven table model that updates in place (selection survives updates).

`RowsModel.set_rows(rows)` diffs by row key: removed keys → removeRows, new keys → insertRows,
reordering → layoutChanged with persistent indexes moved, then one dataChanged for the range.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from app.gui.theme import current_theme

Index = QModelIndex | QPersistentModelIndex
RAW_ROLE = int(Qt.ItemDataRole.UserRole) + 1


@dataclass(frozen=True)
class Column:
    """One column: title, raw value getter, text formatter, optional theme colour name."""

    title: str
    value: Callable[[Any], Any]
    text: Callable[[Any], str]
    numeric: bool = False
    colour: Callable[[Any], str | None] | None = None
    tooltip: Callable[[Any], str] | None = None


class RowsModel(QAbstractTableModel):
    """Rows of view objects shown through `Column` specs."""

    def __init__(
        self,
        columns: Sequence[Column],
        row_key: Callable[[Any], Hashable],
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._row_key = row_key
        self._rows: list[Any] = []
        self._keys: list[Hashable] = []

    # -- Qt API --------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if not 0 <= index.column() < len(self._columns):
            return None
        row = self._rows[index.row()]
        col = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.text(row)
        if role == RAW_ROLE:
            return col.value(row)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horiz = Qt.AlignmentFlag.AlignRight if col.numeric else Qt.AlignmentFlag.AlignLeft
            return int(horiz | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and col.colour is not None:
            name = col.colour(row)
            return QColor(getattr(current_theme(), name)) if name else None
        if role == Qt.ItemDataRole.ToolTipRole and col.tooltip is not None:
            return col.tooltip(row)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        col = self._columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.title
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horiz = Qt.AlignmentFlag.AlignRight if col.numeric else Qt.AlignmentFlag.AlignLeft
            return int(horiz | Qt.AlignmentFlag.AlignVCenter)
        return None

    # -- our API -------------------------------------------------------------------------------

    def rows(self) -> list[Any]:
        return list(self._rows)

    def column_titles(self) -> list[str]:
        return [c.title for c in self._columns]

    def text_rows(self) -> list[list[str]]:
        """What the table shows, as text (for tests and copy)."""
        return [[c.text(r) for c in self._columns] for r in self._rows]

    def set_rows(self, rows: Sequence[Any]) -> None:
        """Show `rows` (in order); keyed diff so selection and scroll position survive."""
        new_rows = list(rows)
        new_keys = [self._row_key(r) for r in new_rows]
        if len(set(new_keys)) != len(new_keys):  # duplicate keys: make them unique by position
            new_keys = [(k, i) for i, k in enumerate(new_keys)]
        new_set = set(new_keys)
        # 1. removals, bottom up in contiguous blocks
        i = len(self._keys) - 1
        while i >= 0:
            if self._keys[i] in new_set:
                i -= 1
                continue
            end = i
            while i >= 0 and self._keys[i] not in new_set:
                i -= 1
            self.beginRemoveRows(QModelIndex(), i + 1, end)
            del self._keys[i + 1 : end + 1]
            del self._rows[i + 1 : end + 1]
            self.endRemoveRows()
        # 2. insertions where the surviving order allows it
        by_key = dict(zip(new_keys, new_rows, strict=True))
        current = set(self._keys)
        for pos, key in enumerate(new_keys):
            if pos < len(self._keys) and self._keys[pos] == key:
                continue
            if key in current:
                continue  # an order change; fixed by the layout change below
            at = min(pos, len(self._keys))
            self.beginInsertRows(QModelIndex(), at, at)
            self._keys.insert(at, key)
            self._rows.insert(at, by_key[key])
            current.add(key)
            self.endInsertRows()
        # 3. reorder if needed
        if self._keys != new_keys:
            self.layoutAboutToBeChanged.emit()
            old_pos = {k: n for n, k in enumerate(self._keys)}
            new_pos = {k: n for n, k in enumerate(new_keys)}
            for idx in self.persistentIndexList():
                key = self._keys[idx.row()]
                self.changePersistentIndex(
                    idx, self.index(new_pos[key], idx.column()) if key in new_pos else QModelIndex()
                )
            del old_pos
            self._keys = list(new_keys)
            self._rows = list(new_rows)
            self.layoutChanged.emit()
        # 4. contents
        self._rows = list(new_rows)
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(self._columns) - 1)
            )
