"""Where the window keeps its layout, theme and last venue (QSettings)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

ORGANISATION = "Depthdesk"
APPLICATION = "depthdesk"
LAYOUT_VERSION = 1

KEY_GEOMETRY = "window/geometry"
KEY_STATE = "window/state"
KEY_LAYOUT_VERSION = "window/layout_version"
KEY_THEME = "view/theme"
KEY_VENUE = "session/venue"
KEY_SYMBOL = "session/symbol"
KEY_MARKET_SETS = "session/market_sets"  # JSON list of {"id", "venue", "symbol"}
FEATURE_GROUP = "features"
LAYOUTS_GROUP = "layouts"  # named layouts: layouts/<name>/{state,version,market_sets,features/}


def open_settings(path: str | None = None) -> QSettings:
    """The user's settings, or an ini file at `path` (tests and portable set-ups)."""
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION
    )


def read_str(settings: QSettings, key: str, default: str) -> str:
    """A string value, falling back to `default` for missing or non-string values."""
    value = settings.value(key, default)
    return value if isinstance(value, str) and value else default


def read_int(settings: QSettings, key: str, default: int) -> int:
    """An int value (ini files store strings), falling back to `default`."""
    value = settings.value(key, default)
    if not isinstance(value, int | float | str):
        return default
    try:
        return int(value)
    except ValueError:
        return default


def read_float(settings: QSettings, key: str, default: float) -> float:
    """A float value, falling back to `default`."""
    value = settings.value(key, default)
    if not isinstance(value, int | float | str):
        return default
    try:
        return float(value)
    except ValueError:
        return default


def read_bool(settings: QSettings, key: str, default: bool) -> bool:
    """A bool value (ini files store "true"/"false"), falling back to `default`."""
    value = settings.value(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return default
