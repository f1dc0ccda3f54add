"""The legacy front-end's REST side: `GET /v2/symbols_details` on the openws port.

BitMart publishes each symbol's valid order-book precision range in its REST v2 symbol details;
the simulator answers the same path on its legacy socket's port, so a client can learn the
ranges the way it does from BitMart. Every value comes from the market: the precision range is
the one the legacy front-end enforces; `quote_increment` (an amount step on BitMart, whatever
its name says) and the minimum size are one lot.
Any other path is left to the WebSocket handshake (which only the openws path accepts).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from app.feeds.bitmart import constants as c
from app.feeds.bitmart.numbers import decimal_text
from app.sim.bitmart.market import MAX_ORDER_LOTS, BitmartMarket

ProcessRequest = Callable[[ServerConnection, Request], Response | None]
JSON_TYPE = "application/json"


def symbols_details(market: BitmartMarket) -> list[dict[str, Any]]:
    """The symbol details list of every simulated symbol, as BitMart writes it."""
    rows: list[dict[str, Any]] = []
    for symbol, view in market.views.items():
        base, quote = market.currencies(symbol)
        rows.append(
            {
                c.LEGACY_D_ID: symbol,
                c.LEGACY_D_BASE: base,
                c.LEGACY_D_QUOTE: quote,
                c.LEGACY_D_QUOTE_INCREMENT: _plain(market.lot_qty(symbol)),
                c.LEGACY_D_BASE_MIN: _plain(market.lot_qty(symbol)),
                c.LEGACY_D_BASE_MAX: _plain(market.qty(MAX_ORDER_LOTS)),
                c.LEGACY_D_MIN_PRECISION: view.min_precision,
                c.LEGACY_D_MAX_PRECISION: view.max_precision,
                c.LEGACY_D_EXPIRATION: "NA",
            }
        )
    return rows


def _plain(value: Decimal) -> str:
    """A number without trailing zeros ("0.1", "10000"), as the REST samples write them."""
    return decimal_text(value.normalize())


def json_response(connection: ServerConnection, payload: Any) -> Response:
    """A 200 reply with a JSON body (the connection closes after it)."""
    response = connection.respond(200, json.dumps(payload, separators=(",", ":")))
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = JSON_TYPE
    return response


def legacy_process_request(market: BitmartMarket, ws_path: str) -> ProcessRequest:
    """The legacy port's request hook: the symbol details at their path, the WebSocket
    handshake at `ws_path`, 404 anywhere else."""

    def process(connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == c.LEGACY_DETAILS_PATH:
            return json_response(connection, symbols_details(market))
        if path != ws_path:
            return connection.respond(404, "unknown path\n")
        return None

    return process
