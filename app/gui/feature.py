"""What a dock feature may implement to plug into the main window.

Any widget can be added with `MainWindow.add_feature_dock(name, widget, area)`. The window then
calls these methods when they exist on the widget:

- `bind_session(session: FeedSession | None)`: a venue connection started or ended; read
  `session.state` (MarketState), `session.bridge` (connect to `bridge.frame`), `session.symbol`.
- `apply_theme(theme: Theme)`: the theme changed.
- `save_settings(settings: QSettings)` / `restore_settings(settings: QSettings)`: persist the
  feature's own options (the window has already opened a group named after the feature).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings

    from app.gui.session import FeedSession
    from app.gui.theme import Theme


@runtime_checkable
class SessionAware(Protocol):
    """A feature that follows the current venue connection."""

    def bind_session(self, session: FeedSession | None) -> None: ...


@runtime_checkable
class Themed(Protocol):
    """A feature that repaints on theme changes."""

    def apply_theme(self, theme: Theme) -> None: ...


@runtime_checkable
class Persistent(Protocol):
    """A feature with its own saved options."""

    def save_settings(self, settings: QSettings) -> None: ...

    def restore_settings(self, settings: QSettings) -> None: ...
