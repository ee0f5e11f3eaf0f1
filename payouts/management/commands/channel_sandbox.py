"""``manage.py channel_sandbox --port 8765``: run the bank / Alipay / WeChat sandbox as its own process.

Its state is a SQLite file under var/ (not the platform's database); statement files are copied to
var/channel_sandbox/statements/. It calls the platform back at CHANNEL_CALLBACK_BASE_URL.
"""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from payouts.channels.sandbox.server import ChannelSandbox, SandboxConfig


class Command(BaseCommand):
    help = "Run the payment channel sandbox (bank, Alipay, WeChat) on its own port."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--db", default=str(settings.VAR_DIR / "channel_sandbox.sqlite3"))
        parser.add_argument("--callback-base", default=settings.CHANNEL_CALLBACK_BASE_URL)
        parser.add_argument("--settle-seconds", type=float, default=1.0)
        parser.add_argument("--late-seconds", type=float, default=20.0)
        parser.add_argument("--slow-seconds", type=float, default=settings.CHANNEL_TIMEOUT_SECONDS + 3)
        parser.add_argument("--return-seconds", type=float, default=60.0)
        parser.add_argument("--notify-workers", type=int, default=8)
        parser.add_argument("--wechat-qps", type=int, default=100, help="WeChat requests per second (0: no limit)")

    def handle(self, *args, **options):
        config = SandboxConfig(
            callback_base=options["callback_base"], secret=settings.CHANNEL_SANDBOX_SECRET,
            settle_seconds=options["settle_seconds"], late_seconds=options["late_seconds"],
            slow_seconds=options["slow_seconds"], return_seconds=options["return_seconds"],
            notify_workers=options["notify_workers"], wechat_qps=options["wechat_qps"], statements_dir=settings.VAR_DIR / "channel_sandbox" / "statements",
            custody_account=settings.CUSTODY_ACCOUNT_PREFIX + "0000000000", custody_name=settings.PLATFORM_LEGAL_NAME,
        )
        sandbox = ChannelSandbox(db_path=options["db"], config=config, host=options["host"],
                                 port=options["port"]).start()
        self.stdout.write(f"通道沙箱已启动 {sandbox.url}（银行 / 支付宝 / 微信），回调 {config.callback_base}")
        self.stdout.flush()
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        signal.signal(signal.SIGINT, lambda *_: stopped.set())
        stopped.wait()
        sandbox.stop()
