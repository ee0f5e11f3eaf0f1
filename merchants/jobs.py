"""Jobs of the merchants app (thin: one service call)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task(name="merchants.api_nonces_purge", queue="default")
def api_nonces_purge(**kwargs) -> int:
    from merchants.services import api_nonces_purge as purge

    return purge(now=timezone.now())
