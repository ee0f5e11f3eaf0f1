"""Load the demo data, idempotently: each app's ``demo.py`` has ``load(*, now) -> list[str]`` (lines to print).

Apps are loaded in dependency order (config.urls.DOMAIN_APPS). Running it twice changes nothing the second time.
"""

from importlib import import_module

from django.core.management.base import BaseCommand
from django.utils import timezone

from config.urls import DOMAIN_APPS


def load_all(*, now) -> list[str]:
    lines: list[str] = []
    for app in DOMAIN_APPS:
        try:
            module = import_module(f"{app}.demo")
        except ModuleNotFoundError as error:
            if error.name != f"{app}.demo":
                raise
            continue
        lines += module.load(now=now) or []
    return lines


class Command(BaseCommand):
    help = "Load the demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        for line in load_all(now=timezone.now()):
            self.stdout.write(line)
