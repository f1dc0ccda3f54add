"""BitMEX table rows rendered from the simulated exchange's state (field names as on the wire)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from app.sim.bitmex.constants import ZERO_GUID
from app.sim.market.accounts import Balance, DemoAccount, DemoOrder, Execution, Position
from app.sim.market.bins import Bin
from app.sim.market.book import LevelChange
from app.sim.market.events import Print
from app.sim.market.instruments import InstrumentSpec
from app.sim.market.symbol import SymbolMarket

Row = dict[str, Any]
EPOCH_2000 = 946684800.0


def iso(ts: float) -> str:
    """ISO-8601 UTC with milliseconds, as BitMEX stamps rows."""
    whole = int(ts)
    ms = round((ts - whole) * 1000)
    if ms == 1000:
        whole, ms = whole + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{ms:03d}Z"


def timespan(seconds: float) -> str:
    """BitMEX `timespan` encoding: a timestamp offset from 2000-01-01."""
    return datetime.fromtimestamp(EPOCH_2000 + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# -- public tables -----------------------------------------------------------------------


def l2_row(spec: InstrumentSpec, ch: LevelChange, ts: str) -> Row:
    """orderBookL2 row (2023+ era: price and timestamp on every action; no size on delete)."""
    if ch.action == "delete":
        return {
            "symbol": spec.symbol,
            "id": ch.level_id,
            "side": ch.side,
            "price": spec.price(ch.price),
            "timestamp": ts,
        }
    return {
        "symbol": spec.symbol,
        "id": ch.level_id,
        "side": ch.side,
        "size": ch.size,
        "price": spec.price(ch.price),
        "timestamp": ts,
    }


def trade_row(spec: InstrumentSpec, p: Print) -> Row:
    """trade row."""
    value = abs(spec.value(p.size, p.price))
    return {
        "timestamp": iso(p.timestamp),
        "symbol": p.symbol,
        "side": p.side,
        "size": p.size,
        "price": p.price,
        "tickDirection": p.tick_direction,
        "trdMatchID": p.match_id,
        "grossValue": value,
        "homeNotional": spec.home_notional(p.size, p.price),
        "foreignNotional": spec.foreign_notional(p.size, p.price),
        "trdType": "Regular",
    }


def quote_row(
    symbol: str, ts: str, bid: tuple[float, int] | None, ask: tuple[float, int] | None
) -> Row:
    """quote row (null price/size for an empty side)."""
    return {
        "timestamp": ts,
        "symbol": symbol,
        "bidSize": bid[1] if bid else None,
        "bidPrice": bid[0] if bid else None,
        "askPrice": ask[0] if ask else None,
        "askSize": ask[1] if ask else None,
    }


def bin_row(symbol: str, b: Bin) -> Row:
    """tradeBin row stamped by the bin's END time."""
    vwap = b.vwap
    return {
        "timestamp": iso(b.end),
        "symbol": symbol,
        "open": b.open,
        "high": b.high,
        "low": b.low,
        "close": b.close,
        "trades": b.trades,
        "volume": b.volume,
        "vwap": round(vwap, 4) if vwap is not None else None,
        "lastSize": b.last_size,
        "turnover": b.turnover,
        "homeNotional": b.home_notional,
        "foreignNotional": b.foreign_notional,
    }


