"""Toasts: shown over the host window, stacked, capped, optional sound, kinds can be muted."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QWidget

from app.account.alerts import Alert
from app.gui.notifications import MAX_TOASTS, Notifier

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


def test_toasts_stack_cap_and_beep(qtbot: Any) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    host.resize(800, 600)
    host.show()
    beeps: list[int] = []
    notifier = Notifier(host, sound=True, beep=lambda: beeps.append(1))
    seen: list[Any] = []
    notifier.notified.connect(seen.append)
    notifier.notify(Alert("fill", "Filled Buy XBTUSD", "100 @ 50,000.5"))
    notifier.notify(Alert("dms", "Dead man's switch", "refresh failed", urgent=True))
    toasts = notifier.visible_toasts()
    assert len(toasts) == 2 and len(beeps) == 2 and len(seen) == 2
    newest, older = toasts[-1], toasts[0]
    assert newest.geometry().bottom() <= 600 and newest.geometry().right() <= 800
    assert older.geometry().bottom() < newest.geometry().top()  # stacked upwards
    for i in range(MAX_TOASTS + 2):
        notifier.notify(Alert("disconnect", "Connection lost", f"#{i}"))
    assert len(notifier.visible_toasts()) == MAX_TOASTS
    assert len(notifier.history) == MAX_TOASTS + 4
    notifier.enabled_kinds.discard("fill")
    notifier.notify(Alert("fill", "muted", ""))
    assert notifier.history[-1][1].title != "muted"
    notifier.close_all()
    qtbot.waitUntil(lambda: notifier.visible_toasts() == [], timeout=1000)


def test_no_sound_by_default(qtbot: Any) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    beeps: list[int] = []
    notifier = Notifier(host, beep=lambda: beeps.append(1))
    notifier.notify(Alert("liquidation", "XBTUSD near liquidation", "mark is 2% away", urgent=True))
    assert beeps == []
