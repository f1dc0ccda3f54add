"""Named layouts: save the dock arrangement, market sets and dock options under a name, switch
between them and delete them (View → Layouts). Kept in the settings under `layouts/<name>/`.

A named layout rearranges the docks inside the window as it is: the window's position and size
are not part of it (the screen the window is on stays the user's choice), nor are the theme and
the toolbar's venue and symbol. The account dock's options (environment, key ids, alerts)
belong to the login, so a layout never stores or changes them.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QObject, QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from app.gui import settings as cfg
from app.gui import venues
from app.gui.session import SessionSpec

if TYPE_CHECKING:
    from app.gui.layout_dialog import LayoutNameDialog
    from app.gui.main_window import MainWindow

log = logging.getLogger(__name__)

MAX_NAME_LENGTH = 60
KEEP_OUT = frozenset({"account"})  # docks whose options follow the login, not a layout
MESSAGE_MS = 6000
KEY_STATE = "state"
KEY_VERSION = "version"
KEY_MARKET_SETS = "market_sets"
FEATURES = "features"


def name_problem(raw: str) -> str | None:
    """Why `raw` (trimmed) cannot name a layout, or None when it can."""
    name = raw.strip()
    if not name:
        return "A layout needs a name."
    if "/" in name or "\\" in name:
        return "A layout name cannot contain / or \\."
    if len(name) > MAX_NAME_LENGTH:
        return f"A layout name has at most {MAX_NAME_LENGTH} characters."
    if not name.isprintable():
        return "A layout name cannot contain control characters."
    return None


def valid_set_id(set_id: str) -> bool:
    """Market-set ids are "m2", "m3", ..."""
    return len(set_id) > 1 and set_id[0] == "m" and set_id[1:].isdigit()


def market_sets_json(sets: dict[str, SessionSpec]) -> str:
    """Market sets as saved: a JSON list of {"id", "venue", "symbol"}."""
    return json.dumps(
        [{"id": i, "venue": s.venue_key, "symbol": s.symbol} for i, s in sets.items()]
    )


def parse_market_sets(raw: object) -> tuple[dict[str, SessionSpec], list[str]]:
    """Saved market sets by id, and a description of each entry that was skipped (unknown
    venue, missing fields, repeated id); unreadable JSON gives no sets. Skips are logged."""
    if not isinstance(raw, str) or not raw:
        return {}, []
    try:
        items = json.loads(raw)
    except ValueError:
        log.warning("saved market sets are unreadable; ignored")
        return {}, ["unreadable market sets"]
    if not isinstance(items, list):
        log.warning("saved market sets are not a list; ignored")
        return {}, ["unreadable market sets"]
    sets: dict[str, SessionSpec] = {}
    skipped: list[str] = []
    for item in items:
        problem, entry = _market_set(item, sets)
        if entry is not None:
            sets[entry[0]] = entry[1]
        elif problem:
            log.warning("saved market set skipped: %s", problem)
            skipped.append(problem)
    return sets, skipped


def _market_set(
    item: Any, taken: dict[str, SessionSpec]
) -> tuple[str | None, tuple[str, SessionSpec] | None]:
    if not isinstance(item, dict):
        return "an entry that is not a market set", None
    set_id, key, symbol = item.get("id"), item.get("venue"), item.get("symbol")
    if not all(isinstance(v, str) and v for v in (set_id, key, symbol)):
        return "a market set without id, venue or symbol", None
    set_id, key, symbol = str(set_id), str(key), str(symbol)
    if key not in venues.SELECTABLE:
        return f"{symbol} on unknown venue {key!r}", None
    if not valid_set_id(set_id) or set_id in taken:
        return f"{symbol} with a bad or repeated id {set_id!r}", None
    return None, (set_id, SessionSpec(key, symbol))


class LayoutStore:
    """Named layouts in `settings` under `layouts/<name>/`: state, version, market sets and
    each dock's options (`features/<dock>/`)."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def names(self) -> list[str]:
        """Saved layout names, sorted (case-insensitively)."""
        s = self.settings
        s.beginGroup(cfg.LAYOUTS_GROUP)
        try:
            names = s.childGroups()
        finally:
            s.endGroup()
        return sorted(names, key=lambda n: (n.casefold(), n))

    def find(self, name: str) -> str | None:
        """The saved layout called `name` (trimmed, any case), as it is spelled in the store."""
        wanted = name.strip().casefold()
        return next((n for n in self.names() if n.casefold() == wanted), None)

    def save(self, name: str, window: MainWindow) -> bool:
        """Store the window's layout as `name` (ValueError for a bad name); True when it
        replaced a saved layout of that name."""
        problem = name_problem(name)
        if problem is not None:
            raise ValueError(problem)
        name = name.strip()
        existing = self.find(name)
        s = self.settings
        if existing is not None:
            s.remove(self._group(existing))
        s.beginGroup(self._group(name))
        try:
            s.setValue(KEY_STATE, window.saveState(cfg.LAYOUT_VERSION))
            s.setValue(KEY_VERSION, cfg.LAYOUT_VERSION)
            s.setValue(KEY_MARKET_SETS, market_sets_json(window.market_sets()))
            window.write_feature_settings(s, FEATURES, skip=KEEP_OUT)
        finally:
            s.endGroup()
        s.sync()
        return existing is not None

    def apply(self, name: str, window: MainWindow) -> tuple[bool, str]:
        """Switch the window to layout `name`: whether it was applied, and what happened as a
        line for the status bar."""
        found = self.find(name)
        if found is None:
            return False, f"There is no layout “{name.strip()}”."
        s = self.settings
        s.beginGroup(self._group(found))
        try:
            state = s.value(KEY_STATE)
            version = cfg.read_int(s, KEY_VERSION, -1)
            raw_sets = s.value(KEY_MARKET_SETS)
        finally:
            s.endGroup()
        if not isinstance(state, QByteArray) or version != cfg.LAYOUT_VERSION:
            log.warning("layout %r has no usable dock state (version %s)", found, version)
            return False, f"Layout “{found}” was saved by another version and cannot be loaded."
        sets, skipped = parse_market_sets(raw_sets)
        window.replace_market_sets(sets)
        s.beginGroup(self._group(found))
        try:
            window.read_feature_settings(s, FEATURES, skip=KEEP_OUT)
        finally:
            s.endGroup()
        if not window.restoreState(state, cfg.LAYOUT_VERSION):
            log.warning("layout %r: the dock state could not be restored", found)
            return False, f"Layout “{found}”: the dock arrangement could not be restored."
        if skipped:
            return True, f"Layout “{found}” loaded; skipped {', '.join(skipped)}."
        return True, f"Layout “{found}” loaded."

    def delete(self, name: str) -> str | None:
        """Remove layout `name`; the name it had in the store, None when there was none."""
        found = self.find(name)
        if found is not None:
            self.settings.remove(self._group(found))
            self.settings.sync()
        return found

    @staticmethod
    def _group(name: str) -> str:
        return f"{cfg.LAYOUTS_GROUP}/{name}"


