"""Shared test set-up: offscreen Qt, the qasync loop factory for async GUI tests, fixture paths."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def _qt_loop_factory() -> asyncio.AbstractEventLoop:
    """A qasync loop on the one QApplication that pytest-qt's `qapp` also uses."""
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app)
    return loop


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Async tests marked `@pytest.mark.qt_loop` run on Qt's loop; the rest on asyncio's own."""
    if item.get_closest_marker("qt_loop") is not None:
        return {"qt": _qt_loop_factory}
    return {"asyncio": asyncio.new_event_loop}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "qt_loop: run this async test on a qasync (Qt) loop")


def read_frames(name: str) -> list[str]:
    """Non-empty lines of a fixture file under tests/fixtures (header lines already stripped)."""
    path = FIXTURES / name
    return [line for line in path.read_text().splitlines() if line.strip()]


def signal_future(signal: Any) -> asyncio.Future[tuple[Any, ...]]:
    """A future resolved by the next emission of a Qt signal (use instead of qtbot.waitSignal
    inside coroutines: nested event loops break under qasync)."""
    fut: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

    def _slot(*args: Any) -> None:
        if not fut.done():
            fut.set_result(args)
        signal.disconnect(_slot)

    signal.connect(_slot)
    return fut
