"""Fixed-window rate limits on the shared cache (Redis in production, a file cache in the embedded default)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from core.exceptions import RateLimited


def _cache_key(scope: str, ident: str) -> str:
    return "rl:" + scope + ":" + hashlib.sha256(ident.encode()).hexdigest()[:32]


def hit(scope: str, ident: str, *, message: str = _("操作过于频繁，请稍后再试")) -> int:
    """Count one attempt for (scope, ident); raise RateLimited once the scope's limit is passed in its window."""
    limit, window = settings.LINGGONG_RATE_LIMITS[scope]
    key = _cache_key(scope, ident)
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    if count > limit:
        raise RateLimited(message, extra={"scope": scope, "retry_after_seconds": window})
    return count


def peek(scope: str, ident: str) -> int:
    return int(cache.get(_cache_key(scope, ident)) or 0)


def reset(scope: str, ident: str) -> None:
    cache.delete(_cache_key(scope, ident))
