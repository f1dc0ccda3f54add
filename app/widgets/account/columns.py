"""Column specs of the account tables. Rows are the account store's views (snake_case fields);
raw BitMEX rows (camelCase) work too, so the tables also show fields the views leave out."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any

from app.widgets.account.formatting import (
    as_number,
    first,
    fmt_datetime,
    fmt_leverage,
    fmt_money,
    fmt_price,
    fmt_qty,
    fmt_time,
    shown_sign,
)
from app.widgets.account.table_model import Column

PriceDecimals = Callable[[str], int | None]


def _side_colour(row: Any) -> str | None:
    side = first(row, "side")
    return "buy" if side == "Buy" else "sell" if side == "Sell" else None


def _pnl_colour(value: Any, currency: str | None) -> str | None:
    sign = shown_sign(value, currency)
    return None if sign == 0 else "buy" if sign > 0 else "sell"


def _time(row: Any) -> Any:
    return first(row, "timestamp", "transact_time", "transactTime", "time", "updated_at")


def _text(row: Any) -> str:
    """The venue's free text, on one line (BitMEX uses newlines between remarks)."""
    return " · ".join(part.strip() for part in str(first(row, "text") or "").splitlines() if part)


def _currency(row: Any) -> str:
    return str(first(row, "currency", "display_currency") or "")


def _time_symbol_side() -> list[Column]:
    """The leading columns of orders and executions: time, symbol, side."""
    return [
        Column(
            "Time", _time, lambda r: fmt_time(_time(r)), tooltip=lambda r: fmt_datetime(_time(r))
        ),
        Column("Symbol", lambda r: first(r, "symbol"), lambda r: str(first(r, "symbol") or "")),
        Column(
            "Side",
            lambda r: first(r, "side"),
            lambda r: str(first(r, "side") or ""),
            colour=_side_colour,
        ),
    ]


# -- orders -----------------------------------------------------------------------------------


def order_key(row: Any) -> Hashable:
    return str(first(row, "order_id", "orderID") or id(row))


def _order_price(row: Any) -> Any:
    return first(row, "price", "stop_px", "stopPx")


def order_columns(decimals: PriceDecimals) -> list[Column]:
    def price_text(row: Any) -> str:
        return fmt_price(_order_price(row), decimals(str(first(row, "symbol") or "")))

    def avg_text(row: Any) -> str:
        return fmt_price(first(row, "avg_px", "avgPx"), decimals(str(first(row, "symbol") or "")))

    def status(row: Any) -> str:
        return str(first(row, "status", "ord_status", "ordStatus") or "")

    def status_tip(row: Any) -> str:
        return str(first(row, "text") or status(row))

    return [
        *_time_symbol_side(),
        Column(
            "Type",
            lambda r: first(r, "ord_type", "order_type", "ordType"),
            lambda r: str(first(r, "ord_type", "order_type", "ordType") or ""),
        ),
        Column(
            "Qty",
            lambda r: first(r, "qty", "order_qty", "orderQty"),
            lambda r: fmt_qty(first(r, "qty", "order_qty", "orderQty")),
            numeric=True,
        ),
        Column("Price", _order_price, price_text, numeric=True),
        Column(
            "Filled",
            lambda r: first(r, "filled", "cum_qty", "cumQty"),
            lambda r: fmt_qty(first(r, "filled", "cum_qty", "cumQty")),
            numeric=True,
        ),
        Column("Avg price", lambda r: first(r, "avg_px", "avgPx"), avg_text, numeric=True),
        Column("Status", status, status, tooltip=status_tip),
        Column("Text", _text, _text, tooltip=_text),
    ]


# -- executions -------------------------------------------------------------------------------


def execution_key(row: Any) -> Hashable:
    return str(first(row, "exec_id", "execID") or id(row))


def _execution_price(row: Any) -> Any:
    return first(row, "last_px", "lastPx", "price")


def execution_columns(decimals: PriceDecimals) -> list[Column]:
    def qty(row: Any) -> Any:
        # traded quantity of a fill; the order quantity for New/Canceled/... executions
        return first(row, "last_qty", "lastQty", "order_qty", "orderQty", "qty")

    def fee(row: Any) -> Any:
        return first(row, "fee", "exec_comm", "execComm")

    def liquidity(row: Any) -> str:
        value = str(first(row, "liquidity", "last_liquidity_ind", "lastLiquidityInd") or "")
        return {"AddedLiquidity": "maker", "RemovedLiquidity": "taker"}.get(value, value)

    return [
        *_time_symbol_side(),
        Column("Qty", qty, lambda r: fmt_qty(qty(r)), numeric=True),
        Column(
            "Price",
            _execution_price,
            lambda r: fmt_price(_execution_price(r), decimals(str(first(r, "symbol") or ""))),
            numeric=True,
        ),
        Column(
            "Type",
            lambda r: first(r, "exec_type", "execType"),
            lambda r: str(first(r, "exec_type", "execType") or ""),
        ),
        Column("Liquidity", liquidity, liquidity),
        Column(
            "Fee",
            fee,
            lambda r: fmt_money(fee(r), _currency(r)),
            numeric=True,
        ),
        Column("Text", _text, _text, tooltip=_text),
    ]


def venue_prices(orders: Iterable[Any], executions: Iterable[Any]) -> Iterator[tuple[str, float]]:
    """(symbol, price) of the venue's own prices the tables show: order (or stop) prices and
    fill prices, not averages (their float tails say nothing about a market's decimals)."""
    shown = itertools.chain(
        ((o, _order_price(o)) for o in orders), ((e, _execution_price(e)) for e in executions)
    )
    for row, price in shown:
        number = as_number(price)
        if number is not None:
            yield str(first(row, "symbol") or ""), number


# -- margin -----------------------------------------------------------------------------------


def margin_key(row: Any) -> Hashable:
    return _currency(row)


def _money_col(title: str, *names: str, pnl: bool = False) -> Column:
    def value(row: Any) -> Any:
        return first(row, *names)

    return Column(
        title,
        value,
        lambda r: fmt_money(value(r), _currency(r)),
        numeric=True,
        colour=(lambda r: _pnl_colour(value(r), _currency(r))) if pnl else None,
    )


def margin_columns() -> list[Column]:
    return [
        Column("Currency", _currency, _currency),
        _money_col("Wallet balance", "wallet_balance", "walletBalance"),
        _money_col("Margin balance", "margin_balance", "marginBalance"),
        _money_col("Available", "available", "available_margin", "availableMargin"),
        _money_col("Used", "used", "used_margin", "maint_margin", "maintMargin"),
        _money_col("Unrealised PnL", "upnl", "unrealised_pnl", "unrealisedPnl", pnl=True),
        _money_col("Realised PnL", "realised_pnl", "realisedPnl", pnl=True),
        Column(
            "Leverage",
            lambda r: first(r, "leverage", "margin_leverage", "marginLeverage"),
            lambda r: fmt_leverage(first(r, "leverage", "margin_leverage", "marginLeverage")),
            numeric=True,
        ),
    ]


# -- wallet -----------------------------------------------------------------------------------


def wallet_key(row: Any) -> Hashable:
    return _currency(row)


def wallet_columns() -> list[Column]:
    return [
        Column("Currency", _currency, _currency),
        _money_col("Amount", "amount", "balance"),
        _money_col("Deposited", "deposited"),
        _money_col("Withdrawn", "withdrawn"),
        _money_col("Pending credit", "pending_credit", "pendingCredit"),
        _money_col("Pending debit", "pending_debit", "pendingDebit"),
    ]
