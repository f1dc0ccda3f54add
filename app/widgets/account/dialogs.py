"""Non-blocking questions: `QMessageBox.open()` plus a future (no nested event loop)."""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QMessageBox, QWidget


class Question:
    """A modal-looking, non-blocking question; `await answer()` gives the chosen key."""

    def __init__(
        self,
        parent: QWidget,
        title: str,
        text: str,
        choices: list[tuple[str, str, QMessageBox.ButtonRole]],
        default: str | None = None,
    ) -> None:
        self.box = QMessageBox(parent)
        self.box.setObjectName("accountQuestion")
        self.box.setIcon(QMessageBox.Icon.Warning)
        self.box.setWindowTitle(title)
        self.box.setText(text)
        self.buttons: dict[str, object] = {}
        self._future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        for key, label, role in choices:
            button = self.box.addButton(label, role)
            button.setObjectName(f"choice.{key}")
            self.buttons[key] = button
            if key == default:
                self.box.setDefaultButton(button)
        self.box.finished.connect(self._finished)

    def _finished(self, _code: int) -> None:
        clicked = self.box.clickedButton()
        key = next((k for k, b in self.buttons.items() if b is clicked), "")
        if not self._future.done():
            self._future.set_result(key)

    def click(self, key: str) -> None:
        """Answer programmatically (tests, scripted shutdown)."""
        button = self.buttons[key]
        button.click()  # type: ignore[attr-defined]

    async def answer(self) -> str:
        """Show the box (non-blocking) and wait for a choice; "" when dismissed."""
        self.box.open()
        try:
            return await self._future
        finally:
            self.box.hide()
            self.box.deleteLater()