def instrument_row(m: SymbolMarket, ts: float, bid: float | None, ask: float | None) -> Row:
    """Full instrument row (partial image)."""
    spec = m.spec
    st = m.stats
    row: Row = {
        "symbol": spec.symbol,
        "rootSymbol": spec.underlying,
        "state": "Open",
        "typ": spec.typ,
        "listing": "2016-05-13T12:00:00.000Z",
        "front": "2016-05-13T12:00:00.000Z",
        "expiry": None,
        "settle": None,
        "positionCurrency": spec.position_currency,
        "underlying": spec.underlying,
        "quoteCurrency": spec.quote_currency,
        "underlyingSymbol": f"{spec.underlying}=",
        "reference": "BMEX",
        "referenceSymbol": f".B{spec.underlying}",
        "maxOrderQty": 10_000_000,
        "maxPrice": 1_000_000,
        "lotSize": spec.lot_size,
        "tickSize": spec.tick_size,
        "multiplier": spec.multiplier,
        "settlCurrency": spec.settl_currency,
        "underlyingToSettleMultiplier": -spec.multiplier if spec.is_inverse else None,
        "quoteToSettleMultiplier": None if spec.is_inverse else spec.multiplier,
        "isQuanto": spec.is_quanto,
        "isInverse": spec.is_inverse,
        "initMargin": spec.init_margin,
        "maintMargin": spec.maint_margin,
        "riskLimit": 20_000_000_000,
        "riskStep": 15_000_000_000,
        "taxed": True,
        "deleverage": True,
        "makerFee": spec.maker_fee,
        "takerFee": spec.taker_fee,
        "settlementFee": 0,
        "fundingBaseSymbol": f".{spec.underlying}BON8H",
        "fundingQuoteSymbol": ".USDBON8H",
        "fundingPremiumSymbol": f".{spec.underlying}USDPI8H",
        "fundingTimestamp": iso(st.next_funding),
        "fundingInterval": timespan(m.funding_interval),
        "fundingRate": st.funding_rate,
        "indicativeFundingRate": st.indicative_funding_rate,
        "prevClosePrice": st.prev_price_24h,
        "limitDownPrice": None,
        "limitUpPrice": None,
        "prevTotalVolume": st.volume_24h * 40,
        "totalVolume": st.volume_24h * 40 + st.volume,
        "volume": st.volume,
        "volume24h": st.volume_24h,
        "prevTotalTurnover": st.turnover_24h * 40,
        "totalTurnover": st.turnover_24h * 40 + st.turnover,
        "turnover": st.turnover,
        "turnover24h": st.turnover_24h,
        "homeNotional24h": spec.home_notional(st.volume_24h, st.last_price),
        "foreignNotional24h": spec.foreign_notional(st.volume_24h, st.last_price),
        "prevPrice24h": st.prev_price_24h,
        "vwap": st.last_price,
        "highPrice": st.high_price,
        "lowPrice": st.low_price,
        "lastPrice": st.last_price,
        "lastPriceProtected": st.last_price,
        "lastTickDirection": st.last_tick_direction,
        "lastChangePcnt": _change(st.last_price, st.prev_price_24h),
        "bidPrice": bid,
        "midPrice": (bid + ask) / 2 if bid is not None and ask is not None else None,
        "askPrice": ask,
        "impactBidPrice": bid,
        "impactMidPrice": (bid + ask) / 2 if bid is not None and ask is not None else None,
        "impactAskPrice": ask,
        "hasLiquidity": True,
        "openInterest": st.open_interest,
        "openValue": abs(spec.value(st.open_interest, st.mark_price)),
        "fairMethod": "FundingRate",
        "fairBasisRate": round(st.funding_rate * 1095, 6),
        "fairBasis": round(st.fair_price - st.index_price, 2),
        "fairPrice": st.fair_price,
        "markMethod": "FairPrice",
        "markPrice": st.mark_price,
        "indicativeSettlePrice": st.index_price,
        "settledPriceAdjustmentRate": None,
        "settledPrice": None,
        "timestamp": iso(ts),
    }
    return row


def _change(last: float, prev: float) -> float:
    return round((last - prev) / prev, 4) if prev else 0.0


def instrument_last_update(m: SymbolMarket, ts: float) -> Row:
    """Sparse instrument update after trades."""
    st = m.stats
    return {
        "symbol": m.spec.symbol,
        "lastPrice": st.last_price,
        "lastTickDirection": st.last_tick_direction,
        "lastChangePcnt": _change(st.last_price, st.prev_price_24h),
        "highPrice": st.high_price,
        "lowPrice": st.low_price,
        "volume": st.volume,
        "volume24h": st.volume_24h,
        "turnover": st.turnover,
        "turnover24h": st.turnover_24h,
        "timestamp": iso(ts),
    }


def instrument_mark_update(m: SymbolMarket, ts: float, bid: float | None, ask: float | None) -> Row:
    """Sparse instrument update of the mark/fair/funding/open-interest figures."""
    st = m.stats
    spec = m.spec
    return {
        "symbol": spec.symbol,
        "markPrice": st.mark_price,
        "fairPrice": st.fair_price,
        "fairBasis": round(st.fair_price - st.index_price, 2),
        "indicativeSettlePrice": st.index_price,
        "lastPrice": st.last_price,
        "lastPriceProtected": st.last_price,
        "indicativeFundingRate": st.indicative_funding_rate,
        "fundingRate": st.funding_rate,
        "fundingTimestamp": iso(st.next_funding),
        "openInterest": st.open_interest,
        "openValue": abs(spec.value(st.open_interest, st.mark_price)),
        "bidPrice": bid,
        "askPrice": ask,
        "midPrice": (bid + ask) / 2 if bid is not None and ask is not None else None,
        "timestamp": iso(ts),
    }


def funding_row(symbol: str, ts: float, interval_s: float, rate: float) -> Row:
    """funding row."""
    return {
        "timestamp": iso(ts),
        "symbol": symbol,
        "fundingInterval": timespan(interval_s),
        "fundingRate": rate,
        "fundingRateDaily": round(rate * 86400 / interval_s, 6) if interval_s else rate,
    }


