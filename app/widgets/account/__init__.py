"""Account panel dock: login, private tables (orders, fills, margin, wallet), dead man's switch."""
