"""The app's lifetime on qasync: closing the window cancels the feeds and returns cleanly."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from app.gui import launch
from app.gui import settings as cfg
from app.gui.main_window import MainWindow
from app.gui.runner import main_async


def _main_window() -> MainWindow | None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow) and widget.isVisible():
            return widget
    return None


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_closing_the_window_closes_feeds_and_saves_the_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    errors: list[dict[str, object]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _l, ctx: errors.append(ctx))
    parser = argparse.ArgumentParser()
    launch.add_arguments(parser)
    ini = tmp_path / "run.ini"
    args = parser.parse_args(["--demo", "--symbol", "ETHUSD", "--settings", str(ini)])
    task = asyncio.get_running_loop().create_task(main_async(app, args))
    deadline = time.monotonic() + 20
    window = None
    while time.monotonic() < deadline:
        window = _main_window()
        session = window.session if window is not None else None
        feed = session.bridge.feeds.get("bitmex") if session is not None else None
        if feed is not None and feed.state == "live":
            break
        await asyncio.sleep(0.05)
    assert window is not None and window.session is not None
    assert window.session.symbol == "ETHUSD"
    window.close()  # what the user does; File > Quit does the same
    assert await asyncio.wait_for(task, 15) == 0
    await asyncio.sleep(0.05)
    leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert leftovers == []
    assert errors == []
    saved = QSettings(str(ini), QSettings.Format.IniFormat)
    assert saved.value(cfg.KEY_STATE) is not None
    assert saved.value(cfg.KEY_VENUE) == "demo" and saved.value(cfg.KEY_SYMBOL) == "ETHUSD"
