"""In-app toasts (and an optional sound) for fills, dead man's switch failures, disconnects and
positions close to liquidation.

`Notifier.notify(alert)` shows a small stacked card in the bottom-right corner of the host
window that fades out after a few seconds (urgent ones stay longer); at most `MAX_TOASTS` are
visible. `history` keeps the recent alerts for the status bar and tests.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QVBoxLayout, QWidget

from app.account.alerts import Alert, AlertKind
from app.gui.theme import current_theme

TOAST_MS = 5000
URGENT_TOAST_MS = 12000
MAX_TOASTS = 4
HISTORY = 200
MARGIN_PX = 14
TOAST_WIDTH = 320

_KIND_COLOUR: dict[AlertKind, str] = {
    "fill": "ok",
    "dms": "alert",
    "disconnect": "warn",
    "liquidation": "alert",
    "auth": "alert",
}


class Toast(QFrame):
    """One notification card."""

    def __init__(self, alert: Alert, parent: QWidget) -> None:
        super().__init__(parent)
        self.alert = alert
        self.setObjectName("toast")
        theme = current_theme()
        accent = getattr(theme, _KIND_COLOUR.get(alert.kind, "text"))
        self.setStyleSheet(
            f"QFrame#toast {{ background: {theme.window}; border: 1px solid {theme.grid};"
            f" border-left: 4px solid {accent}; border-radius: 4px; }}"
            f" QLabel {{ background: transparent; border: none; }}"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 8)
        layout.setSpacing(2)
        title = QLabel(alert.title, self)
        title.setStyleSheet(f"color: {accent}; font-weight: bold;")
        body = QLabel(alert.text, self)
        body.setWordWrap(True)
        body.setStyleSheet(f"color: {theme.text};")
        layout.addWidget(title)
        layout.addWidget(body)
        self.setFixedWidth(TOAST_WIDTH)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def mousePressEvent(self, event: object) -> None:  # click to dismiss
        self.close()


class Notifier(QObject):
    """Shows alerts as toasts over `host`; optionally beeps; keeps a short history."""

    notified = Signal(object)  # Alert

    def __init__(
        self,
        host: QWidget,
        *,
        sound: bool = False,
        clock: Callable[[], float] = time.time,
        beep: Callable[[], None] = QApplication.beep,
    ) -> None:
        super().__init__(host)
        self.host = host
        self.sound = sound
        self.enabled_kinds: set[AlertKind] = set(_KIND_COLOUR)
        self.history: deque[tuple[float, Alert]] = deque(maxlen=HISTORY)
        self._toasts: list[Toast] = []
        self._clock = clock
        self._beep = beep
        host.installEventFilter(self)

    def notify(self, alert: Alert) -> None:
        """Show (and remember) one alert, unless its kind is switched off."""
        if alert.kind not in self.enabled_kinds:
            return
        self.history.append((self._clock(), alert))
        toast = Toast(alert, self.host)
        self._toasts.append(toast)
        while len(self._toasts) > MAX_TOASTS:
            self._drop(self._toasts[0])
        toast.destroyed.connect(lambda *_a, t=toast: self._forget(t))
        QTimer.singleShot(URGENT_TOAST_MS if alert.urgent else TOAST_MS, toast, toast.close)
        toast.show()
        toast.raise_()
        self._layout()
        if self.sound:
            self._beep()
        self.notified.emit(alert)

    def visible_toasts(self) -> list[Toast]:
        return [t for t in self._toasts if t.isVisible()]

    def close_all(self) -> None:
        for toast in list(self._toasts):
            self._drop(toast)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.host and event.type() == QEvent.Type.Resize:
            self._layout()
        return False

    def _drop(self, toast: Toast) -> None:
        self._forget(toast)
        toast.close()

    def _forget(self, toast: Toast) -> None:
        if toast in self._toasts:
            self._toasts.remove(toast)

    def _layout(self) -> None:
        bottom = self.host.height() - MARGIN_PX
        for toast in reversed(self._toasts):
            toast.adjustSize()
            height = toast.sizeHint().height()
            toast.move(self.host.width() - TOAST_WIDTH - MARGIN_PX, bottom - height)
            bottom -= height + 6
