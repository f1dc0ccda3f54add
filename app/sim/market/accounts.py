"""Demo accounts: orders, executions, positions and margin, with exchange-style money math.

Money is kept in the settlement currency's minor unit (XBt satoshis for XBTUSD and the quanto
contracts). Positions are isolated-margin at `leverage`; liquidation and bankruptcy prices follow
from the margin and the maintenance requirement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from app.feeds.events import Side
from app.sim.market.instruments import InstrumentSpec

OrdStatus = Literal["New", "PartiallyFilled", "Filled", "Canceled", "Rejected"]
ExecType = Literal["New", "Trade", "Canceled"]
XBT_DEPOSIT = 100_000_000  # 1 XBT in satoshis
USDT_DEPOSIT = 10_000_000_000  # 10,000 USDT in micro-USDT


@dataclass(slots=True)
class DemoOrder:
    """One order of a demo account, in BitMEX order-table terms."""

    order_id: str
    account: int
    symbol: str
    side: Side
    order_qty: int
    price: float | None
    ord_type: Literal["Limit", "Market"]
    time_in_force: str
    settl_currency: str
    currency: str
    created: float
    ord_status: OrdStatus = "New"
    leaves_qty: int = 0
    cum_qty: int = 0
    avg_px: float | None = None
    text: str = "Submitted via API."
    timestamp: float = 0.0
    working: bool = True
    notional_sum: float = 0.0  # sum(price * qty) of fills, for avg_px

    @property
    def is_open(self) -> bool:
        """Still working in the book."""
        return self.ord_status in ("New", "PartiallyFilled")


@dataclass(slots=True)
class Execution:
    """One execution report (execType New, Trade or Canceled)."""

    exec_id: str
    order: DemoOrder
    exec_type: ExecType
    timestamp: float
    last_qty: int | None = None
    last_px: float | None = None
    liquidity: str = ""
    commission: float | None = None
    exec_cost: int = 0
    exec_comm: int = 0
    trd_match_id: str = "00000000-0000-0000-0000-000000000000"
    text: str = ""


@dataclass(slots=True)
class Position:
    """An isolated-margin position. `cost` is the signed value of the open quantity at entry."""

    account: int
    symbol: str
    currency: str
    leverage: float = 10.0
    current_qty: int = 0
    cost: float = 0.0
    realised_pnl: int = 0
    exec_buy_qty: int = 0
    exec_sell_qty: int = 0
    exec_buy_cost: int = 0
    exec_sell_cost: int = 0
    exec_comm: int = 0
    mark_price: float | None = None
    last_price: float | None = None
    liquidation_price: float | None = None
    bankrupt_price: float | None = None
    pos_state: str = ""
    opening_timestamp: float = 0.0
    timestamp: float = 0.0

    def avg_entry_price(self, spec: InstrumentSpec) -> float | None:
        """Average entry price of the open quantity."""
        price = spec.price_for_value(self.current_qty, self.cost)
        return None if price is None else round(price, spec.decimals + 2)

    def mark_value(self, spec: InstrumentSpec) -> int:
        """Value of the open quantity at the mark price."""
        if self.mark_price is None:
            return round(self.cost)
        return spec.value(self.current_qty, self.mark_price)

    def unrealised_pnl(self, spec: InstrumentSpec) -> int:
        """Mark value minus entry cost."""
        if not self.current_qty or self.mark_price is None:
            return 0
        return round(spec.value_exact(self.current_qty, self.mark_price) - self.cost)

    def pos_margin(self) -> int:
        """Initial margin held for the position."""
        return round(abs(self.cost) / self.leverage)

    def maint_margin(self, spec: InstrumentSpec) -> int:
        """Maintenance margin requirement."""
        return round(abs(self.cost) * spec.maint_margin)

    def apply_fill(self, spec: InstrumentSpec, side: Side, qty: int, price: float) -> int:
        """Book a fill; returns the realised PnL (before commission) it produced."""
        signed = qty if side == "Buy" else -qty
        value = spec.value_exact(signed, price)
        if side == "Buy":
            self.exec_buy_qty += qty
            self.exec_buy_cost += round(abs(value))
        else:
            self.exec_sell_qty += qty
            self.exec_sell_cost += round(abs(value))
        realised = 0.0
        cur = self.current_qty
        if cur == 0 or (cur > 0) == (signed > 0):
            self.current_qty += signed
            self.cost += value
        else:
            close = signed if abs(signed) <= abs(cur) else -cur
            entry_part = self.cost * (-close) / cur
            realised = -spec.value_exact(close, price) - entry_part
            self.cost -= entry_part
            self.current_qty += close
            rest = signed - close
            if self.current_qty == 0:
                self.cost = 0.0
            if rest:
                self.current_qty += rest
                self.cost += spec.value_exact(rest, price)
        self.realised_pnl += round(realised)
        self.recompute_prices(spec)
        return round(realised)

    def recompute_prices(self, spec: InstrumentSpec) -> None:
        """Liquidation and bankruptcy prices for the current quantity and leverage."""
        if self.current_qty == 0:
            self.liquidation_price = None
            self.bankrupt_price = None
            return
        margin = self.pos_margin()
        maint = self.maint_margin(spec)
        liq = spec.price_for_value(self.current_qty, self.cost + maint - margin)
        bankrupt = spec.price_for_value(self.current_qty, self.cost - margin)
        cap = spec.price(spec.ticks(1_000_000_000.0 if spec.is_inverse else 1e12))
        self.liquidation_price = cap if liq is None and self.current_qty < 0 else liq
        self.bankrupt_price = cap if bankrupt is None and self.current_qty < 0 else bankrupt
        if self.liquidation_price is not None:
            self.liquidation_price = spec.price(spec.ticks(self.liquidation_price))
        if self.bankrupt_price is not None:
            self.bankrupt_price = spec.price(spec.ticks(self.bankrupt_price))

    def should_liquidate(self) -> bool:
        """Mark price has crossed the liquidation price."""
        if self.current_qty == 0 or self.mark_price is None or self.liquidation_price is None:
            return False
        if self.current_qty > 0:
            return self.mark_price <= self.liquidation_price
        return self.mark_price >= self.liquidation_price


@dataclass(slots=True)
class Balance:
    """Wallet and realised figures of one settlement currency."""

    currency: str
    amount: int
    realised_pnl: int = 0
    commission: int = 0
    prev_amount: int = 0
    timestamp: float = 0.0

    @property
    def wallet_balance(self) -> int:
        """Deposit plus realised PnL net of commission."""
        return self.amount + self.realised_pnl


@dataclass(repr=False)
class DemoAccount:
    """A demo account with its API key (the secret never appears in a repr)."""

    number: int
    key: str
    secret: str
    orders: dict[str, DemoOrder] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    balances: dict[str, Balance] = field(default_factory=dict)
    cancel_all_at: float | None = None
    next_agent_at: float = 0.0
    last_nonce: int = 0

    def __repr__(self) -> str:
        return f"DemoAccount(number={self.number}, key={self.key!r})"

    def position(self, spec: InstrumentSpec) -> Position:
        """The account's position row for a symbol (created flat on first use)."""
        pos = self.positions.get(spec.symbol)
        if pos is None:
            pos = Position(account=self.number, symbol=spec.symbol, currency=spec.settl_currency)
            self.positions[spec.symbol] = pos
        return pos

    def balance(self, currency: str) -> Balance:
        """The balance of a settlement currency (created on first use)."""
        bal = self.balances.get(currency)
        if bal is None:
            deposit = XBT_DEPOSIT if currency == "XBt" else USDT_DEPOSIT
            bal = Balance(currency=currency, amount=deposit, prev_amount=deposit)
            self.balances[currency] = bal
        return bal

    def open_orders(self, symbol: str | None = None) -> list[DemoOrder]:
        """Working orders, oldest first, optionally of one symbol."""
        return [
            o for o in self.orders.values() if o.is_open and (symbol is None or o.symbol == symbol)
        ]
