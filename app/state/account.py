"""Private tables: orders, executions, positions, margin and wallet, with money in display units.

Rows arrive merged by the engine (sparse updates already folded in); this store keeps them keyed
by (account, key fields) and derives everything a panel shows from the merged row — an order is
working from its `ordStatus` and `leavesQty`, never from guesses. Keyed tables are never
truncated; only the executions display ring is bounded.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from app.feeds.events import TableRows
from app.state.units import as_float, display_currency, parse_time, to_display

TABLES = ("order", "execution", "position", "margin", "wallet")
DEFAULT_KEYS: dict[str, list[str]] = {
    "order": ["orderID"],
    "execution": ["execID"],
    "position": ["account", "symbol", "currency"],
    "margin": ["account", "currency"],
    "wallet": ["account", "currency"],
}
WORKING_STATUSES = frozenset({"New", "PartiallyFilled"})

Key = tuple[Any, ...]


@dataclass(slots=True, frozen=True)
class OrderView:
    """One order as displayed."""

    order_id: str
    symbol: str
    side: str
    ord_type: str
    qty: float | None
    price: float | None
    stop_px: float | None
    filled: float
    leaves: float
    avg_px: float | None
    status: str
    working: bool
    time: float | None
    text: str
    account: str | None
    cl_ord_id: str
    time_in_force: str
    exec_inst: str
    triggered: str


@dataclass(slots=True, frozen=True)
class ExecutionView:
    """One execution (fill, cancel, funding ...) as displayed; money in display units."""

    exec_id: str
    order_id: str
    symbol: str
    side: str
    exec_type: str
    ord_status: str
    last_qty: float | None
    last_px: float | None
    order_qty: float | None
    price: float | None
    fee: float | None
    value: float | None
    currency: str
    liquidity: str
    time: float | None
    text: str
    account: str | None


@dataclass(slots=True, frozen=True)
class PositionView:
    """One position. `side` is "Long", "Short" or "Flat"; money in the settlement currency's
    display unit (`currency`, e.g. XBT); `value` is |markValue|; `margin` is maintMargin (the
    margin assigned including unrealised PnL), falling back to posMargin;
    `dist_to_liq_pct` = |mark - liq| / mark x 100."""

    symbol: str
    currency: str
    qty: float
    side: str
    value: float | None
    entry: float | None
    mark: float | None
    liq: float | None
    dist_to_liq_pct: float | None
    upnl: float | None
    roe_pct: float | None
    margin: float | None
    leverage: float | None
    realised_pnl: float | None
    is_open: bool
    cross_margin: bool
    break_even: float | None
    account: str | None
    time: float | None


@dataclass(slots=True, frozen=True)
class MarginView:
    """Margin of one settlement currency, in display units. `used` = margin balance minus
    available margin; `margin_used_pct` and `leverage` as the venue reports them."""

    currency: str
    wallet_balance: float | None
    margin_balance: float | None
    available: float | None
    used: float | None
    upnl: float | None
    realised_pnl: float | None
    leverage: float | None
    margin_used_pct: float | None
    withdrawable: float | None
    account: str | None
    time: float | None


@dataclass(slots=True, frozen=True)
class WalletView:
    """Wallet of one currency, in display units."""

    currency: str
    amount: float | None
    deposited: float | None
    withdrawn: float | None
    transfer_in: float | None
    transfer_out: float | None
    pending_credit: float | None
    pending_debit: float | None
    account: str | None
    time: float | None


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _account(row: dict[str, Any], scope: str | None) -> str | None:
    acct = row.get("account")
    if acct is not None and not isinstance(acct, bool):
        return str(acct)
    return scope


def order_is_working(row: dict[str, Any]) -> bool:
    """Working = ordStatus New/PartiallyFilled and leavesQty > 0 (from the merged row)."""
    leaves = as_float(row.get("leavesQty"))
    return row.get("ordStatus") in WORKING_STATUSES and leaves is not None and leaves > 0


def order_view(row: dict[str, Any], scope: str | None = None) -> OrderView:
    """Display form of a merged order row."""
    return OrderView(
        order_id=_s(row.get("orderID")),
        symbol=_s(row.get("symbol")),
        side=_s(row.get("side")),
        ord_type=_s(row.get("ordType")),
        qty=as_float(row.get("orderQty")),
        price=as_float(row.get("price")),
        stop_px=as_float(row.get("stopPx")),
        filled=as_float(row.get("cumQty")) or 0.0,
        leaves=as_float(row.get("leavesQty")) or 0.0,
        avg_px=as_float(row.get("avgPx")),
        status=_s(row.get("ordStatus")),
        working=order_is_working(row),
        time=parse_time(row.get("timestamp")) or parse_time(row.get("transactTime")),
        text=_s(row.get("text")),
        account=_account(row, scope),
        cl_ord_id=_s(row.get("clOrdID")),
        time_in_force=_s(row.get("timeInForce")),
        exec_inst=_s(row.get("execInst")),
        triggered=_s(row.get("triggered")),
    )


def execution_view(row: dict[str, Any], scope: str | None = None) -> ExecutionView:
    """Display form of an execution row (fees and value in the settlement currency)."""
    code = row.get("settlCurrency")
    code = code if isinstance(code, str) else None
    return ExecutionView(
        exec_id=_s(row.get("execID")),
        order_id=_s(row.get("orderID")),
        symbol=_s(row.get("symbol")),
        side=_s(row.get("side")),
        exec_type=_s(row.get("execType")),
        ord_status=_s(row.get("ordStatus")),
        last_qty=as_float(row.get("lastQty")),
        last_px=as_float(row.get("lastPx")),
        order_qty=as_float(row.get("orderQty")),
        price=as_float(row.get("price")),
        fee=to_display(row.get("execComm"), code),
        value=to_display(row.get("execCost"), code),
        currency=display_currency(code),
        liquidity=_s(row.get("lastLiquidityInd")),
        time=parse_time(row.get("transactTime")) or parse_time(row.get("timestamp")),
        text=_s(row.get("text")),
        account=_account(row, scope),
    )


def position_view(row: dict[str, Any], scope: str | None = None) -> PositionView:
    """Display form of a merged position row."""
    code = row.get("currency")
    code = code if isinstance(code, str) else None
    qty = as_float(row.get("currentQty")) or 0.0
    mark = as_float(row.get("markPrice"))
    liq = as_float(row.get("liquidationPrice"))
    dist = abs(mark - liq) / mark * 100.0 if mark and liq is not None and mark > 0 else None
    mark_value = to_display(row.get("markValue"), code)
    margin_raw = row.get("maintMargin")
    if margin_raw is None:
        margin_raw = row.get("posMargin")
    roe = as_float(row.get("unrealisedRoePcnt"))
    is_open_flag = row.get("isOpen")
    is_open = is_open_flag if isinstance(is_open_flag, bool) else qty != 0
    return PositionView(
        symbol=_s(row.get("symbol")),
        currency=display_currency(code),
        qty=qty,
        side="Long" if qty > 0 else "Short" if qty < 0 else "Flat",
        value=abs(mark_value) if mark_value is not None else None,
        entry=as_float(row.get("avgEntryPrice")),
        mark=mark,
        liq=liq,
        dist_to_liq_pct=dist,
        upnl=to_display(row.get("unrealisedPnl"), code),
        roe_pct=roe * 100.0 if roe is not None else None,
        margin=to_display(margin_raw, code),
        leverage=as_float(row.get("leverage")),
        realised_pnl=to_display(row.get("realisedPnl"), code),
        is_open=is_open or qty != 0,
        cross_margin=row.get("crossMargin") is True,
        break_even=as_float(row.get("breakEvenPrice")),
        account=_account(row, scope),
        time=parse_time(row.get("timestamp")),
    )


def margin_view(row: dict[str, Any], scope: str | None = None) -> MarginView:
    """Display form of a merged margin row."""
    code = row.get("currency")
    code = code if isinstance(code, str) else None
    balance = as_float(row.get("marginBalance"))
    available = as_float(row.get("availableMargin"))
    if balance is not None and available is not None:
        used_raw: float | None = balance - available
    else:
        init = as_float(row.get("initMargin"))
        maint = as_float(row.get("maintMargin"))
        used_raw = (init or 0.0) + (maint or 0.0) if init is not None or maint is not None else None
    used_pct = as_float(row.get("marginUsedPcnt"))
    if used_pct is not None:
        used_pct *= 100.0
    elif used_raw is not None and balance:
        used_pct = used_raw / balance * 100.0
    return MarginView(
        currency=display_currency(code),
        wallet_balance=to_display(row.get("walletBalance"), code),
        margin_balance=to_display(balance, code),
        available=to_display(available, code),
        used=to_display(used_raw, code),
        upnl=to_display(row.get("unrealisedPnl"), code),
        realised_pnl=to_display(row.get("realisedPnl"), code),
        leverage=as_float(row.get("marginLeverage")),
        margin_used_pct=used_pct,
        withdrawable=to_display(row.get("withdrawableMargin"), code),
        account=_account(row, scope),
        time=parse_time(row.get("timestamp")),
    )


def wallet_view(row: dict[str, Any], scope: str | None = None) -> WalletView:
    """Display form of a merged wallet row."""
    code = row.get("currency")
    code = code if isinstance(code, str) else None
    return WalletView(
        currency=display_currency(code),
        amount=to_display(row.get("amount"), code),
        deposited=to_display(row.get("deposited"), code),
        withdrawn=to_display(row.get("withdrawn"), code),
        transfer_in=to_display(row.get("transferIn"), code),
        transfer_out=to_display(row.get("transferOut"), code),
        pending_credit=to_display(row.get("pendingCredit"), code),
        pending_debit=to_display(row.get("pendingDebit"), code),
        account=_account(row, scope),
        time=parse_time(row.get("timestamp")),
    )


class KeyedTable:
    """Rows of one venue table keyed by (scope, key fields); recently changed rows last.

    `scope` is the event's account (None for public tables). A partial replaces the rows of
    its scope, insert/update upsert merged rows, delete removes.
    """

    def __init__(self, default_keys: list[str] | None = None) -> None:
        self.keys = list(default_keys or [])
        self.rows: dict[Key, dict[str, Any]] = {}
        self.scopes: dict[Key, str | None] = {}
        self.accounts: set[str] = set()  # scopes seen (a handful of accounts at most)

    def key_of(self, row: dict[str, Any], scope: str | None) -> Key | None:
        values = tuple(row.get(k) for k in self.keys)
        if all(v is not None for v in values):
            key = (scope, *values)
            if key in self.rows:
                return key
            # The same row known under the other scope form (an unscoped empty partial is
            # followed by rows that name their account): keep one entry.
            other = (None, *values) if scope is not None else None
            if other is not None and other in self.rows:
                return other
            if scope is None:
                for account in self.accounts:
                    if (account, *values) in self.rows:
                        return (account, *values)
            return key
        # A row missing a key field (sparse rows from a venue that omits it): accept it only
        # when exactly one stored row matches every field it does carry.
        match: Key | None = None
        for known in self.rows:
            if scope is not None and known[0] not in (scope, None):
                continue
            if all(v is None or v == kv for v, kv in zip(values, known[1:], strict=False)):
                if match is not None:
                    return None
                match = known
        return match

    def apply(self, ev: TableRows) -> list[Key]:
        if ev.keys:
            self.keys = list(ev.keys)
        scope = ev.account
        if ev.action == "partial":
            # An unscoped partial is the whole table; a scoped one replaces its account's rows
            # (and rows that never named an account).
            stale = [k for k in self.rows if scope is None or k[0] in (scope, None)]
            for old_key in stale:
                del self.rows[old_key]
                del self.scopes[old_key]
        touched: list[Key] = []
        for row in ev.rows:
            key = self.key_of(row, scope)
            if key is None:
                continue
            if ev.action == "delete":
                if self.rows.pop(key, None) is not None:
                    del self.scopes[key]
                    touched.append(key)
                continue
            old = self.rows.pop(key, None)
            if old is None:
                self.rows[key] = dict(row)
            else:
                old.update(row)
                self.rows[key] = old
            self.scopes[key] = key[0]
            if key[0] is not None:
                self.accounts.add(key[0])
            touched.append(key)
        return touched


class AccountStore:
    """Orders, executions, positions, margin and wallet of one venue connection."""

    def __init__(self, executions_maxlen: int = 500, recent_maxlen: int = 200) -> None:
        self._tables: dict[str, KeyedTable] = {t: KeyedTable(DEFAULT_KEYS[t]) for t in TABLES}
        self._working: dict[Key, None] = {}
        self._exec_ring: deque[ExecutionView] = deque(maxlen=max(1, executions_maxlen))
        self.recent_maxlen = max(1, recent_maxlen)
        self.version = 0
        self.table_versions: dict[str, int] = dict.fromkeys(TABLES, 0)
        # Tables whose rows came from a connection that was reset and have no fresh partial yet.
        self.stale_tables: set[str] = set()

    def handles(self, table: str) -> bool:
        """True for the private tables this store keeps."""
        return table in self._tables

    def apply(self, ev: TableRows) -> bool:
        """Apply one private-table event; returns whether anything changed."""
        table = self._tables.get(ev.table)
        if table is None:
            return False
        if ev.action == "partial":
            self.stale_tables.discard(ev.table)
        touched = table.apply(ev)
        if ev.table == "order":
            self._track_working(table, ev, touched)
        elif ev.table == "execution":
            self._track_executions(table, ev, touched)
        if touched or ev.action == "partial":
            self.version += 1
            self.table_versions[ev.table] += 1
            return True
        return False

    def _track_working(self, table: KeyedTable, ev: TableRows, touched: list[Key]) -> None:
        working = self._working
        if ev.action == "partial":
            for key in [k for k in working if k not in table.rows]:
                del working[key]
        for key in touched:
            row = table.rows.get(key)
            if row is not None and order_is_working(row):
                working[key] = None
            else:
                working.pop(key, None)

    def _track_executions(self, table: KeyedTable, ev: TableRows, touched: list[Key]) -> None:
        if ev.action == "partial":
            views = [execution_view(r, table.scopes.get(k)) for k, r in table.rows.items()]
            views.sort(key=lambda v: v.time or 0.0)
            self._exec_ring.clear()
            self._exec_ring.extend(views)
            return
        if ev.action == "delete":
            return
        for key in touched:
            row = table.rows.get(key)
            if row is not None:
                self._exec_ring.append(execution_view(row, table.scopes.get(key)))

    def mark_stale(self) -> None:
        """The connection was reset: every table waits for a fresh partial (rows are kept)."""
        self.stale_tables = {t for t, tab in self._tables.items() if tab.rows}
        if self.stale_tables:
            self.version += 1

    @property
    def stale(self) -> bool:
        """True while some table still shows rows from before a reset."""
        return bool(self.stale_tables)

    # ----------------------------------------------------------------- reads
    def order(self, order_id: str) -> OrderView | None:
        """One order by id (any account)."""
        table = self._tables["order"]
        for key, row in table.rows.items():
            if row.get("orderID") == order_id:
                return order_view(row, key[0])
        return None

    def working_orders(self, symbol: str | None = None) -> list[OrderView]:
        """Working orders (New/PartiallyFilled with leavesQty > 0), newest change first."""
        rows = self._tables["order"].rows
        out = []
        for key in reversed(self._working):
            row = rows.get(key)
            if row is None:
                continue
            if symbol is None or row.get("symbol") == symbol:
                out.append(order_view(row, key[0]))
        return out

    def working_by_price(self, symbol: str) -> dict[float, tuple[float, float]]:
        """{price: (buy leaves, sell leaves)} of working limit orders (ladder own-orders column)."""
        out: dict[float, tuple[float, float]] = {}
        for view in self.working_orders(symbol):
            if view.price is None:
                continue
            buy, sell = out.get(view.price, (0.0, 0.0))
            if view.side == "Buy":
                buy += view.leaves
            else:
                sell += view.leaves
            out[view.price] = (buy, sell)
        return out

    def recent_orders(self, n: int | None = None) -> list[OrderView]:
        """Orders by most recent change first (working and finished), at most n (display cap)."""
        limit = self.recent_maxlen if n is None else n
        out: list[OrderView] = []
        for key, row in reversed(self._tables["order"].rows.items()):
            if len(out) >= limit:
                break
            out.append(order_view(row, key[0]))
        return out

    def order_count(self) -> int:
        """Orders kept (never truncated)."""
        return len(self._tables["order"].rows)

    def executions(self, n: int | None = None) -> list[ExecutionView]:
        """Executions newest first (bounded display ring)."""
        ring = self._exec_ring
        if n is None or n >= len(ring):
            return list(reversed(ring))
        return [ring[len(ring) - 1 - i] for i in range(max(0, n))]

    def fills(self, n: int | None = None) -> list[ExecutionView]:
        """Trade executions only, newest first."""
        out = [e for e in reversed(self._exec_ring) if e.exec_type == "Trade"]
        return out if n is None else out[:n]

    def positions(self, include_closed: bool = False) -> list[PositionView]:
        """Positions (open ones unless include_closed), sorted by symbol."""
        table = self._tables["position"]
        views = [position_view(r, table.scopes.get(k)) for k, r in table.rows.items()]
        if not include_closed:
            views = [v for v in views if v.is_open]
        views.sort(key=lambda v: (v.symbol, v.currency, v.account or ""))
        return views

    def position(self, symbol: str) -> PositionView | None:
        """The position of one symbol (the open one if several accounts hold it)."""
        found: PositionView | None = None
        table = self._tables["position"]
        for key, row in table.rows.items():
            if row.get("symbol") == symbol:
                view = position_view(row, table.scopes.get(key))
                if view.is_open:
                    return view
                found = found or view
        return found

    def margins(self) -> list[MarginView]:
        """Margin per settlement currency."""
        table = self._tables["margin"]
        views = [margin_view(r, table.scopes.get(k)) for k, r in table.rows.items()]
        views.sort(key=lambda v: (v.currency, v.account or ""))
        return views

    def wallets(self) -> list[WalletView]:
        """Wallet per currency."""
        table = self._tables["wallet"]
        views = [wallet_view(r, table.scopes.get(k)) for k, r in table.rows.items()]
        views.sort(key=lambda v: (v.currency, v.account or ""))
        return views

    def raw_rows(self, table: str) -> list[dict[str, Any]]:
        """Merged rows of one private table (copies), for headless output."""
        tab = self._tables.get(table)
        return [dict(r) for r in tab.rows.values()] if tab else []

    def snapshot_json(self, executions: int = 50) -> dict[str, Any]:
        """Positions, margins, wallets, working orders and recent executions as JSON-ready dicts
        (display units), for headless output."""
        return {
            "positions": [asdict(p) for p in self.positions(include_closed=True)],
            "margins": [asdict(m) for m in self.margins()],
            "wallets": [asdict(w) for w in self.wallets()],
            "working_orders": [asdict(o) for o in self.working_orders()],
            "executions": [asdict(e) for e in self.executions(executions)],
            "stale_tables": sorted(self.stale_tables),
        }

    def clear(self) -> None:
        """Forget everything (logout)."""
        for t in TABLES:
            self._tables[t] = KeyedTable(DEFAULT_KEYS[t])
        self._working.clear()
        self._exec_ring.clear()
        self.stale_tables.clear()
        self.version += 1
