"""The one beat schedule. Each entry names a job by its stable Celery name (``<app>.<verb>``).

Times are Asia/Shanghai. Apps add their periodic jobs here, one line each, with a comment saying why.
"""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # Proves the worker and the scheduler are alive; /healthz reads the heartbeat it leaves.
    "core.heartbeat": {"task": "core.heartbeat", "schedule": 60.0},
    # The audit chain is re-verified every night; a break raises an alert in the log.
    "core.audit_verify": {"task": "core.audit_verify", "schedule": crontab(hour=2, minute=10)},
    # Every entry balances and every cached balance equals its postings; a break is logged as an error.
    "ledger.check": {"task": "ledger.check", "schedule": crontab(hour=2, minute=20)},
    # Incoming transfers the bank's notices missed are picked up from its statement (today and yesterday), hourly.
    "payouts.statement_pull": {"task": "payouts.statement_pull", "schedule": crontab(minute=7)},
    # Last month's 扣缴申报 / 代办申报 (due by the 15th) and any pending 更正, on the 1st of each month.
    "tax.month_end": {"task": "tax.month_end", "schedule": crontab(day_of_month=1, hour=3, minute=0)},
    # Last quarter's platform report (Decree 810: within the month after the quarter), on the 1st of Jan/Apr/Jul/Oct.
    "tax.platform_report": {"task": "tax.platform_report", "schedule": crontab(day_of_month=1, month_of_year="1,4,7,10", hour=3, minute=30)},
    # Payout orders whose outcome is open (UNKNOWN after a timeout, PROCESSING, stuck SUBMITTING) are queried, every minute.
    "payouts.orders_query": {"task": "payouts.orders_query", "schedule": 60.0},
    # 交易后计费: last month's fees billed on the 1st (monthly fee statement).
    "payouts.fee_statements": {"task": "payouts.fee_statements", "schedule": crontab(day_of_month=1, hour=4, minute=0)},
    # Partner API request nonces are kept only while their timestamp is inside the window; older ones are dropped.
    "merchants.api_nonces_purge": {"task": "merchants.api_nonces_purge", "schedule": crontab(minute=17)},
    # Published tasks whose application deadline passed stop taking workers (pending applications are declined).
    "tasks.close_expired": {"task": "tasks.close_expired", "schedule": crontab(minute=23)},
}
