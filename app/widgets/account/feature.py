"""Puts the account panel into the main window: dock, status-bar messages, toasts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from app.gui.notifications import Notifier
from app.widgets.account.panel import AccountPanel

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow

DOCK_NAME = "account"


def install_account_dock(window: MainWindow, *, split_of: str | None = None) -> AccountPanel:
    """Add the account dock (objectName `dock.account`) and wire its messages and alerts.

    The caller should `await panel.shutdown()` before closing the feeds on quit, so an armed
    dead man's switch is offered to be turned off first.
    """
    panel = AccountPanel()
    window.add_feature_dock(
        DOCK_NAME,
        panel,
        Qt.DockWidgetArea.BottomDockWidgetArea,
        title="Account",
        split_of=split_of,
        size=260,
    )
    panel.status_message.connect(window.statusBar().showMessage)
    panel.set_notifier(Notifier(window))
    return panel
