"""The Depthdesk main window: dock host, venue/symbol selector, View menu, layout persistence."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QLabel,
    QMainWindow,
    QToolBar,
    QWidget,
)

from app.gui import settings as cfg
from app.gui import venues
from app.gui.feature import Persistent, SessionAware, Themed
from app.gui.layouts import LayoutsMenu, market_sets_json, parse_market_sets, valid_set_id
from app.gui.session import SessionSpec
from app.gui.status_bar import StatusBar
from app.gui.theme import THEME_NAMES, ThemeManager

if TYPE_CHECKING:
    from app.gui.market_set_dialog import MarketSetDialog
    from app.gui.session import FeedSession
    from app.gui.theme import Theme

log = logging.getLogger(__name__)
DockArea = Qt.DockWidgetArea
DEFAULT_SIZE = (1920, 1040)


MarketSetFactory = Callable[["MainWindow", str, SessionSpec], list[str]]


@dataclass
class _DockPlan:
    """Where a dock goes in the default layout."""

    dock: QDockWidget
    area: Qt.DockWidgetArea
    split_of: str | None
    orientation: Qt.Orientation
    width: int = 0
    height: int = 0
    tab_with: str | None = None  # share a tabbed space with this dock in the default layout


class MainWindow(QMainWindow):
    """Hosts feature docks; asks for sessions via `session_requested`; never touches sockets."""

    close_requested = Signal()
    session_requested = Signal(object)  # SessionSpec
    market_set_added = Signal(str, object)  # set id, SessionSpec
    market_set_removed = Signal(str)  # set id

    def __init__(self, settings: QSettings, themes: ThemeManager | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("Depthdesk")
        self.settings = settings
        self.themes = themes or ThemeManager(cfg.read_str(settings, cfg.KEY_THEME, "dark"))
        self.session: FeedSession | None = None
        self._docks: dict[str, QDockWidget] = {}
        self._plans: list[_DockPlan] = []
        self._known_symbols: list[str] = []
        self._shutdown_hooks: list[Callable[[], Awaitable[object]]] = []
        self._independent: set[str] = set()  # docks that do not follow the window's session
        self._market_sets: dict[str, SessionSpec] = {}
        self._set_docks: dict[str, list[str]] = {}
        self._set_actions: dict[str, QAction] = {}
        self._restoring_sets = False
        self.market_set_factory: MarketSetFactory | None = None
        self.market_set_dialog: MarketSetDialog | None = None
        self.defer_close = False
        self.setDockNestingEnabled(True)
        self.setCorner(Qt.Corner.BottomLeftCorner, DockArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.TopLeftCorner, DockArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, DockArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.TopRightCorner, DockArea.RightDockWidgetArea)
        self._build_toolbar()
        self._build_menus()
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.layouts = LayoutsMenu(self, self.layouts_menu)
        self.themes.theme_changed.connect(self._on_theme_changed)

    # ---- construction -------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        bar = QToolBar("Venue", self)
        bar.setObjectName("toolbar.venue")
        bar.setMovable(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        bar.addWidget(QLabel(" Venue "))
        self.venue_box = QComboBox(bar)
        self.venue_box.setObjectName("venueBox")
        for key in venues.SELECTABLE:
            self.venue_box.addItem(venues.label(key), key)
        bar.addWidget(self.venue_box)
        bar.addWidget(QLabel("  Symbol "))
        self.symbol_box = QComboBox(bar)
        self.symbol_box.setObjectName("symbolBox")
        self.symbol_box.setEditable(True)
        self.symbol_box.setMinimumContentsLength(10)
        self.symbol_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        bar.addWidget(self.symbol_box)
        self.testnet_badge = QLabel("TESTNET", bar)
        self.testnet_badge.setObjectName("testnetBadge")
        self._badge_action = bar.addWidget(self.testnet_badge)
        self._badge_action.setVisible(False)
        self.venue_box.activated.connect(self._on_selector)
        self.symbol_box.activated.connect(self._on_selector)
        line_edit = self.symbol_box.lineEdit()
        if line_edit is not None:
            line_edit.returnPressed.connect(self._on_selector)
        self.venue_toolbar = bar

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self.view_menu = self.menuBar().addMenu("&View")
        self._dock_actions_anchor = self.view_menu.addSeparator()
        theme_menu = self.view_menu.addMenu("&Theme")
        group = QActionGroup(self)
        group.setExclusive(True)
        self.theme_actions: dict[str, QAction] = {}
        for name in THEME_NAMES:
            action = QAction(name.capitalize(), self, checkable=True)
            action.setObjectName(f"action.theme.{name}")
            action.setChecked(name == self.themes.theme.name)
            action.triggered.connect(lambda _checked=False, n=name: self.set_theme(n))
            group.addAction(action)
            theme_menu.addAction(action)
            self.theme_actions[name] = action
        self.layouts_menu = self.view_menu.addMenu("&Layouts")
        self.layouts_menu.setObjectName("menu.layouts")
        self.reset_layout_action = QAction("&Reset layout", self)
        self.reset_layout_action.setObjectName("action.resetLayout")
        self.reset_layout_action.triggered.connect(self.reset_layout)
        self.view_menu.addAction(self.reset_layout_action)
        self.markets_menu = self.menuBar().addMenu("&Markets")
        self.new_market_action = QAction("&New market docks…", self)
        self.new_market_action.setObjectName("action.newMarketSet")
        self.new_market_action.setToolTip(
            "Open a ladder, tape and chart for another venue or symbol in new docks"
        )
        self.new_market_action.triggered.connect(self.open_market_set_dialog)
        self.markets_menu.addAction(self.new_market_action)
        self._set_actions_anchor = self.markets_menu.addSeparator()

    def add_feature_dock(
        self,
        name: str,
        widget: QWidget,
        area: Qt.DockWidgetArea = DockArea.BottomDockWidgetArea,
        *,
        title: str | None = None,
        split_of: str | None = None,
        orientation: Qt.Orientation = Qt.Orientation.Horizontal,
        size: int = 0,
        follows_session: bool = True,
    ) -> QDockWidget:
        """Add `widget` as a dock with the stable objectName `dock.<name>`.

        The dock gets a View-menu toggle; in the default layout it goes into `area`, or beside
        the dock `split_of` (in that dock's area) split along `orientation`; `size` is its
        default width (left/right `area`) or height (top/bottom `area`), see also
        `set_default_size`. The widget receives the theme, and the window's session unless
        `follows_session` is False (market-set docks are bound to their own session).
        """
        if name in self._docks:
            raise ValueError(f"a dock named {name!r} exists")
        dock = QDockWidget(title or name.capitalize(), self)
        dock.setObjectName(f"dock.{name}")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self._docks[name] = dock
        side = area in (DockArea.LeftDockWidgetArea, DockArea.RightDockWidgetArea)
        plan = _DockPlan(dock, area, split_of, orientation)
        if side:
            plan.width = size
        else:
            plan.height = size
        self._plans.append(plan)
        self._place(plan)
        action = dock.toggleViewAction()
        action.setObjectName(f"action.dock.{name}")
        self.view_menu.insertAction(self._dock_actions_anchor, action)
        if isinstance(widget, Themed):
            widget.apply_theme(self.themes.theme)
        if not follows_session:
            self._independent.add(name)
        elif isinstance(widget, SessionAware):
            widget.bind_session(self.session)
        if isinstance(widget, Persistent):
            self._restore_feature(name, widget)
        return dock

    def order_view_menu(self, names: list[str]) -> None:
        """List the docks' View-menu toggles in this order (others keep theirs, after)."""
        actions = [self._docks[n].toggleViewAction() for n in names if n in self._docks]
        actions += [d.toggleViewAction() for n, d in self._docks.items() if n not in names]
        for action in actions:
            self.view_menu.removeAction(action)
            self.view_menu.insertAction(self._dock_actions_anchor, action)

    def dock(self, name: str) -> QDockWidget:
        """The dock named `name` (KeyError when unknown)."""
        return self._docks[name]

    def dock_names(self) -> list[str]:
        """Names of all docks in insertion order."""
        return list(self._docks)

    def feature(self, name: str) -> Any:
        """The widget inside dock `name`."""
        return self._docks[name].widget()

    def _place(self, plan: _DockPlan) -> None:
        if plan.tab_with is not None and plan.tab_with in self._docks:
            other = self._docks[plan.tab_with]
            if self.dockWidgetArea(other) != DockArea.NoDockWidgetArea:
                self.tabifyDockWidget(other, plan.dock)
                plan.dock.setFloating(False)
                plan.dock.show()
                return
        if plan.split_of is not None and plan.split_of in self._docks:
            first = self._docks[plan.split_of]
            if self.dockWidgetArea(first) == DockArea.NoDockWidgetArea:
                self.addDockWidget(plan.area, first)
            self.splitDockWidget(first, plan.dock, plan.orientation)
        else:
            self.addDockWidget(plan.area, plan.dock)
        plan.dock.setFloating(False)
        plan.dock.show()

    def set_default_tab(self, name: str, with_dock: str, raise_other: bool = True) -> None:
        """In the default layout, put dock `name` in tabs with `with_dock` (applied now)."""
        plan = next(p for p in self._plans if p.dock is self._docks[name])
        plan.tab_with = with_dock
        self._place(plan)
        if raise_other:
            self._docks[with_dock].raise_()

    def set_default_size(self, name: str, width: int = 0, height: int = 0) -> None:
        """Default width and/or height of dock `name` in the default layout."""
        for plan in self._plans:
            if plan.dock is self._docks[name]:
                plan.width = width or plan.width
                plan.height = height or plan.height

    def _apply_default_sizes(self, names: list[str] | None = None) -> None:
        """Default sizes of every dock (or of the docks `names` only)."""
        docks = None if names is None else {self._docks[n] for n in names if n in self._docks}
        for orient, attr in (
            (Qt.Orientation.Horizontal, "width"),
            (Qt.Orientation.Vertical, "height"),
        ):
            plans = [
                p
                for p in self._plans
                if getattr(p, attr)
                and not p.dock.isFloating()
                and (docks is None or p.dock in docks)
            ]
            if plans:
                self.resizeDocks([p.dock for p in plans], [getattr(p, attr) for p in plans], orient)

    # ---- layout persistence ---------------------------------------------------------------
    def reset_layout(self) -> None:
        """Put every dock back where the default layout has it, visible and docked."""
        for plan in self._plans:
            self.removeDockWidget(plan.dock)
        for plan in self._plans:
            self._place(plan)
        for plan in self._plans:
            if plan.tab_with is not None and plan.tab_with in self._docks:
                self._docks[plan.tab_with].raise_()
        self._apply_default_sizes()
        QTimer.singleShot(0, self._apply_default_sizes)

    def apply_default_geometry(self) -> None:
        """Default window size and dock sizes (first start, or no saved layout)."""
        self.resize(*DEFAULT_SIZE)
        self._apply_default_sizes()
        # dock sizes only take once the window has laid itself out
        QTimer.singleShot(0, self._apply_default_sizes)

    def save_layout(self) -> None:
        """Write geometry, dock state, theme and each feature's options to the settings."""
        s = self.settings
        s.setValue(cfg.KEY_GEOMETRY, self.saveGeometry())
        s.setValue(cfg.KEY_STATE, self.saveState(cfg.LAYOUT_VERSION))
        s.setValue(cfg.KEY_LAYOUT_VERSION, cfg.LAYOUT_VERSION)
        s.setValue(cfg.KEY_THEME, self.themes.theme.name)
        s.setValue(cfg.KEY_MARKET_SETS, market_sets_json(self._market_sets))
        self.write_feature_settings(s, cfg.FEATURE_GROUP)
        s.sync()

    def write_feature_settings(
        self, settings: QSettings, group: str, skip: Collection[str] = ()
    ) -> None:
        """Each dock's own options into `<group>/<dock>/` (docks named in `skip` left out)."""
        for name, dock in self._docks.items():
            widget = dock.widget()
            if name not in skip and isinstance(widget, Persistent):
                settings.beginGroup(f"{group}/{name}")
                try:
                    widget.save_settings(settings)
                finally:
                    settings.endGroup()

    def read_feature_settings(
        self, settings: QSettings, group: str, skip: Collection[str] = ()
    ) -> None:
        """Give each dock its options saved under `<group>/<dock>/` (docks without any, or
        named in `skip`, keep theirs)."""
        settings.beginGroup(group)
        try:
            saved = set(settings.childGroups())
            for name, dock in self._docks.items():
                widget = dock.widget()
                if name in saved and name not in skip and isinstance(widget, Persistent):
                    settings.beginGroup(name)
                    try:
                        widget.restore_settings(settings)
                    finally:
                        settings.endGroup()
        finally:
            settings.endGroup()

    def restore_layout(self) -> bool:
        """Restore geometry and dock state; False (and default geometry) when none is saved."""
        geometry = self.settings.value(cfg.KEY_GEOMETRY)
        state = self.settings.value(cfg.KEY_STATE)
        version = cfg.read_int(self.settings, cfg.KEY_LAYOUT_VERSION, -1)
        if not isinstance(state, QByteArray) or version != cfg.LAYOUT_VERSION:
            self.apply_default_geometry()
            return False
        if not isinstance(geometry, QByteArray) or not self.restoreGeometry(geometry):
            self.resize(*DEFAULT_SIZE)
        if not self.restoreState(state, cfg.LAYOUT_VERSION):
            self.reset_layout()
            return False
        return True

    def _restore_feature(self, name: str, widget: Persistent) -> None:
        self.settings.beginGroup(f"{cfg.FEATURE_GROUP}/{name}")
        try:
            widget.restore_settings(self.settings)
        finally:
            self.settings.endGroup()

    # ---- theme ----------------------------------------------------------------------------
    def set_theme(self, name: str) -> None:
        """Switch theme (persisted on the next save)."""
        self.themes.apply(name)
        self.settings.setValue(cfg.KEY_THEME, self.themes.theme.name)

    def _on_theme_changed(self, theme: Theme) -> None:
        for action_name, action in self.theme_actions.items():
            action.setChecked(action_name == theme.name)
        for dock in self._docks.values():
            widget = dock.widget()
            if isinstance(widget, Themed):
                widget.apply_theme(theme)
        self.status.apply_theme(theme)

    # ---- sessions -------------------------------------------------------------------------
    def bind_session(self, session: FeedSession | None) -> None:
        """Show `session` in every feature, the status bar and the selector."""
        if self.session is not None:
            self.session.bridge.frame.disconnect(self._on_frame)
        self.session = session
        for name, dock in self._docks.items():
            widget = dock.widget()
            if name not in self._independent and isinstance(widget, SessionAware):
                widget.bind_session(session)
        self.status.bind_session(session)
        if session is not None:
            session.bridge.frame.connect(self._on_frame)
            self._show_spec(session.spec)
            self._refresh_symbols()
            self.settings.setValue(cfg.KEY_VENUE, session.spec.venue_key)
            self.settings.setValue(cfg.KEY_SYMBOL, session.spec.symbol)

    def _show_spec(self, spec: SessionSpec) -> None:
        index = self.venue_box.findData(spec.venue_key)
        if index < 0:
            self.venue_box.addItem(spec.label, spec.venue_key)
            index = self.venue_box.count() - 1
        self.venue_box.setCurrentIndex(index)
        if self.symbol_box.findText(spec.symbol) < 0:
            self.symbol_box.addItem(spec.symbol)
        self.symbol_box.setCurrentText(spec.symbol)
        self._badge_action.setVisible(spec.venue_key == venues.TESTNET)
        self.setWindowTitle(f"Depthdesk — {spec.label} · {spec.symbol}")

    def _on_frame(self, aspects: Any) -> None:
        if "instruments" in aspects and self.session is not None:
            self._refresh_symbols()

    def _refresh_symbols(self) -> None:
        if self.session is None:
            return
        symbols = sorted(self.session.state.instruments.symbols())
        if not symbols:
            hints = getattr(self.session, "hints", None)
            symbols = sorted(getattr(hints, "symbols", None) or [])
        if not symbols or symbols == self._known_symbols:
            return
        self._known_symbols = symbols
        current = self.symbol_box.currentText()
        self.symbol_box.blockSignals(True)
        self.symbol_box.clear()
        self.symbol_box.addItems(symbols)
        if current and current not in symbols:
            self.symbol_box.addItem(current)
        self.symbol_box.setCurrentText(current)
        self.symbol_box.blockSignals(False)

    def _on_selector(self, *_args: object) -> None:
        key = self.venue_box.currentData()
        symbol = self.symbol_box.currentText().strip().upper()
        if not isinstance(key, str) or not symbol:
            return
        symbol = venues.symbol_for(key, symbol)
        current = self.session.spec if self.session is not None else None
        if current is not None and current.venue_key == key and current.symbol == symbol:
            return
        same_venue = current is not None and current.venue_key == key
        url = current.url if current is not None and same_venue else None
        if key == venues.REPLAY and url is None:
            return  # a replay is started from the command line, with its file
        speed = current.speed if current is not None and same_venue else 1.0
        self.session_requested.emit(SessionSpec(key, symbol, url, speed))

    # ---- market sets ----------------------------------------------------------------------
    def market_sets(self) -> dict[str, SessionSpec]:
        """Extra market sets by id ("m2", "m3" ...): the venue/symbol each one shows."""
        return dict(self._market_sets)

    def market_set_docks(self, set_id: str) -> list[str]:
        """Dock names of a market set."""
        return list(self._set_docks.get(set_id, []))

    def add_market_set(self, spec: SessionSpec, set_id: str | None = None) -> str:
        """Add a ladder, tape and chart for `spec` in new docks; `market_set_added` asks for
        their session. `set_id` (restoring a layout) keeps the docks' objectNames stable."""
        if self.market_set_factory is None:
            raise RuntimeError("no market-set factory installed")
        if set_id is None or set_id in self._market_sets or not valid_set_id(set_id):
            set_id = self._next_set_id()
        names = self.market_set_factory(self, set_id, spec)
        self._market_sets[set_id] = spec
        self._set_docks[set_id] = list(names)
        action = QAction(f"Close {spec.label} · {spec.symbol}", self)
        action.setObjectName(f"action.closeMarketSet.{set_id}")
        action.triggered.connect(lambda _checked=False, i=set_id: self.remove_market_set(i))
        self.markets_menu.addAction(action)
        self._set_actions[set_id] = action
        if not self._restoring_sets:  # a restored layout brings its own sizes
            self._apply_default_sizes(names)
            QTimer.singleShot(0, self, lambda: self._apply_default_sizes(names))
        self.market_set_added.emit(set_id, spec)
        return set_id

    def remove_market_set(self, set_id: str) -> None:
        """Close a market set: its docks go away and `market_set_removed` closes its session."""
        names = self._set_docks.pop(set_id, None)
        if names is None:
            return
        self._market_sets.pop(set_id, None)
        action = self._set_actions.pop(set_id, None)
        if action is not None:
            self.markets_menu.removeAction(action)
            action.deleteLater()
        for name in names:
            dock = self._docks.pop(name, None)
            if dock is None:
                continue
            widget = dock.widget()
            if isinstance(widget, SessionAware):
                widget.bind_session(None)
            self._plans = [p for p in self._plans if p.dock is not dock]
            self._independent.discard(name)
            self.view_menu.removeAction(dock.toggleViewAction())
            self.removeDockWidget(dock)
            dock.setObjectName("")  # a state restored before it is gone must not find it
            dock.deleteLater()
        self.market_set_removed.emit(set_id)

    def bind_market_set(self, set_id: str, session: FeedSession | None) -> None:
        """Show `session` in the docks of market set `set_id` (unknown ids are ignored)."""
        for name in self._set_docks.get(set_id, []):
            widget = self._docks[name].widget()
            if isinstance(widget, SessionAware):
                widget.bind_session(session)
        self.status.bind_extra(set_id, session)

    def open_market_set_dialog(self) -> None:
        """Ask for a venue and symbol (non-blocking), then add a market set."""
        from app.gui.market_set_dialog import MarketSetDialog

        if self.market_set_dialog is None:
            self.market_set_dialog = MarketSetDialog(self)
            self.market_set_dialog.chosen.connect(self.add_market_set)
        symbol = self.session.symbol if self.session is not None else venues.DEFAULT_SYMBOL
        self.market_set_dialog.prepare(self._known_symbols or [symbol])
        self.market_set_dialog.open()

    def restore_market_sets(self) -> None:
        """Re-create the market sets saved with the layout (before `restore_layout`)."""
        sets, _skipped = parse_market_sets(self.settings.value(cfg.KEY_MARKET_SETS))
        self.replace_market_sets(sets)

    def replace_market_sets(self, sets: dict[str, SessionSpec]) -> None:
        """Make the market sets exactly `sets` (by id): sets that differ are closed, missing
        ones added under their ids, equal ones keep their docks and session. Sizes are left to
        the dock state restored next."""
        for set_id, spec in list(self._market_sets.items()):
            if sets.get(set_id) != spec:
                self.remove_market_set(set_id)
        self._restoring_sets = True
        try:
            for set_id, spec in sets.items():
                if set_id not in self._market_sets:
                    self.add_market_set(spec, set_id)
        finally:
            self._restoring_sets = False

    def _next_set_id(self) -> str:
        used = {int(i[1:]) for i in self._market_sets if valid_set_id(i)}
        n = 2
        while n in used:
            n += 1
        return f"m{n}"

    # ---- closing --------------------------------------------------------------------------
    def add_shutdown_hook(self, hook: Callable[[], Awaitable[object]]) -> None:
        """Await `hook()` on quit, before the feeds close (e.g. disarm a dead man's switch)."""
        self._shutdown_hooks.append(hook)

    async def run_shutdown_hooks(self) -> None:
        """Await every shutdown hook once; a failing hook never blocks quitting."""
        hooks, self._shutdown_hooks = self._shutdown_hooks, []
        for hook in hooks:
            try:
                await hook()
            except Exception:
                log.exception("shutdown hook failed")

    def closeEvent(self, event: QCloseEvent) -> None:
        """Ask the application to shut down. With `defer_close` the window stays up (for any
        question a feature asks on quit) until the runner has closed the feeds."""
        self.close_requested.emit()
        if self.defer_close:
            event.ignore()
        else:
            event.accept()
