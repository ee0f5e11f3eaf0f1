"""会员注册与签约 models (filled by its issue)."""
