"""Run the whole platform on one machine: migrate, load the demo data, start web + worker + scheduler.

Used by ``make run``. Without DATABASE_URL/REDIS_URL everything is embedded (SQLite and a file-system broker
under var/); with them, PostgreSQL and Redis. Stops its children on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone


def ensure_postgres_database() -> None:
    """Create the database named in DATABASE_URL when the server has no such database yet."""
    db = settings.DATABASES["default"]
    if not settings.USING_POSTGRES:
        return
    import psycopg
    from psycopg import sql

    params = {"host": db.get("HOST") or None, "port": db.get("PORT") or None, "user": db.get("USER") or None,
              "password": db.get("PASSWORD") or None}
    with psycopg.connect(dbname="postgres", autocommit=True, **{k: v for k, v in params.items() if v}) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))


class Command(BaseCommand):
    help = "Migrate, load demo data and run web, worker and scheduler together (the README's run command)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true")

    def handle(self, *args, **options):
        ensure_postgres_database()
        call_command("migrate", interactive=False, verbosity=0)
        for hook in _startup_hooks():
            hook()
        from cryptography.exceptions import InvalidTag
        from django.core.management.base import CommandError

        from core.management.commands.demo_load import load_all
        from core.pii import PIIKeyError

        try:
            lines = load_all(now=timezone.now())
        except (InvalidTag, PIIKeyError):
            raise CommandError(
                "数据库中的个人信息是用另一组密钥加密的，当前密钥无法解密。请使用创建该数据库时的 LINGGONG_PII_KEYS / "
                "LINGGONG_BLIND_INDEX_KEY，或换一个新的空数据库（DATABASE_URL）。"
            ) from None
        python = sys.executable
        base_url = f"http://{options['host']}:{options['port']}"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        children: list[subprocess.Popen] = []
        web_cmd = [python, "manage.py", "runserver", f"{options['host']}:{options['port']}", "--noreload"]
        if not settings.DEBUG:
            web_cmd = [python, "-m", "gunicorn", "config.wsgi", "-b", f"{options['host']}:{options['port']}",
                       "-w", "2", "--access-logfile", "-"]
        children.append(subprocess.Popen(web_cmd, env=env))
        if not options["no_worker"]:
            children.append(subprocess.Popen(
                [python, "-m", "celery", "-A", "config", "worker", "-B", "-l", "INFO", "--concurrency", "2",
                 "-Q", ",".join(settings.CELERY_TASK_QUEUES_NAMES),
                 "--schedule", str(settings.VAR_DIR / "celerybeat-schedule")],
                env=env,
            ))
        for extra in _extra_processes():
            children.append(subprocess.Popen(extra, env=env))

        def stop(*_):
            for child in children:
                if child.poll() is None:
                    child.terminate()
            deadline = time.time() + 10
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    child.kill()
            sys.exit(0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self._wait_healthy(base_url)
        if not options["no_worker"]:
            from core.jobs import heartbeat

            heartbeat.delay()  # goes through the broker: /healthz shows the worker's heartbeat once it has run it
        database = "PostgreSQL" if settings.USING_POSTGRES else f"SQLite ({settings.DATABASES['default']['NAME']})"
        broker = "Redis" if settings.REDIS_URL else "嵌入式文件队列 (var/broker)"
        self.stdout.write("\n".join([
            "",
            "灵工 Linggong 已启动",
            f"  企业端        {base_url}/enterprise/",
            f"  灵工人员端    {base_url}/m/",
            f"  运营后台      {base_url}/ops/",
            f"  合作方 API    {base_url}/api/v1/  （OpenAPI: {base_url}/api/schema/ ，文档 {base_url}/api/docs/）",
            f"  健康检查      {base_url}/healthz",
            f"  数据库 {database}；消息队列 {broker}；后台任务与定时任务已启动",
            "",
            "演示账号：",
            *[f"  {line}" for line in lines],
            "",
            "按 Ctrl-C 停止。",
            "",
        ]))
        self.stdout.flush()
        while True:
            for child in children:
                if child.poll() is not None:
                    self.stderr.write(f"process {child.args[:4]} exited with {child.returncode}; stopping")
                    stop()
            time.sleep(1)

    def _wait_healthy(self, base_url: str) -> None:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)


def _startup_hooks():
    """Apps may define ``startup()`` in ``<app>/demo.py`` for one-time set-up (e.g. the signing certificate)."""
    from importlib import import_module

    from config.urls import DOMAIN_APPS

    hooks = []
    for app in ["core", *DOMAIN_APPS]:
        try:
            module = import_module(f"{app}.demo")
        except ModuleNotFoundError:
            continue
        if hasattr(module, "startup"):
            hooks.append(module.startup)
    return hooks


def _extra_processes() -> list[list[str]]:
    """Apps may define ``PROCESSES`` in ``<app>/demo.py``: extra commands to run beside web and worker
    (for example the payment channel sandbox)."""
    from importlib import import_module

    from config.urls import DOMAIN_APPS

    commands = []
    for app in DOMAIN_APPS:
        try:
            module = import_module(f"{app}.demo")
        except ModuleNotFoundError:
            continue
        for command in getattr(module, "PROCESSES", []):
            commands.append([sys.executable if part == "{python}" else part for part in command])
    return commands
