"""任务发布与管理 models (filled by its issue)."""
