"""Plain-Python stores fed by feed events: books, tape, candles, instruments, account. No Qt."""
