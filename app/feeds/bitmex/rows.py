"""Conversion of applied BitMEX event-table rows (trade, quote, tradeBin*, orderBook10) to
normalized events. Each converter returns (events, problems); a problem is one unusable row,
reported by the engine as a counted FeedError."""

from __future__ import annotations

from typing import Any

from app.feeds.bitmex.constants import BUY, DELETE, SELL
from app.feeds.bitmex.timeparse import parse_ts, parse_ts_or_none
from app.feeds.events import Bar, Bars, BookLevels, Event, PriceSize, Quote, Trade, Trades

Converted = tuple[list[Event], list[str]]
ROW_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


class BadRowError(ValueError):
    """A row that cannot be used."""


def _symbol(row: dict[str, Any]) -> str:
    """A row's symbol (raises when missing or not a string)."""
    symbol = row["symbol"]
    if type(symbol) is not str:
        raise BadRowError(f"bad symbol {symbol!r}")
    return symbol


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _with_image(
    by_symbol: dict[str, list[Any]], snapshot: bool, scope: str | None
) -> dict[str, list[Any]]:
    """Items per symbol, plus an empty image for a filtered snapshot that had none."""
    if snapshot and scope is not None and scope not in by_symbol:
        by_symbol[scope] = []
    return by_symbol


def describe_error(exc: BaseException) -> str:
    """A short text for a row problem (a missing field is named)."""
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}" if exc.args else "missing field"
    return str(exc) or type(exc).__name__


def trades_from_rows(
    venue: str, rows: list[dict[str, Any]], snapshot: bool, scope: str | None
) -> Converted:
    """Trades per symbol (wire order); with snapshot and a filter symbol, an empty image too."""
    by_symbol: dict[str, list[Trade]] = {}
    errors: list[str] = []
    for r in rows:
        try:
            side = r["side"]
            if side != BUY and side != SELL:
                raise BadRowError(f"bad side {side!r}")
            notional = r.get("foreignNotional")
            symbol = r["symbol"]
            if type(symbol) is not str:
                raise BadRowError(f"bad symbol {symbol!r}")
            trade = Trade(
                venue,
                symbol,
                side,
                float(r["price"]),
                float(r["size"]),
                parse_ts(r["timestamp"]),
                r.get("trdMatchID"),
                None if notional is None else float(notional),
            )
        except ROW_ERRORS as exc:
            errors.append(f"trade row unusable: {describe_error(exc)}")
            continue
        by_symbol.setdefault(symbol, []).append(trade)
    events: list[Event] = [
        Trades(venue, sym, trades, snapshot)
        for sym, trades in _with_image(by_symbol, snapshot, scope).items()
    ]
    return events, errors


def quotes_from_rows(venue: str, rows: list[dict[str, Any]]) -> Converted:
    """One Quote per row."""
    events: list[Event] = []
    errors: list[str] = []
    for r in rows:
        try:
            events.append(
                Quote(
                    venue,
                    _symbol(r),
                    _opt_float(r.get("bidPrice")),
                    _opt_float(r.get("bidSize")),
                    _opt_float(r.get("askPrice")),
                    _opt_float(r.get("askSize")),
                    parse_ts_or_none(r.get("timestamp")),
                )
            )
        except ROW_ERRORS as exc:
            errors.append(f"quote row unusable: {describe_error(exc)}")
    return events, errors


def bars_from_rows(
    venue: str,
    rows: list[dict[str, Any]],
    snapshot: bool,
    scope: str | None,
    interval: tuple[str, float],
) -> Converted:
    """Bars per symbol, shifted from BitMEX's END stamps to open times; bins without a
    price yet are skipped."""
    timeframe, seconds = interval
    by_symbol: dict[str, list[Bar]] = {}
    errors: list[str] = []
    for r in rows:
        try:
            symbol = _symbol(r)
            end = parse_ts(r["timestamp"])
            if r.get("open") is None or r.get("close") is None:
                continue  # a bin without any price yet
            trades = r.get("trades")
            bar = Bar(
                end - seconds,
                float(r["open"]),
                float(r["high"]),
                float(r["low"]),
                float(r["close"]),
                float(r.get("volume") or 0.0),
                None if trades is None else int(trades),
            )
        except ROW_ERRORS as exc:
            errors.append(f"bin row unusable: {describe_error(exc)}")
            continue
        by_symbol.setdefault(symbol, []).append(bar)
    events: list[Event] = [
        Bars(venue, sym, timeframe, bars, snapshot)
        for sym, bars in _with_image(by_symbol, snapshot, scope).items()
    ]
    return events, errors


def book10_from_rows(venue: str, rows: list[dict[str, Any]], action: str) -> Converted:
    """orderBook10 rows (full top-10 arrays) as BookLevels snapshots; a delete empties."""
    events: list[Event] = []
    errors: list[str] = []
    for r in rows:
        try:
            if action == DELETE:
                bids: list[PriceSize] = []
                asks: list[PriceSize] = []
            else:
                bids = [(float(p), float(s)) for p, s in r.get("bids") or ()]
                asks = [(float(p), float(s)) for p, s in r.get("asks") or ()]
            events.append(
                BookLevels(
                    venue,
                    _symbol(r),
                    bids,
                    asks,
                    True,
                    parse_ts_or_none(r.get("timestamp")),
                )
            )
        except ROW_ERRORS as exc:
            errors.append(f"orderBook10 row unusable: {describe_error(exc)}")
    return events, errors
