"""The account panel dock: login, private tables, margin, wallet and the dead man's switch.

The panel owns an `AccountSession` (its own private connection, separate from market data).
Private rows are applied to the session's account store and, when the window's market session
is on the same environment without an account of its own, forwarded to that session's bridge so
the positions dock, ladder and chart see the account too. Secrets stay in memory (or the
keychain on request): the panel stores only the environment, the last key id and options.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.account.alerts import (
    DEFAULT_LIQUIDATION_DISTANCE_PCT,
    Alert,
    LiquidationWatch,
    fill_alerts,
)
from app.account.auth_errors import AuthProblem
from app.account.constants import DMS_DEFAULT_TIMEOUT_S, ENVIRONMENTS, Environment
from app.account.credentials import CredentialStore
from app.account.dms import DmsStatus
from app.account.session import (
    ACCOUNT_TABLES,
    PRIVATE_TOPICS,
    AccountSession,
    ClientFactory,
    SessionPhase,
    bitmex_client_factory,
)
from app.feeds.bitmex import constants as bx
from app.feeds.bitmex.auth import ApiCredentials
from app.feeds.events import Event, FeedStatus, Reset, TableRows
from app.gui.notifications import Notifier
from app.gui.settings import read_bool, read_float, read_int
from app.gui.theme import Theme, current_theme, monospace_font
from app.state.account import DEFAULT_KEYS
from app.widgets.account import columns as cols
from app.widgets.account.alert_options import AlertOptions
from app.widgets.account.dialogs import Question
from app.widgets.account.dms_bar import DmsBar
from app.widgets.account.login_form import ENV_LABELS, LoginForm
from app.widgets.account.table_model import RowsModel
from app.widgets.binding import price_step
from app.widgets.format import SymbolPriceDecimals

if TYPE_CHECKING:
    from app.gui.session import FeedSession

log = logging.getLogger(__name__)

REFRESH_MS = 100
STATUS_MS = 8000
DISARM_WAIT_S = 5.0
KEY_ENV = "env"
KEY_LAST_KEY = "last_key/{env}"
KEY_DMS_TIMEOUT = "dms_timeout"
KEY_SOUND = "sound"
KEY_LIQ_PCT = "liquidation_distance_pct"
KEY_ALERT_KINDS = "alert_kinds"
FIXED_URLS: dict[str, str] = {"live": bx.LIVE_URL, "testnet": bx.TESTNET_URL}


def _table(model: RowsModel, parent: QWidget) -> QTableView:
    view = QTableView(parent)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(22)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    header.setHighlightSections(False)
    view.setFont(monospace_font())
    view.setStyleSheet(
        "QTableView::item { padding: 0px 8px; } QHeaderView::section { padding: 2px 8px; }"
    )
    return view


class AccountPanel(QWidget):
    """Login form until authenticated, then the account page with tables and the switch."""

    status_message = Signal(str, int)  # text, timeout ms (for the window's status bar)
    alert = Signal(object)  # app.account.alerts.Alert (for the notifier)
    logged_in_changed = Signal(bool)
    phase_changed = Signal(str)  # SessionPhase
    dms_changed = Signal(object)  # DmsStatus
    refreshed = Signal()  # the tables were refreshed from the store

    def __init__(
        self,
        credentials: CredentialStore | None = None,
        *,
        client_factory: ClientFactory = bitmex_client_factory,
        dms_clock: Callable[[], float] = time.monotonic,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("accountPanel")
        self.credentials = credentials or CredentialStore()
        self.client_factory = client_factory
        self.dms_clock = dms_clock
        self.account: AccountSession | None = None
        self.market: FeedSession | None = None
        self.demo_url: str | None = None
        self.demo_credentials: Callable[[], ApiCredentials | None] | None = None
        self.liquidation_watch = LiquidationWatch()
        self.pending_question: Question | None = None
        self.notifier: Notifier | None = None  # set by install_account_dock
        self.last_problem: AuthProblem | None = None
        self._last_keys: dict[str, str] = {}
        self._seen_execs: set[str] = set()
        self._last_working: dict[str, Any] = {}
        self._vanished: dict[str, Any] = {}
        self._dirty = False
        self._last_alarm: str | None = None
        self._connection_ok = False
        self._market_live = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self.prices = SymbolPriceDecimals(self._price_step)
        self._build()
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self._refresh)
        self._on_env_changed(self.login.env())

    # ---- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        self.header = QLabel("Not logged in", self)
        self.header.setObjectName("accountHeader")
        self.logout_button = QPushButton("Log out", self)
        self.logout_button.setObjectName("logoutButton")
        self.logout_button.hide()
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.logout_button)
        self.login = LoginForm(self)
        self.dms_bar = DmsBar(self._dms_seconds_left, self)
        decimals = self.prices.decimals
        self.working_model = RowsModel(cols.order_columns(decimals), cols.order_key, self)
        self.recent_model = RowsModel(cols.order_columns(decimals), cols.order_key, self)
        self.fills_model = RowsModel(cols.execution_columns(decimals), cols.execution_key, self)
        self.margin_model = RowsModel(cols.margin_columns(), cols.margin_key, self)
        self.wallet_model = RowsModel(cols.wallet_columns(), cols.wallet_key, self)
        self.margin_view = _table(self.margin_model, self)
        self.margin_view.setObjectName("marginTable")
        self.margin_view.horizontalHeader().setStretchLastSection(False)
        self.margin_view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._fit_margin_height()
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("accountTabs")
        self.working_view = _table(self.working_model, self.tabs)
        self.recent_view = _table(self.recent_model, self.tabs)
        self.fills_view = _table(self.fills_model, self.tabs)
        self.wallet_view = _table(self.wallet_model, self.tabs)
        self.tabs.addTab(self.working_view, "Working orders")
        self.tabs.addTab(self.recent_view, "Recent orders")
        self.tabs.addTab(self.fills_view, "Executions")
        self.tabs.addTab(self.wallet_view, "Wallet")
        self.alert_options = AlertOptions(self.tabs)
        self.tabs.addTab(self.alert_options, "Alerts")
        account_page = QWidget(self)
        page = QVBoxLayout(account_page)
        page.setContentsMargins(0, 0, 0, 0)
        page.addWidget(self.dms_bar)
        page.addWidget(self.margin_view)
        page.addWidget(self.tabs, 1)
        self.stack = QStackedWidget(self)
        login_page = QWidget(self)
        login_row = QHBoxLayout(login_page)
        login_row.setContentsMargins(0, 0, 0, 0)
        login_row.addWidget(self.login, 1)
        login_row.addStretch(0)
        self.login_page = login_page
        self.stack.addWidget(login_page)
        self.stack.addWidget(account_page)
        self.account_page = account_page
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        self.login.login_requested.connect(self._on_login_requested)
        self.login.env_changed.connect(self._on_env_changed)
        self.login.cancel_requested.connect(self._on_cancel_login)
        self.logout_button.clicked.connect(self._on_logout_clicked)
        self.dms_bar.arm_requested.connect(self._on_arm)
        self.dms_bar.disarm_requested.connect(self._on_disarm)
        self.dms_bar.acknowledged.connect(self._on_ack)
        self.alert_options.changed.connect(self._apply_alert_options)
        self.apply_theme(current_theme())

    # ---- window feature hooks ---------------------------------------------------------------
    def bind_session(self, session: FeedSession | None) -> None:
        """Follow the window's market session (demo URL, forwarding private rows)."""
        if self.market is not None:
            with contextlib.suppress(Exception):
                self.market.bridge.remove_tap(self._market_tap)
        self.market = session
        self._market_live = False
        if session is not None:
            session.bridge.add_tap(self._market_tap)
        demo_url = getattr(getattr(session, "hints", None), "demo_url", None)
        if isinstance(demo_url, str):
            self.demo_url = demo_url  # any demo venue: the simulator's BitMEX endpoint
        elif session is not None and session.spec.venue_key == "demo":
            self.demo_url = session.url
        if self.account is None:
            self._on_env_changed(self.login.env())
        else:
            self._forward_snapshot()

    def _forward_snapshot(self) -> None:
        """A new market session (another symbol or venue) gets what the account already has,
        as partials: the venue sends its snapshot only once per connection."""
        account = self.account
        raw_rows = getattr(account.store, "raw_rows", None) if account is not None else None
        if account is None or account.phase != "authenticated" or not callable(raw_rows):
            return
        now = time.time()
        for table in PRIVATE_TOPICS:
            keys = list(DEFAULT_KEYS.get(table, []))
            self._forward(TableRows(bx.VENUE, table, "partial", keys, raw_rows(table), now))

    def set_notifier(self, notifier: Notifier) -> None:
        """Show this panel's alerts through `notifier` (with the panel's alert options)."""
        self.notifier = notifier
        self.alert.connect(notifier.notify)
        self._apply_alert_options()

    def _apply_alert_options(self) -> None:
        opts = self.alert_options
        self.liquidation_watch.distance_pct = opts.liq_distance.value()
        if self.notifier is not None:
            self.notifier.sound = opts.sound.isChecked()
            self.notifier.enabled_kinds = opts.enabled_kinds()

    def _market_tap(self, ev: Event) -> None:
        """Toast when the market-data connection drops after having been live."""
        if not isinstance(ev, FeedStatus):
            return
        if ev.state == "live":
            self._market_live = True
        elif ev.state in ("reconnecting", "down") and self._market_live:
            self._market_live = False
            self.alert.emit(
                Alert("disconnect", "Market data connection lost", ev.detail or ev.state)
            )

    def apply_theme(self, theme: Theme) -> None:
        """Repaint everything that carries theme colours."""
        self.header.setStyleSheet(f"color: {theme.text}; font-weight: bold;")
        for view in (
            self.margin_view,
            self.working_view,
            self.recent_view,
            self.fills_view,
            self.wallet_view,
        ):
            view.viewport().update()
        if self.account is not None:
            self.dms_bar.show_status(self.account.dms.status())
        if hasattr(self, "login"):
            self.login.set_keychain_status(self.credentials.keychain_status())
            if self.last_problem is not None and self.login.error_text():
                self.login.show_problem(self.last_problem)

    def save_settings(self, settings: QSettings) -> None:
        """Environment, last key ids, switch timeout and alert options — never a secret."""
        settings.setValue(KEY_ENV, self.login.env())
        for env, key in self._last_keys.items():
            settings.setValue(KEY_LAST_KEY.format(env=env), key)
        settings.setValue(KEY_DMS_TIMEOUT, self.dms_bar.timeout.value())
        settings.setValue(KEY_LIQ_PCT, self.alert_options.liq_distance.value())
        settings.setValue(KEY_SOUND, self.alert_options.sound.isChecked())
        settings.setValue(KEY_ALERT_KINDS, ",".join(sorted(self.alert_options.enabled_kinds())))

    def restore_settings(self, settings: QSettings) -> None:
        for env in ENVIRONMENTS:
            value = settings.value(KEY_LAST_KEY.format(env=env))
            if isinstance(value, str) and value:
                self._last_keys[env] = value
        self.dms_bar.timeout.setValue(read_int(settings, KEY_DMS_TIMEOUT, DMS_DEFAULT_TIMEOUT_S))
        opts = self.alert_options
        opts.liq_distance.setValue(
            read_float(settings, KEY_LIQ_PCT, DEFAULT_LIQUIDATION_DISTANCE_PCT)
        )
        opts.sound.setChecked(read_bool(settings, KEY_SOUND, False))
        kinds = settings.value(KEY_ALERT_KINDS)
        if isinstance(kinds, str):
            chosen = set(kinds.split(",")) if kinds else set()
            for kind, box in opts.kind_boxes.items():
                box.setChecked(kind in chosen)
        self._apply_alert_options()
        env = settings.value(KEY_ENV)
        if isinstance(env, str):
            self.login.set_env(env)
        self._on_env_changed(self.login.env())

    # ---- login ------------------------------------------------------------------------------
    @property
    def logged_in(self) -> bool:
        return self.account is not None and self.stack.currentWidget() is self.account_page

    def url_for(self, env: str) -> str | None:
        if env == "demo":
            return self.demo_url
        return FIXED_URLS.get(env)

    def _on_env_changed(self, env: str) -> None:
        self.login.set_keychain_status(self.credentials.keychain_status())
        if env not in ENV_LABELS:
            return
        found = self.credentials.find(env, self._last_keys.get(env))
        if found is not None:
            notes = {
                "keychain": "Secret found in the OS keychain.",
                "memory": "Secret held in memory for this session.",
                "env": "Using DEPTHDESK_BITMEX_KEY / DEPTHDESK_BITMEX_SECRET.",
            }
            self.login.prefill(found.credentials.key, found.credentials.secret, notes[found.source])
            return
        demo = self.demo_credentials() if (env == "demo" and self.demo_credentials) else None
        if demo is None and env == "demo":
            demo = self._market_demo_credentials()
        if demo is not None:
            self.login.prefill(demo.key, demo.secret, "Demo account of the built-in simulator.")
        else:
            self.login.prefill(self._last_keys.get(env, ""), None, "")

    def _market_demo_credentials(self) -> ApiCredentials | None:
        session = self.market
        if session is None:
            return None
        creds = getattr(getattr(session, "hints", None), "demo_credentials", None)
        if isinstance(creds, ApiCredentials):
            return creds
        if session.spec.venue_key != "demo":
            return None
        creds = getattr(getattr(session.client, "config", None), "credentials", None)
        return creds if isinstance(creds, ApiCredentials) else None

    def _on_login_requested(self, env: str, creds: object, remember: bool) -> None:
        if isinstance(creds, ApiCredentials) and env in ENV_LABELS:
            self.start_login(env, creds, remember)

    def start_login(self, env: Environment, creds: ApiCredentials, remember: bool = False) -> bool:
        """Connect and authenticate; the outcome arrives through `phase_changed`."""
        if self.account is not None:
            return False
        url = self.url_for(env)
        if url is None:
            text = "The demo simulator is not running: choose the Demo venue in the toolbar first."
            self.login.show_problem(None, text)
            self.status_message.emit(text, STATUS_MS)
            return False
        if remember:
            result = self.credentials.remember(env, creds)
            self.status_message.emit(f"API key {creds.masked_key()}: {result.message}", STATUS_MS)
        else:
            self.credentials.hold(env, creds)
        self._last_keys[env] = creds.key
        self.last_problem = None
        self._seen_execs.clear()
        self._last_working.clear()
        self._vanished.clear()

        self.login.set_busy(True)
        self.header.setText(f"Logging in to {ENV_LABELS[env]}…")
        self.account = AccountSession(
            env,
            url,
            creds,
            on_event=self._on_event,
            on_phase=self._on_phase,
            on_dms=self._on_dms,
            client_factory=self.client_factory,
            dms_clock=self.dms_clock,
        )
        self.account.dms.set_timeout(float(self.dms_bar.timeout.value()))
        self.account.start()
        return True

    # ---- session callbacks ------------------------------------------------------------------
    def _on_event(self, ev: Event) -> None:
        if isinstance(ev, Reset):
            self._forward(ev)  # the forwarded rows wait for this connection's fresh partials
        if isinstance(ev, TableRows) and ev.table in ACCOUNT_TABLES:
            if ev.table == "execution" and ev.action == "partial":
                # executions of the snapshot happened before this session: no toasts for them
                self._seen_execs.update(str(r.get("execID")) for r in ev.rows)
            self._mark_dirty()
            self._forward(ev)
        elif isinstance(ev, FeedStatus) and not self.logged_in:
            detail = f": {ev.detail}" if ev.detail else ""
            self.login.show_progress(f"Connection {ev.state}{detail}")
        elif (
            isinstance(ev, FeedStatus)
            and ev.state in ("reconnecting", "down")
            and self._connection_ok
        ):
            self._connection_ok = False
            self.alert.emit(Alert("disconnect", "Account connection lost", ev.detail or ev.state))
            self.status_message.emit(f"Account connection {ev.state}: {ev.detail}", STATUS_MS)

    def _forward(self, ev: TableRows | Reset) -> None:
        market = self.market
        if market is None or self.account is None:
            return
        if market.spec.venue_key != self.account.env or getattr(market, "has_account", False):
            return
        forward = getattr(market.bridge, "on_forwarded", None) or market.bridge.on_event
        with contextlib.suppress(Exception):
            forward(ev)

    def _drop_forwarded(self) -> None:
        """No account any more: the market session forgets the rows this panel forwarded."""
        market = self.market
        drop = getattr(getattr(market, "bridge", None), "drop_forwarded", None)
        if callable(drop):
            with contextlib.suppress(Exception):
                drop()

    def _on_phase(self, phase: SessionPhase, problem: AuthProblem | None) -> None:
        account = self.account
        if account is None:
            return
        env_label = ENV_LABELS.get(account.env, account.env)
        key = account.key_id[:4] + "…"
        if phase == "authenticated":
            self._connection_ok = True
            self.login.set_busy(False)
            self.login.show_problem(None)
            self.login.clear_secret()
            self.stack.setCurrentWidget(self.account_page)
            self.logout_button.show()
            self.dms_bar.set_enabled_for_session(True)
            self.header.setText(f"{env_label} · key {key} · connected")
            self.status_message.emit(f"Logged in to {env_label} (key {key})", STATUS_MS)
            self._refresh_timer.start()
            self.logged_in_changed.emit(True)
        elif phase == "connecting":
            self.header.setText(f"{env_label} · key {key} · reconnecting…")
        elif phase == "failed":
            self.last_problem = problem
            if problem is not None:
                self.login.show_problem(problem)
                text = f"Login failed: {problem.message()}"
                self.alert.emit(Alert("auth", problem.title, problem.hint, urgent=True))
            else:
                detail = account.fatal or "connection ended"
                self.login.show_problem(None, f"Account connection failed: {detail}")
                text = f"Account connection failed: {detail}"
            self.status_message.emit(text, STATUS_MS)
            self._spawn(self._cleanup_failed(problem is not None))
        self.phase_changed.emit(phase)

    async def _cleanup_failed(self, auth_failed: bool) -> None:
        account = self.account
        if account is None:
            return
        was_logged_in = self.stack.currentWidget() is self.account_page
        await account.logout()
        if self.account is account:
            self.account = None
        if auth_failed:
            self.credentials.forget_session(account.env)
        self._to_login_page()
        if was_logged_in:
            self.logged_in_changed.emit(False)

    def _on_dms(self, status: DmsStatus) -> None:
        self.dms_bar.show_status(status)
        if status.alarm and status.alarm != self._last_alarm:
            self.alert.emit(Alert("dms", "Dead man's switch", status.alarm, urgent=True))
            self.status_message.emit(f"Dead man's switch: {status.alarm}", STATUS_MS)
        self._last_alarm = status.alarm
        self.dms_changed.emit(status)

    def _dms_seconds_left(self) -> float | None:
        return self.account.dms.seconds_left() if self.account is not None else None

    def _on_arm(self, timeout_s: float) -> None:
        if self.account is not None:
            self.account.dms.arm(timeout_s)
            self._spawn(self.account.dms.step())

    def _on_disarm(self) -> None:
        if self.account is not None:
            self.account.dms.disarm()
            self._spawn(self.account.dms.step())

    def _on_ack(self) -> None:
        if self.account is not None:
            self.account.dms.acknowledge()

    # ---- logout / quit ----------------------------------------------------------------------
    def _on_cancel_login(self) -> None:
        if self.account is not None and not self.logged_in:
            self._spawn(self._cancel_login())

    async def _cancel_login(self) -> None:
        account = self.account
        if account is None:
            return
        await account.logout()
        if self.account is account:
            self.account = None
        self.credentials.forget_session(account.env)
        self._to_login_page()
        self.status_message.emit("Login cancelled", STATUS_MS)

    def _on_logout_clicked(self) -> None:
        self._spawn(self.logout(ask=True))

    async def ask_disarm(self, quitting: bool) -> str:
        """Non-blocking question when the switch is on: "disarm", "keep" or "" (cancel)."""
        action = "quitting" if quitting else "logging out"
        choices = [
            ("disarm", "Turn off and continue", QMessageBox.ButtonRole.AcceptRole),
            ("keep", "Keep it armed", QMessageBox.ButtonRole.DestructiveRole),
        ]
        if not quitting:
            choices.append(("cancel", "Cancel", QMessageBox.ButtonRole.RejectRole))
        question = Question(
            self,
            "Dead man's switch is on",
            f"The dead man's switch is armed. Turn it off before {action}?\n\n"
            "If it stays armed, nothing refreshes it any more and the server cancels ALL your "
            "open orders when the timer runs out.",
            choices,
            default="disarm",
        )
        self.pending_question = question
        try:
            answer = await question.answer()
        finally:
            self.pending_question = None
        return "" if answer == "cancel" else answer

    async def logout(self, ask: bool = True, quitting: bool = False) -> bool:
        """Log out (asking about an armed switch first); False when the user cancelled."""
        account = self.account
        if account is None:
            return True
        dms = account.dms
        if dms.enabled or dms.status().phase == "disarming":
            answer = await self.ask_disarm(quitting) if ask else "disarm"
            if answer == "" and not quitting:
                return False
            if answer in ("disarm", ""):
                confirmed = await dms.disarm_and_confirm(DISARM_WAIT_S)
                if not confirmed:
                    text = (
                        "Could not confirm that the dead man's switch is off: the server may "
                        "still cancel your orders when its timer runs out."
                    )
                    self.status_message.emit(text, STATUS_MS)
                    self.alert.emit(Alert("dms", "Dead man's switch", text, urgent=True))
                    self.login.show_problem(None, text)
        env = account.env
        await account.logout()
        if self.account is account:
            self.account = None
        self.credentials.forget_session(env)
        self._to_login_page()
        self.status_message.emit(f"Logged out of {ENV_LABELS.get(env, env)}", STATUS_MS)
        self.logged_in_changed.emit(False)
        return True

    async def shutdown(self, ask: bool = True) -> None:
        """Quit hook: ask about an armed switch, log out, forget every in-memory secret."""
        await self.logout(ask=ask, quitting=True)
        for task in list(self._tasks):
            task.cancel()
        self.credentials.forget_session()

    def _to_login_page(self) -> None:
        self._drop_forwarded()
        self._refresh_timer.stop()
        self.stack.setCurrentWidget(self.login_page)
        self.logout_button.hide()
        self.dms_bar.set_enabled_for_session(False)
        self.login.set_busy(False)
        self.header.setText("Not logged in")
        for model in (
            self.working_model,
            self.recent_model,
            self.fills_model,
            self.margin_model,
            self.wallet_model,
        ):
            model.set_rows([])
        self._on_env_changed(self.login.env())
        if self.last_problem is not None:
            self.login.show_problem(self.last_problem)

    # ---- tables -----------------------------------------------------------------------------
    def _mark_dirty(self) -> None:
        self._dirty = True

    def _price_step(self, symbol: str) -> float | None:
        """The tick of `symbol` from the market session's instruments (None: not known)."""
        market = self.market
        if market is None or not symbol:
            return None
        with contextlib.suppress(Exception):  # a market without instrument state
            return price_step(market, symbol)
        return None

    def refresh_now(self) -> None:
        """Refresh the tables from the store immediately (tests, screenshots)."""
        self._dirty = True
        self._refresh()

    def _refresh(self) -> None:
        account = self.account
        if account is None or not (self._dirty or self.prices.stale()):
            return
        self._dirty = False
        store: Any = account.store
        try:
            # ladder order: per symbol, highest price first (sells above buys)
            working = sorted(
                store.working_orders(),
                key=lambda o: (getattr(o, "symbol", ""), -(getattr(o, "price", None) or 0.0)),
            )
            executions = store.executions()
            recent = self._recent_with_vanished(store.recent_orders(), executions)
            self.prices.learn(cols.venue_prices(working + recent, executions))
            self.working_model.set_rows(working)
            self.recent_model.set_rows(recent)
            self._last_working = {str(getattr(o, "order_id", "")): o for o in working}
            self.fills_model.set_rows(executions)
            self.margin_model.set_rows(store.margins())
            self._fit_margin_height()
            self.wallet_model.set_rows(store.wallets())
            positions = store.positions()
        except Exception:
            log.exception("account tables could not be refreshed")
            return
        self.tabs.setTabText(0, f"Working orders ({self.working_model.rowCount()})")
        for item in fill_alerts(executions, self._seen_execs):
            self.alert.emit(item)
        for item in self.liquidation_watch.check(positions):
            self.alert.emit(item)
        self.refreshed.emit()

    def _recent_with_vanished(self, recent: list[Any], executions: list[Any]) -> list[Any]:
        """Recent orders plus working orders that vanished from a fresh order snapshot.

        After a reconnect the venue's order partial lists open orders only, so orders cancelled
        while the connection was down (e.g. by the dead man's switch) would silently disappear.
        They stay listed with their final status taken from their latest execution row, or
        "Gone" when the venue sent nothing about them.
        """
        present = {str(getattr(o, "order_id", "")) for o in recent}
        for oid, view in self._last_working.items():
            if oid in present or oid in self._vanished:
                continue
            last = next((e for e in executions if getattr(e, "order_id", None) == oid), None)
            status = (getattr(last, "ord_status", "") or "Gone") if last is not None else "Gone"
            text = getattr(last, "text", "") if last is not None else "not in the venue's snapshot"
            try:
                self._vanished[oid] = dataclasses.replace(
                    view,
                    status=status,
                    working=False,
                    leaves=0.0,
                    text=text,
                    time=getattr(last, "time", None) or getattr(view, "time", None),
                )
            except (TypeError, ValueError):
                continue
        extra = [v for oid, v in self._vanished.items() if oid not in present]
        if not extra:
            return recent
        merged = list(recent) + extra
        merged.sort(key=lambda o: getattr(o, "time", None) or 0.0, reverse=True)
        return merged

    def _fit_margin_height(self) -> None:
        rows = max(1, self.margin_model.rowCount())
        header = self.margin_view.horizontalHeader().sizeHint().height()
        row_h = self.margin_view.verticalHeader().defaultSectionSize()
        self.margin_view.setFixedHeight(header + rows * row_h + 2 * self.margin_view.frameWidth())

    # ---- helpers ----------------------------------------------------------------------------
    def _spawn(self, coro: Any) -> None:
        try:
            task = asyncio.get_running_loop().create_task(coro)
        except RuntimeError:
            coro.close()
            return
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("account panel task failed: %s", type(task.exception()).__name__)


__all__ = ["AccountPanel"]
