"""付款与发放 models (filled by its issue)."""
