"""Tax jobs: thin, ids in, one service call. Scheduled in config/beat.py."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from tax import filing


@shared_task(name="tax.month_end", queue="tax")
def month_end(**kwargs) -> list[str]:
    """File last month's 扣缴申报 and 代办申报 (and pending 更正); idempotent."""
    return [str(period) for period in filing.tax_month_end(now=timezone.now())]


@shared_task(name="tax.platform_report", queue="tax")
def platform_report(**kwargs) -> str:
    """Build last quarter's Decree 810 report; idempotent."""
    now = timezone.now()
    year, quarter = filing.previous_quarter(timezone.localtime(now).date())
    return str(filing.platform_report_build(year=year, quarter=quarter, now=now))
