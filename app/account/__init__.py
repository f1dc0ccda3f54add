"""Account plumbing without Qt: credential storage and the dead man's switch controller."""
