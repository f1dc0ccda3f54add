"""Python handles on a running simulator: demo credentials, demo-order API, fault injection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.feeds.events import Side
from app.sim.market.accounts import DemoAccount, DemoOrder, Position
from app.sim.market.exchange import Exchange

if TYPE_CHECKING:
    from app.sim.bitmex.server import SimServer


@dataclass(frozen=True)
class DemoCredentials:
    """A demo account's API key and secret (the secret is masked in reprs)."""

    key: str
    secret: str = field(repr=False)
    account: int = 0


class DemoAccountHandle:
    """Test/demo API for one demo account: place and cancel orders, inspect state."""

    def __init__(self, exchange: Exchange, account: DemoAccount) -> None:
        self._exchange = exchange
        self.account = account

    def place_limit(self, symbol: str, side: Side, qty: int, price: float) -> DemoOrder:
        """Place a resting (or crossing) limit order."""
        return self._exchange.place_order(self.account, symbol, side, qty, price)

    def place_market(self, symbol: str, side: Side, qty: int) -> DemoOrder:
        """Place a market order (fills against the book, the rest is canceled)."""
        return self._exchange.place_order(self.account, symbol, side, qty, None)

    def cancel(self, order_id: str) -> bool:
        """Cancel one working order."""
        return self._exchange.cancel_order(self.account, order_id)

    def cancel_all(self, symbol: str | None = None) -> int:
        """Cancel every working order."""
        return self._exchange.cancel_all(self.account, "Canceled via API.", symbol)

    def open_orders(self, symbol: str | None = None) -> list[DemoOrder]:
        """Working orders."""
        return self.account.open_orders(symbol)

    def position(self, symbol: str) -> Position:
        """The position in `symbol`."""
        return self.account.position(self._exchange.markets[symbol].spec)

    def set_leverage(self, symbol: str, leverage: float) -> None:
        """Change a position's leverage."""
        self._exchange.set_leverage(self.account, symbol, leverage)


class SimFaults:
    """Fault injection, also reachable as methods of the server."""

    def __init__(self, server: SimServer) -> None:
        self._server = server

    def drop_connections(self) -> int:
        """Abort every socket (clients see an abnormal close)."""
        return self._server.drop_connections()

    def stall(self, seconds: float | None = None) -> int:
        """Stall every socket; released after `seconds` or by `release()`."""
        return self._server.stall(seconds)

    def release(self) -> None:
        """End a stall."""
        self._server.release()

    def send_malformed(self) -> int:
        """Send a truncated JSON frame to every session."""
        return self._server.send_malformed()

    def send_unknown_row(self, symbol: str) -> int:
        """Send an orderBookL2(_25) update for a level id that does not exist."""
        return self._server.send_unknown_row(symbol)

    def delay_partials(self, seconds: float) -> None:
        """Delay partials after subscribe acks by `seconds` (0 = off)."""
        self._server.delay_partials(seconds)
