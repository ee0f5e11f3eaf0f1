"""The web process settles orders from notifications only if the handler is registered when the URLs load."""

import subprocess
import sys


def test_loading_the_urls_registers_the_notification_handler():
    code = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup(); "
            "from django.urls import get_resolver; get_resolver().url_patterns; "
            "from payouts.services.channels import _handlers, _batch_handlers; "
            "print(sorted(h.__name__ for h in _handlers + _batch_handlers))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "LINGGONG_ENV": "test"})
    assert "on_payout_notifications" in out.stdout, out.stderr[-2000:]
