"""账务 models (filled by its issue)."""
