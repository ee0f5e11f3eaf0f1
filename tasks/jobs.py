"""Celery jobs of the tasks app (thin: one service call)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task(name="tasks.close_expired", queue="default")
def close_expired(**kwargs) -> int:
    from tasks import services

    return services.task_close_expired(now=timezone.now())
