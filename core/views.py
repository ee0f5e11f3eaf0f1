"""Platform-level pages: the health check and the landing page."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from core.jobs import HEARTBEAT_CACHE_KEY


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_broker() -> str:
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        if conn.transport_cls == "filesystem" or str(conn.transport).endswith("filesystem.Transport"):
            folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
            probe = f"{folder}/.healthz"
            with open(probe, "w") as handle:
                handle.write(str(time.time()))
    return "ok"


@never_cache
def healthz(request):
    """Database and broker must answer; the worker's last heartbeat is reported (it is not required to be fresh)."""
    checks = {}
    healthy = True
    for name, check in (("database", _check_database), ("broker", _check_broker)):
        try:
            checks[name] = check()
        except Exception as error:  # the health endpoint reports failures, it does not raise them
            checks[name] = f"error: {type(error).__name__}"
            healthy = False
    beat = cache.get(HEARTBEAT_CACHE_KEY)
    checks["worker_heartbeat_age_seconds"] = round(time.time() - beat, 1) if beat else None
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


def home(request):
    return render(request, "core/home.html")
