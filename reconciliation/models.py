"""对账 models (filled by its issue)."""
