"""The non-blocking "Save layout as…" dialog: a name, checked as it is typed."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.gui.layouts import MAX_NAME_LENGTH, name_problem

NEW_HINT = "Keeps the docks' arrangement, the market sets and the docks' options."


class LayoutNameDialog(QDialog):
    """Asks for a layout name; emits `chosen(name)` on OK. OK stays disabled while the name is
    not valid, and the dialog says when the name replaces a saved layout.

    Open it with `open()` (never `exec()`: no nested event loop under qasync).
    """

    chosen = Signal(str)

    def __init__(self, find: Callable[[str], str | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layoutNameDialog")
        self.setWindowTitle("Save layout")
        self._find = find
        self.name_edit = QLineEdit(self)
        self.name_edit.setObjectName("layoutName")
        self.name_edit.setMaxLength(MAX_NAME_LENGTH)
        self.name_edit.setPlaceholderText("e.g. Scalping, Two markets")
        self.hint = QLabel(self)
        self.hint.setObjectName("layoutNameHint")
        self.hint.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(QLabel("Layout name", self))
        box.addWidget(self.name_edit)
        box.addWidget(self.hint)
        box.addWidget(self.buttons)
        self.setMinimumWidth(340)
        self.name_edit.textChanged.connect(self._check)

    @property
    def ok_button(self) -> QPushButton:
        button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert button is not None
        return button

    def prepare(self, suggestion: str) -> None:
        """Start from `suggestion` (the last layout used, or empty), selected for retyping."""
        self.name_edit.setText(suggestion)
        self.name_edit.selectAll()
        self.name_edit.setFocus()
        self._check(suggestion)

    def _check(self, text: str) -> None:
        problem = name_problem(text)
        existing = None if problem is not None else self._find(text)
        if problem is not None:
            self.hint.setText(problem if text.strip() else "")
        elif existing is not None:
            self.hint.setText(f"Replaces the saved layout “{existing}”.")
        else:
            self.hint.setText(NEW_HINT)
        self.ok_button.setEnabled(problem is None)
        self.ok_button.setText("Replace" if existing is not None else "Save")

    def accept(self) -> None:
        name = self.name_edit.text().strip()
        if name_problem(name) is not None:
            return
        super().accept()
        self.chosen.emit(name)
