"""代理报税 models (filled by its issue)."""
