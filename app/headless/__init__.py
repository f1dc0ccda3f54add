"""The headless face: feed, record and replay without a window."""
