"""Dead man's switch controls: on/off toggle, timeout spin box, live countdown, red banner."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.account.constants import DMS_DEFAULT_TIMEOUT_S, DMS_MAX_TIMEOUT_S, DMS_MIN_TIMEOUT_S
from app.account.dms import DmsStatus, refresh_period
from app.gui.theme import current_theme
from app.widgets.account.formatting import fmt_countdown

COUNTDOWN_MS = 250


def _utc(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return time.strftime("%H:%M:%S", time.gmtime(epoch)) + " UTC"


class DmsBar(QWidget):
    """Shows a `DmsStatus`; asks for arm/disarm through signals (the panel owns the controller)."""

    arm_requested = Signal(float)  # timeout seconds
    disarm_requested = Signal()
    acknowledged = Signal()

    def __init__(
        self,
        seconds_left: Callable[[], float | None] = lambda: None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("dmsBar")
        self._seconds_left = seconds_left
        self._status: DmsStatus | None = None
        self.toggle = QCheckBox("Dead man's switch", self)
        self.toggle.setObjectName("dmsToggle")
        self.toggle.setToolTip(
            "While on, the server cancels ALL your open orders unless the app refreshes "
            "cancelAllAfter in time (refreshed every timeout/4)."
        )
        self.timeout = QSpinBox(self)
        self.timeout.setObjectName("dmsTimeout")
        self.timeout.setRange(DMS_MIN_TIMEOUT_S, DMS_MAX_TIMEOUT_S)
        self.timeout.setValue(DMS_DEFAULT_TIMEOUT_S)
        self.timeout.setSuffix(" s")
        self.timeout.setToolTip("Timeout sent to cancelAllAfter (minimum 5 s)")
        self.state_label = QLabel("off", self)
        self.state_label.setObjectName("dmsState")
        self.countdown = QLabel("", self)
        self.countdown.setObjectName("dmsCountdown")
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.countdown.setMinimumWidth(170)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.toggle)
        row.addWidget(self.timeout)
        row.addSpacing(8)
        row.addWidget(self.state_label, 1)
        row.addWidget(self.countdown)
        self.banner = QLabel("", self)
        self.banner.setObjectName("dmsBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.dismiss = QPushButton("Dismiss", self)
        self.dismiss.setObjectName("dmsDismiss")
        self.dismiss.hide()
        banner_row = QHBoxLayout()
        banner_row.setContentsMargins(0, 0, 0, 0)
        banner_row.addWidget(self.banner, 1)
        banner_row.addWidget(self.dismiss, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(row)
        layout.addLayout(banner_row)
        self.toggle.clicked.connect(self._on_toggle)
        self.timeout.editingFinished.connect(self._on_timeout_changed)
        self.dismiss.clicked.connect(self.acknowledged.emit)
        self._timer = QTimer(self)
        self._timer.setInterval(COUNTDOWN_MS)
        self._timer.timeout.connect(self._tick)
        self.set_enabled_for_session(False)

    # -- inputs --------------------------------------------------------------------------------

    def set_enabled_for_session(self, logged_in: bool) -> None:
        """The switch needs an authenticated account connection."""
        self.toggle.setEnabled(logged_in)
        if not logged_in:
            self.toggle.setChecked(False)

    def _on_toggle(self, checked: bool) -> None:
        if checked:
            self.arm_requested.emit(float(self.timeout.value()))
        else:
            self.disarm_requested.emit()

    def _on_timeout_changed(self) -> None:
        status = self._status
        value = float(self.timeout.value())
        if status is not None and status.enabled and status.timeout_s != value:
            self.arm_requested.emit(value)

    # -- display -------------------------------------------------------------------------------

    def show_status(self, status: DmsStatus) -> None:
        self._status = status
        theme = current_theme()
        self.toggle.setChecked(status.enabled)
        if (
            status.enabled
            and int(status.timeout_s) != self.timeout.value()
            and not self.timeout.hasFocus()
        ):
            self.timeout.setValue(int(status.timeout_s))
        period = refresh_period(status.timeout_s)
        texts = {
            "off": ("off (confirmed by the server)" if status.confirmed_off else "off", "dim_text"),
            "arming": ("arming… waiting for the server", "warn"),
            "armed": (f"armed · refresh every {period:g} s", "ok"),
            "alarm": ("ALARM", "alert"),
            "disarming": ("turning off… waiting for the server", "warn"),
        }
        text, colour = texts[status.phase]
        self.state_label.setText(text)
        self.state_label.setStyleSheet(f"color: {getattr(theme, colour)}; font-weight: bold;")
        if status.alarm:
            self.banner.setText(f"Dead man's switch: {status.alarm}")
            self.banner.setStyleSheet(
                f"background: {theme.alert}; color: #ffffff; font-weight: bold;"
                " padding: 6px; border-radius: 3px;"
            )
            self.banner.show()
            self.dismiss.hide()
        elif status.recovered_from:
            self.banner.setText(
                f"Recovered — the switch is armed again after: {status.recovered_from}"
            )
            self.banner.setStyleSheet(
                f"background: {theme.sell_bg}; color: {theme.text}; padding: 6px;"
                f" border: 1px solid {theme.warn}; border-radius: 3px;"
            )
            self.banner.show()
            self.dismiss.show()
        else:
            self.banner.hide()
            self.dismiss.hide()
        if status.cancel_at is not None:
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()
        self._tick()

    def banner_text(self) -> str:
        return self.banner.text() if not self.banner.isHidden() else ""

    def _tick(self) -> None:
        status = self._status
        if status is None or status.cancel_at is None:
            self.countdown.setText("")
            return
        left = self._seconds_left()
        theme = current_theme()
        if left is None:
            self.countdown.setText("")
            return
        if left <= 0:
            self.countdown.setText(f"expired {_utc(status.server_cancel_time)}")
            colour = theme.alert
        else:
            self.countdown.setText(
                f"cancel in {fmt_countdown(left)}  ({_utc(status.server_cancel_time)})"
            )
            colour = theme.alert if left < refresh_period(status.timeout_s) else theme.text
        self.countdown.setStyleSheet(f"color: {colour}; font-family: monospace;")
