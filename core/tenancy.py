"""Tenant isolation helpers. The merchant is the tenant; another tenant's object is "not found", never "forbidden"."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.exceptions import NotFound


def get_for_tenant(queryset: models.QuerySet, *, merchant, message: str = _("未找到该记录"), **lookup):
    """Fetch one row of ``merchant`` or raise ``NotFound`` (the same answer for missing and for another tenant's)."""
    if merchant is None:
        raise NotFound(message)
    merchant_id = getattr(merchant, "pk", merchant)
    try:
        return queryset.get(merchant_id=merchant_id, **lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound(message) from None
