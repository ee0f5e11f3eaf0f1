"""风控 models (filled by its issue)."""
