"""What the dock widgets share about following a session."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.gui.session import FeedSession


def follow_frames(
    old: FeedSession | None, new: FeedSession | None, slot: Callable[[Any], None]
) -> FeedSession | None:
    """Move `slot` from the old session's bridge frames to the new one's; returns `new`."""
    if old is not None:
        old.bridge.frame.disconnect(slot)
    if new is not None:
        new.bridge.frame.connect(slot)
    return new


def price_step(session: FeedSession, symbol: str) -> float | None:
    """The price step of `symbol` on the session's venue: the session's own knowledge (BitMart
    has no instrument table: legacy grouping, known or inferred tick), else the instrument's."""
    step_of = getattr(session, "price_step", None)
    if callable(step_of):
        step = step_of(symbol)
        return float(step) if step else None
    return session.state.instruments.tick_size(symbol)


def lot_step(session: FeedSession, symbol: str) -> float | None:
    """The size step of `symbol`: its instrument row's (BitMEX `lotSize`), else the one the venue
    told before connecting (BitMart legacy symbol details, the simulator), else None: the ladder
    then shows the most decimals its sizes had."""
    lot = session.state.instruments.lot_size(symbol)
    if lot is not None and lot > 0:
        return lot
    hints = getattr(session, "hints", None)
    step = getattr(hints, "lot_step", None) if symbol == session.symbol else None
    return step if isinstance(step, float) and step > 0 else None
