"""Dark and light themes: Fusion palette, trading colours and fonts shared by every widget.

Widgets never hard-code colours: they read the current `Theme` (`current_theme()`) and repaint
when `theme_changed` fires on the `ThemeManager`.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import QApplication

THEME_NAMES = ("dark", "light")


@dataclass(frozen=True)
class Theme:
    """Colours and fonts of one theme (hex strings; widgets turn them into QColor once)."""

    name: str
    window: str
    base: str
    alt_base: str
    text: str
    dim_text: str
    grid: str
    highlight: str
    buy: str
    sell: str
    buy_bg: str
    sell_bg: str
    buy_bar: str
    sell_bar: str
    flash: str
    last_trade: str
    price_bg: str
    warn: str
    alert: str
    ok: str
    liquidation_bg: str
    tier1_bg: str
    tier2_bg: str
    tier3_bg: str

    def qcolor(self, attr: str, alpha: int | None = None) -> QColor:
        """A QColor of the named field, optionally with alpha (0..255)."""
        color = QColor(getattr(self, attr))
        if alpha is not None:
            color.setAlpha(alpha)
        return color


DARK = Theme(
    name="dark",
    window="#15181d",
    base="#0e1014",
    alt_base="#13161b",
    text="#d7dce2",
    dim_text="#7d8590",
    grid="#262b33",
    highlight="#2d4f7c",
    buy="#26c281",
    sell="#ef5350",
    buy_bg="#123527",
    sell_bg="#3d1a1c",
    buy_bar="#154535",
    sell_bar="#512426",
    flash="#e8c547",
    last_trade="#f5f7fa",
    price_bg="#1b1f26",
    warn="#e0a030",
    alert="#e5484d",
    ok="#26c281",
    liquidation_bg="#5b2a86",
    tier1_bg="#2a3140",
    tier2_bg="#3a4458",
    tier3_bg="#4f5d7a",
)

LIGHT = Theme(
    name="light",
    window="#eceff3",
    base="#ffffff",
    alt_base="#f5f7fa",
    text="#1c2026",
    dim_text="#6a737d",
    grid="#d5dae1",
    highlight="#9cc3f5",
    buy="#0a8f5a",
    sell="#d32f2f",
    buy_bg="#d9f2e6",
    sell_bg="#fbe0e0",
    buy_bar="#c4ecd9",
    sell_bar="#f7c9c9",
    flash="#f2c94c",
    last_trade="#000000",
    price_bg="#e6e9ee",
    warn="#b7791f",
    alert="#c62828",
    ok="#0a8f5a",
    liquidation_bg="#d9c2f0",
    tier1_bg="#e3e8f0",
    tier2_bg="#c9d4e6",
    tier3_bg="#a9bbd8",
)

_THEMES = {"dark": DARK, "light": LIGHT}


def theme_by_name(name: str) -> Theme:
    """The named theme; unknown names give the dark theme."""
    return _THEMES.get(name, DARK)


def monospace_font(point_size: int | None = None) -> QFont:
    """The system fixed-pitch font (numbers line up in columns)."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(QFont.StyleHint.Monospace)
    if point_size is not None:
        font.setPointSize(point_size)
    return font


def build_palette(theme: Theme) -> QPalette:
    """A Fusion palette for the theme."""
    pal = QPalette()
    c = QColor
    pal.setColor(QPalette.ColorRole.Window, c(theme.window))
    pal.setColor(QPalette.ColorRole.WindowText, c(theme.text))
    pal.setColor(QPalette.ColorRole.Base, c(theme.base))
    pal.setColor(QPalette.ColorRole.AlternateBase, c(theme.alt_base))
    pal.setColor(QPalette.ColorRole.ToolTipBase, c(theme.window))
    pal.setColor(QPalette.ColorRole.ToolTipText, c(theme.text))
    pal.setColor(QPalette.ColorRole.PlaceholderText, c(theme.dim_text))
    pal.setColor(QPalette.ColorRole.Text, c(theme.text))
    pal.setColor(QPalette.ColorRole.Button, c(theme.window))
    pal.setColor(QPalette.ColorRole.ButtonText, c(theme.text))
    pal.setColor(QPalette.ColorRole.BrightText, c(theme.alert))
    pal.setColor(QPalette.ColorRole.Highlight, c(theme.highlight))
    pal.setColor(QPalette.ColorRole.HighlightedText, c(theme.text))
    pal.setColor(QPalette.ColorRole.Link, c(theme.highlight))
    pal.setColor(QPalette.ColorRole.Mid, c(theme.grid))
    pal.setColor(QPalette.ColorRole.Dark, c(theme.base))
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        pal.setColor(QPalette.ColorGroup.Disabled, role, c(theme.dim_text))
    return pal


def style_sheet(theme: Theme) -> str:
    """Small additions the palette cannot express (dock titles, header, banner)."""
    return f"""
QDockWidget::title {{ background: {theme.price_bg}; padding: 3px 6px; color: {theme.dim_text}; }}
QHeaderView::section {{ background: {theme.window}; color: {theme.dim_text}; border: none;
    border-bottom: 1px solid {theme.grid}; padding: 2px 4px; }}
QTableView {{ gridline-color: {theme.grid}; border: none; }}
QStatusBar {{ border-top: 1px solid {theme.grid}; }}
QLabel#staleBanner {{ background: {theme.warn}; color: #000000; font-weight: bold;
    padding: 3px 8px; }}
QLabel#testnetBadge {{ background: {theme.warn}; color: #000000; font-weight: bold;
    padding: 1px 6px; }}
QToolBar {{ border: none; spacing: 6px; }}
"""


class ThemeManager(QObject):
    """Owns the current theme and applies it to the application."""

    theme_changed = Signal(object)

    def __init__(self, name: str = "dark", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._theme = theme_by_name(name)

    @property
    def theme(self) -> Theme:
        """The current theme."""
        return self._theme

    def apply(self, name: str | None = None) -> Theme:
        """Switch to `name` (or re-apply the current theme) and notify widgets."""
        if name is not None:
            self._theme = theme_by_name(name)
        _set_current(self._theme)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setStyle("Fusion")
            app.setPalette(build_palette(self._theme))
            app.setStyleSheet(style_sheet(self._theme))
        self.theme_changed.emit(self._theme)
        return self._theme


_current: list[Theme] = [DARK]


def _set_current(theme: Theme) -> None:
    _current[0] = theme


def current_theme() -> Theme:
    """The theme last applied (dark before any)."""
    return _current[0]
