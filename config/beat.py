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
}
