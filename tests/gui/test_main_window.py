"""Main window: docks with stable names, View menu, layout persistence, reset, themes."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QLabel
from pytestqt.qtbot import QtBot

from app.gui import settings as cfg
from app.gui.features import install_default_features
from app.gui.main_window import MainWindow
from app.gui.theme import ThemeManager

DOCKS = ("ladder", "tape", "positions", "chart", "liquidations", "account")
DOCKS_MENU_ORDER = ("ladder", "chart", "tape", "positions", "liquidations", "account")


@pytest.fixture
def window(
    qtbot: QtBot,
    settings: QSettings,
    themes: ThemeManager,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> MainWindow:
    monkeypatch.setenv("HOME", str(tmp_path))
    win = MainWindow(settings, themes)
    install_default_features(win)
    qtbot.addWidget(win)
    win.apply_default_geometry()
    win.show()
    qtbot.waitExposed(win)
    return win


def test_every_dock_has_a_stable_object_name_and_view_toggle(window: MainWindow) -> None:
    assert tuple(window.dock_names()) == DOCKS
    names = {d.objectName() for d in window.findChildren(QDockWidget)}
    assert names == {f"dock.{n}" for n in DOCKS}
    order = [a.objectName() for a in window.view_menu.actions() if a.objectName()][:6]
    assert order == [f"action.dock.{n}" for n in DOCKS_MENU_ORDER]
    actions = {a.objectName(): a for a in window.view_menu.actions()}
    for name in DOCKS:
        action = actions[f"action.dock.{name}"]
        assert action.isCheckable() and action.isChecked()
    actions["action.dock.tape"].trigger()
    assert not window.dock("tape").isVisible()
    actions["action.dock.tape"].trigger()
    assert window.dock("tape").isVisible()


def test_layout_is_saved_and_restored(
    qtbot: QtBot, window: MainWindow, settings: QSettings, themes: ThemeManager
) -> None:
    window.dock("liquidations").hide()
    window.dock("tape").setFloating(True)
    window.resize(1500, 900)
    window.save_layout()
    settings.sync()
    assert Path(settings.fileName()).exists()

    again = MainWindow(QSettings(settings.fileName(), QSettings.Format.IniFormat), themes)
    install_default_features(again)
    qtbot.addWidget(again)
    assert again.restore_layout()
    again.show()
    qtbot.waitExposed(again)
    assert not again.dock("liquidations").isVisible()
    assert again.dock("tape").isFloating()
    # (the offscreen screen is 800x600, so restoreGeometry clamps the size: check the bytes)
    assert again.settings.value(cfg.KEY_GEOMETRY) == window.saveGeometry()
    again.reset_layout()
    assert again.dock("liquidations").isVisible()
    assert not again.dock("tape").isFloating()
    assert all(again.dock(n).isVisible() for n in DOCKS)


def test_restore_without_saved_state_uses_defaults(window: MainWindow) -> None:
    assert not window.restore_layout()
    assert window.width() >= 1000


def test_theme_toggle_is_applied_and_persisted(window: MainWindow, settings: QSettings) -> None:
    window.theme_actions["light"].trigger()
    assert window.themes.theme.name == "light"
    assert window.palette().window().color().name() == window.themes.theme.window
    window.save_layout()
    assert cfg.read_str(settings, cfg.KEY_THEME, "") == "light"
    window.theme_actions["dark"].trigger()
    assert window.themes.theme.name == "dark"


def test_feature_options_are_persisted(window: MainWindow, settings: QSettings) -> None:
    ladder = window.feature("ladder")
    ladder.group_box.setCurrentIndex(ladder.group_box.findData(10))
    window.feature("chart").set_timeframe("15m")
    window.save_layout()
    assert settings.value("features/ladder/grouping") in (10, "10")
    assert settings.value("features/chart/timeframe") == "15m"


def test_add_feature_dock_hook(window: MainWindow) -> None:
    class Feature(QLabel):
        def __init__(self) -> None:
            super().__init__("x")
            self.sessions: list[object] = []
            self.themes: list[object] = []

        def bind_session(self, session: object) -> None:
            self.sessions.append(session)

        def apply_theme(self, theme: object) -> None:
            self.themes.append(theme)

    feature = Feature()
    dock = window.add_feature_dock("extra", feature, Qt.DockWidgetArea.RightDockWidgetArea)
    assert dock.objectName() == "dock.extra"
    assert feature.sessions == [None] and len(feature.themes) == 1
    window.theme_actions["light"].trigger()
    assert len(feature.themes) == 2
    with pytest.raises(ValueError):
        window.add_feature_dock("extra", QLabel())
