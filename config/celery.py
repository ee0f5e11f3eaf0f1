"""The Celery app. Jobs live in each app's ``jobs.py`` (not ``tasks.py``: ``tasks`` is a domain app)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("linggong")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(related_name="jobs")
