"""Instrument table: merged rows per symbol plus the contract facts other stores need."""

from __future__ import annotations

from typing import Any

from app.feeds.events import TableRows
from app.state.units import as_float, display_currency, parse_time, tick_decimals


class InstrumentStore:
    """Latest merged instrument row per symbol (and the last funding row per symbol).

    Partials upsert (per-symbol subscriptions each send their own partial), updates merge,
    deletes remove. Contract facts are read from the rows, never guessed.
    """

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, Any]] = {}
        self._funding: dict[str, dict[str, Any]] = {}
        self.version = 0

    def apply(self, ev: TableRows) -> set[str]:
        """Apply instrument rows; returns the symbols whose row changed."""
        changed: set[str] = set()
        rows = self._rows
        for row in ev.rows:
            symbol = row.get("symbol")
            if not isinstance(symbol, str):
                continue
            if ev.action == "delete":
                if rows.pop(symbol, None) is not None:
                    changed.add(symbol)
                continue
            old = rows.get(symbol)
            if old is None:
                rows[symbol] = dict(row)
            else:
                old.update(row)
            changed.add(symbol)
        if changed:
            self.version += 1
        return changed

    def apply_funding(self, ev: TableRows) -> set[str]:
        """Remember the newest funding row per symbol."""
        changed: set[str] = set()
        for row in ev.rows:
            symbol = row.get("symbol")
            if isinstance(symbol, str) and ev.action != "delete":
                self._funding[symbol] = dict(row)
                changed.add(symbol)
        if changed:
            self.version += 1
        return changed

    # ----------------------------------------------------------------- reads
    def get(self, symbol: str) -> dict[str, Any] | None:
        """The merged row of a symbol."""
        return self._rows.get(symbol)

    def symbols(self) -> list[str]:
        """Known symbols, sorted (index symbols like .BXBT included)."""
        return sorted(self._rows)

    def tradeable_symbols(self) -> list[str]:
        """Symbols whose state is Open (index symbols and settled contracts excluded)."""
        return sorted(
            s for s, r in self._rows.items() if not s.startswith(".") and r.get("state") == "Open"
        )

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def _num(self, symbol: str, field: str) -> float | None:
        row = self._rows.get(symbol)
        return as_float(row.get(field)) if row is not None else None

    def tick_size(self, symbol: str) -> float | None:
        """Minimum price increment."""
        tick = self._num(symbol, "tickSize")
        return tick if tick is not None and tick > 0 else None

    def price_decimals(self, symbol: str) -> int:
        """Decimals to print prices of this symbol exactly."""
        return tick_decimals(self.tick_size(symbol))

    def lot_size(self, symbol: str) -> float | None:
        """Minimum order quantity step."""
        return self._num(symbol, "lotSize")

    def multiplier(self, symbol: str) -> float | None:
        """Contract multiplier (negative for inverse BitMEX contracts)."""
        return self._num(symbol, "multiplier")

    def is_inverse(self, symbol: str) -> bool:
        """True for inverse contracts (quantity is in quote currency, e.g. USD)."""
        row = self._rows.get(symbol)
        if row is None:
            return False
        flag = row.get("isInverse")
        if isinstance(flag, bool):
            return flag
        mult = as_float(row.get("multiplier"))
        return mult is not None and mult < 0

    def is_quanto(self, symbol: str) -> bool:
        """True for quanto contracts."""
        row = self._rows.get(symbol)
        return bool(row and row.get("isQuanto") is True)

    def settl_currency(self, symbol: str) -> str | None:
        """Settlement currency code as sent (`XBt`, `USDt`)."""
        row = self._rows.get(symbol)
        value = row.get("settlCurrency") if row else None
        return value if isinstance(value, str) else None

    def settl_display_currency(self, symbol: str) -> str:
        """Settlement currency in display form (`XBT`, `USDT`)."""
        return display_currency(self.settl_currency(symbol))

    def mark_price(self, symbol: str) -> float | None:
        """Mark price."""
        return self._num(symbol, "markPrice")

    def last_price(self, symbol: str) -> float | None:
        """Last traded price."""
        return self._num(symbol, "lastPrice")

    def index_price(self, symbol: str) -> float | None:
        """Index (or indicative settle) price."""
        value = self._num(symbol, "indexPrice")
        return value if value is not None else self._num(symbol, "indicativeSettlePrice")

    def funding_rate(self, symbol: str) -> float | None:
        """Current funding rate (fraction per interval), from the instrument or funding table."""
        value = self._num(symbol, "fundingRate")
        if value is None:
            funding = self._funding.get(symbol)
            value = as_float(funding.get("fundingRate")) if funding else None
        return value

    def indicative_funding_rate(self, symbol: str) -> float | None:
        """Next funding rate estimate."""
        return self._num(symbol, "indicativeFundingRate")

    def funding_time(self, symbol: str) -> float | None:
        """Epoch seconds of the next funding."""
        row = self._rows.get(symbol)
        return parse_time(row.get("fundingTimestamp")) if row else None

    def open_interest(self, symbol: str) -> float | None:
        """Open interest in contracts."""
        return self._num(symbol, "openInterest")

    def volume_24h(self, symbol: str) -> float | None:
        """24h volume in contracts."""
        return self._num(symbol, "volume24h")

    def change_pct(self, symbol: str) -> float | None:
        """Last price change in percent (BitMEX lastChangePcnt is a fraction)."""
        value = self._num(symbol, "lastChangePcnt")
        return value * 100.0 if value is not None else None

    def last_funding(self, symbol: str) -> dict[str, Any] | None:
        """The newest funding-table row of a symbol."""
        return self._funding.get(symbol)

    def notional(self, symbol: str, price: float, qty: float) -> float:
        """Quote-currency value of `qty` contracts at `price`.

        Inverse contracts are denominated in the quote currency already (qty USD); linear
        contracts with an `underlyingToPositionMultiplier` hold qty/multiplier units of the
        underlying; otherwise price x qty.
        """
        if self.is_inverse(symbol):
            return abs(qty)
        u2p = self._num(symbol, "underlyingToPositionMultiplier")
        if u2p and not self.is_quanto(symbol):
            return abs(price * qty / u2p)
        return abs(price * qty)

    def clear(self) -> None:
        """Forget every row."""
        self._rows.clear()
        self._funding.clear()
        self.version += 1
