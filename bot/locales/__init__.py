"""Message catalogues, one module per language: MESSAGES (key -> template) and COMMANDS."""
