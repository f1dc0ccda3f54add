"""Runs the window on qasync: QApplication, loop, main() coroutine, clean shutdown.

Start-up and shutdown follow the pattern that never leaves a future behind: Qt does not quit on
its own (`setQuitOnLastWindowClosed(False)`); closing the window or File > Quit sets an asyncio
event; main() then saves the layout, cancels the feeds, closes their sockets, stops the
simulator, and only then returns.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.gui import venues

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from app.gui.main_window import MainWindow

log = logging.getLogger(__name__)


def prepare_qt_environment() -> None:
    """Pick PySide6 for qasync and pyqtgraph before either is imported."""
    os.environ.setdefault("QT_API", "pyside6")
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")


def initial_spec(args: argparse.Namespace, saved_venue: str, saved_symbol: str) -> object:
    """The session to open first: command-line choice, else the last one, else the demo."""
    from app.gui.session import SessionSpec

    replay = getattr(args, "replay", None)
    if replay:
        return SessionSpec(
            venues.REPLAY,
            replay_symbol(replay, getattr(args, "symbol", None)),
            replay,
            float(getattr(args, "speed", 1.0)),
        )
    symbol = (getattr(args, "symbol", None) or saved_symbol or venues.DEFAULT_SYMBOL).upper()
    chosen = getattr(args, "venue", None)
    if isinstance(chosen, str) and chosen in venues.SELECTABLE:
        return SessionSpec(chosen, venues.symbol_for(chosen, symbol))
    if getattr(args, "demo", False):
        return SessionSpec(venues.DEMO, symbol)
    if getattr(args, "url", None):
        return SessionSpec(venues.CUSTOM, symbol, args.url)
    if getattr(args, "testnet", False):
        return SessionSpec(venues.TESTNET, symbol)
    if saved_venue in venues.SELECTABLE:
        return SessionSpec(saved_venue, venues.symbol_for(saved_venue, symbol))
    return SessionSpec(venues.DEMO, symbol)


def replay_symbol(path: str, asked: str | None) -> str:
    """The symbol a replay shows first: the one asked for, else the recording's first, else
    the default."""
    from app.gui.session import replay_hints

    if asked:
        return asked.upper()
    symbols = replay_hints(path).symbols
    return symbols[0] if symbols else venues.DEFAULT_SYMBOL


def build_window(args: argparse.Namespace) -> MainWindow:
    """The main window with every feature dock, theme applied and layout restored."""
    from app.gui import settings as cfg
    from app.gui.features import install_default_features
    from app.gui.main_window import MainWindow
    from app.gui.theme import ThemeManager

    settings = cfg.open_settings(getattr(args, "settings", None))
    theme_name = getattr(args, "theme", None) or cfg.read_str(settings, cfg.KEY_THEME, "dark")
    themes = ThemeManager(theme_name)
    themes.apply()
    window = MainWindow(settings, themes)
    install_default_features(window)
    if getattr(args, "screenshot", None):
        window.apply_default_geometry()  # documentation pictures use the default layout
    else:
        window.restore_market_sets()  # their docks must exist before the state is restored
        window.restore_layout()
    for spec in market_args(getattr(args, "market", None) or []):
        window.add_market_set(spec)  # type: ignore[arg-type]
    return window


def market_args(values: list[str]) -> list[object]:
    """`--market VENUE:SYMBOL` values as SessionSpecs (unknown venues are skipped, logged)."""
    from app.gui.session import SessionSpec

    specs: list[object] = []
    for value in values:
        key, _, symbol = value.partition(":")
        if key not in venues.SELECTABLE:
            log.error("unknown venue %r in --market %s", key, value)
            continue
        specs.append(SessionSpec(key, venues.symbol_for(key, symbol)))
    return specs


async def main_async(app: QApplication, args: argparse.Namespace) -> int:
    """The application's lifetime: window and feeds live inside this coroutine."""
    from app.gui import settings as cfg
    from app.gui.controller import SessionController
    from app.gui.session import SimHost

    close_requested = asyncio.Event()
    app.aboutToQuit.connect(close_requested.set)
    window = build_window(args)
    window.defer_close = True
    window.close_requested.connect(close_requested.set)
    controller = SessionController(window, SimHost(seed=int(getattr(args, "seed", 1) or 1)))
    persist = not getattr(args, "screenshot", None)
    exit_code = 0
    timer: asyncio.Task[bool] | None = None
    try:
        spec = initial_spec(
            args,
            cfg.read_str(window.settings, cfg.KEY_VENUE, ""),
            cfg.read_str(window.settings, cfg.KEY_SYMBOL, ""),
        )
        window.show()
        await controller.switch(spec)  # type: ignore[arg-type]
        await controller.open_saved_sets()
        quit_after = getattr(args, "quit_after", None)
        if quit_after is not None:
            timer = asyncio.get_running_loop().create_task(
                _quit_later(
                    window, float(quit_after), getattr(args, "screenshot", None), close_requested
                )
            )
        await close_requested.wait()
        if timer is not None and timer.done() and not timer.cancelled():
            exit_code = 0 if timer.result() else 1
    finally:
        if timer is not None and not timer.done():
            timer.cancel()
            await asyncio.gather(timer, return_exceptions=True)
        if persist:
            window.save_layout()
        await window.run_shutdown_hooks()
        await controller.close()
        window.defer_close = False
        window.close()
        window.deleteLater()
    return exit_code


async def _quit_later(
    window: MainWindow, seconds: float, screenshot: str | None, done: asyncio.Event
) -> bool:
    """Wait, optionally save a picture of the whole window, then ask to quit."""
    await asyncio.sleep(seconds)
    ok = True
    if screenshot:
        ok = save_window_picture(window, Path(screenshot))
    done.set()
    return ok


def save_window_picture(window: MainWindow, path: Path) -> bool:
    """Grab the whole window (menus, docks, status bar) into a PNG file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ok = window.grab().save(str(path), "PNG")
    if not ok:
        log.error("could not write %s", path)
    return bool(ok)


def run_window(args: argparse.Namespace) -> int:
    """Create the QApplication and run `main_async` on a qasync loop until the window closes."""
    prepare_qt_environment()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    import qasync
    from PySide6.QtWidgets import QApplication

    from app.gui import settings as cfg

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setOrganizationName(cfg.ORGANISATION)
    app.setApplicationName(cfg.APPLICATION)
    app.setQuitOnLastWindowClosed(False)
    factory = functools.partial(qasync.QEventLoop, app)
    coro = main_async(app, args)
    if sys.version_info >= (3, 12):
        return asyncio.run(coro, loop_factory=factory)
    with asyncio.Runner(loop_factory=factory) as runner:  # pragma: no cover - Python 3.11
        return runner.run(coro)
