"""The legacy API's symbol details (REST `GET /v2/symbols_details`): what a client needs of them.

The list tells each symbol's valid order-book precision range (`price_min_precision` ..
`price_max_precision`, decimal digits of the price grouping) and its size increment.

`quote_increment` is documented as "minimum order price as well as the price increment", but
the published values are amount steps (BMX_ETH: "0.1" beside prices like 0.000111; ccxt reads it
as the amount precision for that reason, ccxt/ccxt#5612), so it is kept as `size_step`.
`symbols_details_url()` finds the list for a given openws URL; `parse_symbols_details()` reads
the reply, keeping every well-formed entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from app.feeds.bitmart import constants as c


class DetailsError(ValueError):
    """The symbol details could not be had or read."""


@dataclass(frozen=True, slots=True)
class SymbolDetails:
    """One entry of the list."""

    symbol: str
    min_precision: int
    max_precision: int
    size_step: Decimal | None = None  # `quote_increment`: the order-size (base amount) step

    @property
    def precision_range(self) -> tuple[int, int]:
        """(min, max) precision the order and trade channels accept."""
        return (self.min_precision, self.max_precision)


def symbols_details_url(ws_url: str) -> str:
    """The symbol details URL belonging to an openws URL.

    BitMart's own socket has its REST list on another host (`LEGACY_DETAILS_URL`); any other
    server (the simulator, a mirror) is asked on its own host and port: `ws://h:p/...` →
    `http://h:p/v2/symbols_details`, `wss://` → `https://`.
    """
    parts = urlsplit(ws_url)
    if parts.hostname == urlsplit(c.LEGACY_URL).hostname:
        return c.LEGACY_DETAILS_URL
    scheme = "https" if parts.scheme in ("wss", "https") else "http"
    return urlunsplit((scheme, parts.netloc, c.LEGACY_DETAILS_PATH, "", ""))


def parse_symbols_details(body: bytes | str) -> dict[str, SymbolDetails]:
    """Symbol → details of a `symbols_details` reply (a JSON list of objects).

    Entries without an id or a sane precision range are skipped; a body that is not such a
    list, or has no usable entry, raises DetailsError.
    """
    try:
        rows = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DetailsError(f"not JSON: {exc}") from None
    if not isinstance(rows, list):
        raise DetailsError(f"expected a JSON list, got {type(rows).__name__}")
    out: dict[str, SymbolDetails] = {}
    for row in rows:
        details = _entry(row)
        if details is not None:
            out[details.symbol] = details
    if not out:
        raise DetailsError(f"no usable entry among {len(rows)}")
    return out


def _entry(row: Any) -> SymbolDetails | None:
    if not isinstance(row, dict):
        return None
    symbol = row.get(c.LEGACY_D_ID)
    low = _int(row.get(c.LEGACY_D_MIN_PRECISION))
    high = _int(row.get(c.LEGACY_D_MAX_PRECISION))
    if not isinstance(symbol, str) or not symbol or low is None or high is None:
        return None
    if not c.LEGACY_PRECISION_MIN <= low <= high <= c.LEGACY_PRECISION_MAX:
        return None
    return SymbolDetails(symbol, low, high, _decimal(row.get(c.LEGACY_D_QUOTE_INCREMENT)))


def _int(value: Any) -> int | None:
    """An integer given as a JSON number or a numeric string (bools are not integers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _decimal(value: Any) -> Decimal | None:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() and number > 0 else None
