"""档案管理 models (filled by its issue)."""