def liquidation_row(order_id: str, symbol: str, side: str, price: float, leaves: int) -> Row:
    """liquidation row (keys: orderID)."""
    return {
        "orderID": order_id,
        "symbol": symbol,
        "side": side,
        "price": price,
        "leavesQty": leaves,
    }


# -- private tables ----------------------------------------------------------------------


def _order_identity(o: DemoOrder) -> Row:
    """The fields naming an order, shared by order and execution rows."""
    return {
        "orderID": o.order_id,
        "clOrdID": "",
        "clOrdLinkID": "",
        "account": o.account,
        "symbol": o.symbol,
        "side": o.side,
    }


def _order_terms(o: DemoOrder) -> Row:
    """An order's terms and state, shared by order and execution rows."""
    return {
        "simpleOrderQty": None,
        "orderQty": o.order_qty,
        "price": o.price,
        "displayQty": None,
        "stopPx": None,
        "pegOffsetValue": None,
        "pegPriceType": "",
        "currency": o.currency,
        "settlCurrency": o.settl_currency,
        "ordType": o.ord_type,
        "timeInForce": o.time_in_force,
        "execInst": "",
        "contingencyType": "",
        "exDestination": "XBME",
        "ordStatus": o.ord_status,
        "triggered": "",
        "workingIndicator": o.working,
        "ordRejReason": "",
        "simpleLeavesQty": None,
        "leavesQty": o.leaves_qty,
        "simpleCumQty": None,
        "cumQty": o.cum_qty,
        "avgPx": o.avg_px,
    }


def order_row(o: DemoOrder) -> Row:
    """Full order row (insert / partial)."""
    return {
        **_order_identity(o),
        **_order_terms(o),
        "multiLegReportingType": "SingleSecurity",
        "text": o.text,
        "transactTime": iso(o.created),
        "timestamp": iso(o.timestamp),
    }


_ORDER_FIELD_ATTRS = {
    "ordStatus": "ord_status",
    "leavesQty": "leaves_qty",
    "cumQty": "cum_qty",
    "avgPx": "avg_px",
    "workingIndicator": "working",
    "text": "text",
}


def order_update(o: DemoOrder, fields: tuple[str, ...]) -> Row:
    """Sparse order update: keys, the changed fields, and the usual companions."""
    row: Row = {"orderID": o.order_id}
    for name in fields:
        row[name] = getattr(o, _ORDER_FIELD_ATTRS[name])
    row.update(
        {
            "clOrdID": "",
            "account": o.account,
            "symbol": o.symbol,
            "timestamp": iso(o.timestamp),
        }
    )
    return row


def execution_row(spec: InstrumentSpec, e: Execution) -> Row:
    """execution row (execType New / Trade / Canceled)."""
    o = e.order
    trade = e.exec_type == "Trade"
    signed = (e.last_qty or 0) * (1 if o.side == "Buy" else -1)
    return {
        "execID": e.exec_id,
        **_order_identity(o),
        "lastQty": e.last_qty,
        "lastPx": e.last_px,
        "underlyingLastPx": None,
        "lastMkt": "XBME" if trade else "",
        "lastLiquidityInd": e.liquidity,
        "execType": e.exec_type,
        **_order_terms(o),
        "commission": e.commission,
        "tradePublishIndicator": "PublishTrade" if trade else "",
        "multiLegReportingType": "SingleSecurity",
        "text": e.text or o.text,
        "trdMatchID": e.trd_match_id if trade else ZERO_GUID,
        "execCost": e.exec_cost if trade else None,
        "execComm": e.exec_comm if trade else None,
        "homeNotional": spec.home_notional(signed, e.last_px) if trade and e.last_px else None,
        "foreignNotional": -spec.foreign_notional(signed, e.last_px)
        if trade and e.last_px
        else None,
        "transactTime": iso(e.timestamp),
        "timestamp": iso(e.timestamp),
    }


