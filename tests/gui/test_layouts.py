"""Named layouts (View → Layouts): save, switch, delete; market sets follow the layout; names
validated; layouts outlive the window; unknown venues and broken entries are skipped."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QSettings, Qt
from PySide6.QtWidgets import QDockWidget
from pytestqt.qtbot import QtBot

from app.gui import settings as cfg
from app.gui import venues
from app.gui.controller import SessionController
from app.gui.features import install_default_features
from app.gui.layout_dialog import NEW_HINT
from app.gui.layouts import market_sets_json, name_problem, parse_market_sets
from app.gui.main_window import MainWindow
from app.gui.session import SessionSpec
from app.gui.theme import ThemeManager
from tests.gui.conftest import wait_until

Area = Qt.DockWidgetArea
BITMART = SessionSpec(venues.BITMART_DEMO, "XBTUSD")
ETH = SessionSpec(venues.DEMO, "ETHUSD")
LEGACY = SessionSpec(venues.BITMART_LEGACY_DEMO, "ETHUSD")


def _window(qtbot: QtBot, settings: QSettings, themes: ThemeManager) -> MainWindow:
    win = MainWindow(settings, themes)
    install_default_features(win)
    qtbot.addWidget(win)
    win.apply_default_geometry()
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def window(
    qtbot: QtBot,
    settings: QSettings,
    themes: ThemeManager,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> MainWindow:
    monkeypatch.setenv("HOME", str(tmp_path))
    return _window(qtbot, settings, themes)


def _flush_deletes() -> None:
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _docks_named(window: MainWindow, object_name: str) -> list[QDockWidget]:
    return [d for d in window.findChildren(QDockWidget) if d.objectName() == object_name]


def _menu_names(window: MainWindow, prefix: str) -> list[str]:
    menu = window.layouts.menu if prefix == "load" else window.layouts.delete_menu
    tag = f"action.layout.{prefix}."
    return [a.objectName()[len(tag) :] for a in menu.actions() if a.objectName().startswith(tag)]


def test_loading_a_layout_brings_back_docks_market_sets_and_options(
    window: MainWindow,
) -> None:
    window.add_market_set(BITMART)
    window.addDockWidget(Area.RightDockWidgetArea, window.dock("tape"))
    window.addDockWidget(Area.TopDockWidgetArea, window.dock("ladder.m2"))
    window.dock("liquidations").hide()
    window.feature("chart").set_timeframe("15m")
    ladder = window.feature("ladder.m2")
    ladder.group_box.setCurrentIndex(ladder.group_box.findData(10))
    assert window.layouts.save("Scalping")
    assert window.statusBar().currentMessage() == "Layout “Scalping” saved."

    window.reset_layout()  # a different arrangement, and different market sets
    window.feature("chart").set_timeframe("1h")
    window.remove_market_set("m2")
    assert window.add_market_set(ETH) == "m2"  # the id comes back with another market
    window.add_market_set(LEGACY)
    _flush_deletes()
    assert window.dockWidgetArea(window.dock("tape")) == Area.LeftDockWidgetArea
    assert window.dock("liquidations").isVisible()
    added: list[tuple[str, object]] = []
    removed: list[str] = []
    window.market_set_added.connect(lambda i, s: added.append((i, s)))
    window.market_set_removed.connect(removed.append)

    assert window.layouts.load("Scalping")
    _flush_deletes()
    assert window.market_sets() == {"m2": BITMART}
    assert sorted(removed) == ["m2", "m3"] and added == [("m2", BITMART)]
    assert window.dock_names()[-3:] == ["ladder.m2", "chart.m2", "tape.m2"]
    assert "ladder.m3" not in window.dock_names() and not _docks_named(window, "dock.ladder.m3")
    assert len(_docks_named(window, "dock.ladder.m2")) == 1
    assert window.dock("tape.m2").windowTitle() == "Tape · BitMart (demo, v3) · XBTUSD"
    assert window.dockWidgetArea(window.dock("tape")) == Area.RightDockWidgetArea
    assert window.dockWidgetArea(window.dock("ladder.m2")) == Area.TopDockWidgetArea
    assert window.dockWidgetArea(window.dock("chart.m2")) == Area.BottomDockWidgetArea
    assert window.dock("ladder.m2").isVisible() and window.dock("ladder").isVisible()
    assert not window.dock("liquidations").isVisible()
    assert window.feature("chart").timeframe == "15m"
    assert window.feature("ladder.m2").model.grouping == 10
    assert window.statusBar().currentMessage() == "Layout “Scalping” loaded."

    # loading it again keeps the equal market set: no session is closed or opened
    added.clear()
    removed.clear()
    kept = window.dock("ladder.m2")
    assert window.layouts.load("scalping")  # names match in any case
    assert (added, removed) == ([], []) and window.dock("ladder.m2") is kept


def test_layouts_outlive_the_window_and_are_listed_by_name(
    qtbot: QtBot, window: MainWindow, settings: QSettings, themes: ThemeManager
) -> None:
    window.add_market_set(LEGACY)
    window.dock("positions").hide()
    assert window.layouts.save("two markets")
    window.remove_market_set("m2")
    window.dock("positions").show()
    assert window.layouts.save("  Ladder only  ")  # trimmed
    assert window.layouts.save("A & B")
    assert window.layouts.names() == ["A & B", "Ladder only", "two markets"]
    assert _menu_names(window, "load") == ["A & B", "Ladder only", "two markets"]
    texts = [a.text() for a in window.layouts.menu.actions() if a.text()]
    assert texts[:4] == ["&Save layout as…", "A && B", "Ladder only", "two markets"]

    again = _window(qtbot, QSettings(settings.fileName(), QSettings.Format.IniFormat), themes)
    assert again.layouts.names() == ["A & B", "Ladder only", "two markets"]
    assert _menu_names(again, "delete") == ["A & B", "Ladder only", "two markets"]
    load = next(
        a
        for a in again.layouts.menu.actions()
        if a.objectName() == "action.layout.load.two markets"
    )
    load.trigger()
    assert again.market_sets() == {"m2": LEGACY}
    assert not again.dock("positions").isVisible()
    assert again.dock("ladder.m2").isVisible()
    # the automatic layout is its own: a named save or load leaves it alone
    assert settings.value(cfg.KEY_STATE) is None
    again.save_layout()
    assert again.layouts.names() == ["A & B", "Ladder only", "two markets"]


def test_saving_under_a_taken_name_replaces_it(window: MainWindow) -> None:
    assert window.layouts.save("Day")
    window.dock("chart").hide()
    assert window.layouts.save(" day ")
    assert window.layouts.names() == ["day"]
    assert window.statusBar().currentMessage() == "Layout “day” replaced."
    window.dock("chart").show()
    assert window.layouts.load("DAY")
    assert not window.dock("chart").isVisible()


def test_delete_from_the_menu(window: MainWindow) -> None:
    assert not window.layouts.delete_menu.isEnabled()
    none = [a for a in window.layouts.menu.actions() if a.objectName() == "action.layout.none"]
    assert len(none) == 1 and not none[0].isEnabled()
    window.layouts.save("One")
    window.layouts.save("Two")
    assert window.layouts.delete_menu.isEnabled()
    delete = next(
        a
        for a in window.layouts.delete_menu.actions()
        if a.objectName() == "action.layout.delete.One"
    )
    delete.trigger()
    assert window.layouts.names() == ["Two"]
    assert _menu_names(window, "load") == ["Two"] and _menu_names(window, "delete") == ["Two"]
    assert window.statusBar().currentMessage() == "Layout “One” deleted."
    assert not window.layouts.delete("One")
    assert not window.layouts.load("One")
    assert window.statusBar().currentMessage() == "There is no layout “One”."
    assert window.layouts.delete("two")
    assert window.layouts.names() == []
    assert not window.layouts.delete_menu.isEnabled()


@pytest.mark.parametrize("name", ["", "   ", "a/b", "a\\b", "x" * 61, "tab\there"])
def test_bad_names_are_rejected(window: MainWindow, settings: QSettings, name: str) -> None:
    problem = name_problem(name)
    assert problem is not None
    assert not window.layouts.save(name)
    assert window.statusBar().currentMessage() == problem
    with pytest.raises(ValueError):
        window.layouts.store.save(name, window)
    assert window.layouts.names() == []
    assert cfg.LAYOUTS_GROUP not in settings.childGroups()


def test_save_dialog_is_non_blocking_and_checks_the_name(window: MainWindow) -> None:
    window.layouts.save("Scalping")
    window.layouts.save_action.trigger()
    dialog = window.layouts.dialog
    assert dialog is not None and dialog.isVisible()  # open(): trigger() returned at once
    assert dialog.name_edit.text() == "Scalping"
    assert dialog.ok_button.text() == "Replace"
    assert dialog.hint.text() == "Replaces the saved layout “Scalping”."
    dialog.name_edit.setText("bad/name")
    assert not dialog.ok_button.isEnabled()
    dialog.accept()  # refused while the name is bad
    assert dialog.isVisible() and window.layouts.names() == ["Scalping"]
    dialog.name_edit.setText(" Swing ")
    assert dialog.ok_button.isEnabled() and dialog.ok_button.text() == "Save"
    assert dialog.hint.text() == NEW_HINT
    dialog.accept()
    assert not dialog.isVisible()
    assert window.layouts.names() == ["Scalping", "Swing"]


def test_unknown_venues_and_broken_layouts_are_skipped(
    window: MainWindow, settings: QSettings, caplog: pytest.LogCaptureFixture
) -> None:
    window.add_market_set(BITMART)
    window.dock("chart").hide()
    window.layouts.save("Old")
    group = f"{cfg.LAYOUTS_GROUP}/Old/market_sets"
    saved = [
        {"id": "m2", "venue": "nowhere", "symbol": "XBTUSD"},
        {"id": "m3", "venue": venues.BITMART_LEGACY_DEMO, "symbol": "ETHUSD"},
        {"id": "m3", "venue": venues.DEMO, "symbol": "ETHUSD"},
        "junk",
    ]
    settings.setValue(group, json.dumps(saved))
    window.remove_market_set("m2")
    window.dock("chart").show()
    with caplog.at_level(logging.WARNING, logger="app.gui.layouts"):
        assert window.layouts.load("Old")
    assert window.market_sets() == {"m3": LEGACY}
    assert not window.dock("chart").isVisible()
    message = window.statusBar().currentMessage()
    assert message.startswith("Layout “Old” loaded; skipped XBTUSD on unknown venue 'nowhere'")
    assert "unknown venue 'nowhere'" in caplog.text

    settings.setValue(group, "{not json")
    assert window.layouts.load("Old")
    assert window.market_sets() == {}

    settings.setValue(f"{cfg.LAYOUTS_GROUP}/Old/version", 99)
    window.add_market_set(ETH)
    assert not window.layouts.load("Old")
    assert window.market_sets() == {"m2": ETH}  # nothing changed
    assert "another version" in window.statusBar().currentMessage()


def test_a_layout_never_stores_or_changes_the_account_options(
    window: MainWindow, settings: QSettings
) -> None:
    window.save_layout()
    account_before = _keys(settings, f"{cfg.FEATURE_GROUP}/account")
    assert account_before  # the automatic layout keeps them (no secrets: see the account tests)
    window.layouts.save("Plain")
    keys = _keys(settings, f"{cfg.LAYOUTS_GROUP}/Plain")
    assert "state" in keys and "features/ladder/grouping" in keys
    assert not [k for k in keys if k.startswith("features/account")]
    assert window.layouts.load("Plain")
    assert _keys(settings, f"{cfg.FEATURE_GROUP}/account") == account_before


def _keys(settings: QSettings, group: str) -> dict[str, object]:
    settings.beginGroup(group)
    try:
        return {k: settings.value(k) for k in settings.allKeys()}
    finally:
        settings.endGroup()


def test_market_sets_json_round_trip() -> None:
    sets = {"m2": BITMART, "m4": LEGACY}
    assert parse_market_sets(market_sets_json(sets)) == (sets, [])
    assert parse_market_sets(None) == ({}, [])
    assert parse_market_sets("[1]") == ({}, ["an entry that is not a market set"])


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_loading_a_layout_starts_and_closes_market_set_sessions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = QSettings(str(tmp_path / "layouts.ini"), QSettings.Format.IniFormat)
    themes = ThemeManager("dark")
    window = MainWindow(settings, themes)
    install_default_features(window)
    window.apply_default_geometry()
    window.show()
    controller = SessionController(window)
    try:
        window.add_market_set(ETH)
        await wait_until(lambda: "m2" in controller.set_sessions, 15, "the ETHUSD set's session")
        window.layouts.save("ETH")
        window.remove_market_set("m2")
        window.add_market_set(LEGACY)
        await wait_until(
            lambda: (
                set(controller.set_sessions) == {"m2"}
                and controller.set_sessions["m2"].spec.venue_key == venues.BITMART_LEGACY_DEMO
            ),
            15,
            "the legacy set's session",
        )
        assert window.layouts.load("ETH")
        await wait_until(
            lambda: (
                set(controller.set_sessions) == {"m2"}
                and controller.set_sessions["m2"].spec.venue_key == venues.DEMO
            ),
            15,
            "the layout's ETHUSD session back",
        )
        session = controller.set_sessions["m2"]
        for feature in ("ladder", "chart", "tape"):
            assert window.feature(f"{feature}.m2").session is session
    finally:
        await controller.close()
        window.close()
        window.deleteLater()
    assert controller.set_sessions == {}