def _menu_text(name: str) -> str:
    return name.replace("&", "&&")  # a literal "&", not a keyboard mnemonic


class LayoutsMenu(QObject):
    """View → Layouts: "Save layout as…", one entry per saved layout, "Delete layout" ▸."""

    def __init__(self, window: MainWindow, menu: QMenu) -> None:
        super().__init__(window)
        self.window = window
        self.menu = menu
        self.store = LayoutStore(window.settings)
        self.dialog: LayoutNameDialog | None = None
        self.current: str | None = None  # last layout saved or loaded
        self.save_action = QAction("&Save layout as…", self)
        self.save_action.setObjectName("action.layout.save")
        self.save_action.setToolTip("Keep the docks' arrangement, market sets and options")
        self.save_action.triggered.connect(self.open_save_dialog)
        self.delete_menu = QMenu("&Delete layout", menu)
        self.delete_menu.setObjectName("menu.layout.delete")
        self.rebuild()

    def names(self) -> list[str]:
        """Saved layout names, sorted."""
        return self.store.names()

    def save(self, name: str) -> bool:
        """Save the window's layout as `name`; False (and a status message) when the name is
        not valid. A saved layout of the same name is replaced, and the message says so."""
        problem = name_problem(name)
        if problem is not None:
            self._say(problem)
            return False
        replaced = self.store.save(name, self.window)
        self.current = self.store.find(name)
        self.rebuild()
        verb = "replaced" if replaced else "saved"
        self._say(f"Layout “{self.current}” {verb}.")
        return True

    def load(self, name: str) -> bool:
        """Switch to layout `name`; the status bar says how it went."""
        ok, message = self.store.apply(name, self.window)
        if ok:
            self.current = self.store.find(name)
        self._say(message)
        return ok

    def delete(self, name: str) -> bool:
        """Delete layout `name`; False when there is none."""
        found = self.store.delete(name)
        if found is None:
            self._say(f"There is no layout “{name.strip()}”.")
            return False
        if self.current == found:
            self.current = None
        self.rebuild()
        self._say(f"Layout “{found}” deleted.")
        return True

    def open_save_dialog(self) -> None:
        """Ask for a name without blocking (`open()`, never `exec()`), then save."""
        from app.gui.layout_dialog import LayoutNameDialog

        if self.dialog is None:
            self.dialog = LayoutNameDialog(self.store.find, self.window)
            self.dialog.chosen.connect(self.save)
        self.dialog.prepare(self.current or "")
        self.dialog.open()

    def rebuild(self) -> None:
        """Refill the menu from the store (sorted by name)."""
        self.menu.clear()
        self.delete_menu.clear()
        self.menu.addAction(self.save_action)
        self.menu.addSeparator()
        names = self.names()
        for name in names:
            load = QAction(_menu_text(name), self.menu)
            load.setObjectName(f"action.layout.load.{name}")
            load.setToolTip(f"Switch to the layout “{name}”")
            load.triggered.connect(lambda _checked=False, n=name: self.load(n))
            self.menu.addAction(load)
            delete = QAction(_menu_text(name), self.delete_menu)
            delete.setObjectName(f"action.layout.delete.{name}")
            delete.triggered.connect(lambda _checked=False, n=name: self.delete(n))
            self.delete_menu.addAction(delete)
        if not names:
            empty = QAction("No saved layouts", self.menu)
            empty.setObjectName("action.layout.none")
            empty.setEnabled(False)
            self.menu.addAction(empty)
        self.menu.addSeparator()
        self.menu.addMenu(self.delete_menu)
        self.delete_menu.setEnabled(bool(names))

    def _say(self, message: str) -> None:
        self.window.statusBar().showMessage(message, MESSAGE_MS)