def position_row(spec: InstrumentSpec, p: Position, full: bool) -> Row:
    """position row; `full` for partials, otherwise the moving fields plus keys."""
    mark_value = p.mark_value(spec) if p.current_qty else 0
    upnl = p.unrealised_pnl(spec)
    margin = p.pos_margin()
    row: Row = {
        "account": p.account,
        "symbol": p.symbol,
        "currency": p.currency,
        "currentQty": p.current_qty,
        "currentCost": round(p.cost),
        "currentComm": p.exec_comm,
        "unrealisedCost": round(p.cost),
        "markPrice": p.mark_price,
        "markValue": mark_value,
        "riskValue": abs(mark_value),
        "homeNotional": _signed_home(spec, p.current_qty, p.mark_price),
        "foreignNotional": -spec.foreign_notional(p.current_qty, p.mark_price or 0.0),
        "posCost": round(p.cost),
        "posMargin": margin,
        "posMaint": p.maint_margin(spec),
        "posInit": margin,
        "maintMargin": p.maint_margin(spec),
        "realisedPnl": p.realised_pnl,
        "unrealisedGrossPnl": upnl,
        "unrealisedPnl": upnl,
        "unrealisedPnlPcnt": round(upnl / abs(p.cost), 4) if p.cost else 0,
        "unrealisedRoePcnt": round(upnl / margin, 4) if margin else 0,
        "avgCostPrice": p.avg_entry_price(spec),
        "avgEntryPrice": p.avg_entry_price(spec),
        "breakEvenPrice": p.avg_entry_price(spec),
        "marginCallPrice": p.liquidation_price,
        "liquidationPrice": p.liquidation_price,
        "bankruptPrice": p.bankrupt_price,
        "leverage": p.leverage,
        "isOpen": p.current_qty != 0,
        "posState": p.pos_state,
        "execBuyQty": p.exec_buy_qty,
        "execBuyCost": p.exec_buy_cost,
        "execSellQty": p.exec_sell_qty,
        "execSellCost": p.exec_sell_cost,
        "execQty": p.exec_buy_qty - p.exec_sell_qty,
        "execComm": p.exec_comm,
        "lastPrice": p.last_price if p.last_price is not None else p.mark_price,
        "lastValue": mark_value,
        "currentTimestamp": iso(p.timestamp or time.time()),
        "timestamp": iso(p.timestamp or time.time()),
    }
    if full:
        row.update(
            {
                "underlying": spec.underlying,
                "quoteCurrency": spec.quote_currency,
                "commission": spec.taker_fee,
                "initMarginReq": round(1 / p.leverage, 6),
                "maintMarginReq": spec.maint_margin,
                "riskLimit": 20_000_000_000,
                "crossMargin": False,
                "deleveragePercentile": None,
                "openingTimestamp": iso(p.opening_timestamp or time.time()),
                "openingQty": 0,
                "openingCost": 0,
                "openingComm": 0,
                "openOrderBuyQty": 0,
                "openOrderSellQty": 0,
                "simpleQty": None,
            }
        )
    return row


def _signed_home(spec: InstrumentSpec, qty: int, price: float | None) -> float:
    """Position size in the underlying, positive for a long (as BitMEX reports it)."""
    if not qty or not price:
        return 0.0
    home = spec.home_notional(abs(qty), price)
    return home if qty > 0 else -home


def margin_row(acct: DemoAccount, bal: Balance, upnl: int, maint: int, init: int) -> Row:
    """margin row of one currency."""
    wallet = bal.wallet_balance
    margin_balance = wallet + upnl
    available = margin_balance - maint - init
    return {
        "account": acct.number,
        "currency": bal.currency,
        "riskLimit": 1_000_000_000_000,
        "amount": bal.amount,
        "grossComm": bal.commission,
        "realisedPnl": bal.realised_pnl,
        "unrealisedPnl": upnl,
        "walletBalance": wallet,
        "marginBalance": margin_balance,
        "marginBalancePcnt": round(margin_balance / wallet, 4) if wallet else 1,
        "marginLeverage": round((maint + init) / margin_balance, 6) if margin_balance else 0,
        "marginUsedPcnt": round((maint + init) / margin_balance, 4) if margin_balance else 0,
        "initMargin": init,
        "maintMargin": maint,
        "excessMargin": available,
        "availableMargin": available,
        "withdrawableMargin": max(0, min(available, wallet)),
        "timestamp": iso(bal.timestamp or time.time()),
    }


def wallet_row(acct: DemoAccount, bal: Balance) -> Row:
    """wallet row of one currency."""
    return {
        "account": acct.number,
        "currency": bal.currency,
        "prevDeposited": bal.amount,
        "prevWithdrawn": 0,
        "prevTransferIn": 0,
        "prevTransferOut": 0,
        "prevAmount": bal.prev_amount,
        "prevTimestamp": iso(bal.timestamp or time.time()),
        "deltaDeposited": 0,
        "deltaWithdrawn": 0,
        "deltaTransferIn": 0,
        "deltaTransferOut": 0,
        "deltaAmount": bal.wallet_balance - bal.prev_amount,
        "deposited": bal.amount,
        "withdrawn": 0,
        "transferIn": 0,
        "transferOut": 0,
        "amount": bal.wallet_balance,
        "pendingCredit": 0,
        "pendingDebit": 0,
        "confirmedDebit": 0,
        "timestamp": iso(bal.timestamp or time.time()),
        "addr": "",
        "script": "",
        "withdrawalLock": [],
    }
