"""``manage.py ledger_bench --entries 100000``: time set-based posting on this database, then roll it all back.

Posts one funding entry, N freeze entries (2 postings each) and N settlement entries (4 postings each) through
``ledger.services.entries_post``, forces the deferred checks (zero-sum trigger, foreign keys) with
``SET CONSTRAINTS ALL IMMEDIATE`` so they are timed too, prints the figures, and rolls the transaction back: nothing
stays in the database. Reproduces the figures in docs/ledger.md (run it with DATABASE_URL set for PostgreSQL).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from core.validators import uscc_check_char
from ledger import services
from ledger.models import AccountKind, Channel
from merchants.models import Merchant


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time set-based posting of N freeze and N settlement entries; everything is rolled back."

    def add_arguments(self, parser):
        parser.add_argument("--entries", type=int, default=100_000)

    def handle(self, *args, **options):
        n = options["entries"]
        now = timezone.now()
        figures = []

        def timed(label, function):
            started = time.perf_counter()
            function()
            written = time.perf_counter()
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            checked = time.perf_counter()
            figures.append(f"{label}: {n} entries written in {written - started:.2f} s, "
                           f"deferred checks {checked - written:.2f} s")

        try:
            with transaction.atomic():
                body = "91120116BENCH0000"
                merchant = Merchant.objects.create(name="基准测试企业", uscc=body + uscc_check_char(body),
                                                   status=Merchant.Status.ACTIVE)
                accounts = services.merchant_accounts_open(merchant=merchant, now=now)
                available, frozen = accounts[AccountKind.MERCHANT_AVAILABLE], accounts[AccountKind.MERCHANT_FROZEN]
                custody = services.platform_account(kind=AccountKind.CUSTODY_BANK, now=now)
                clearing = services.platform_account(kind=AccountKind.CHANNEL_CLEARING, channel=Channel.BANK, now=now)
                fee = services.platform_account(kind=AccountKind.PLATFORM_FEE_REVENUE, now=now)
                tax = services.platform_account(kind=AccountKind.TAX_PAYABLE_IIT, now=now)
                services.entry_post(kind="bench.fund", ref="bench", lines=[(custody, n * 106_00),
                                                                           (available, -n * 106_00)], now=now)
                freezes = [services.EntrySpec(kind="bench.freeze", ref=f"bench-{i}",
                                              lines=[(available, 106_00), (frozen, -106_00)]) for i in range(n)]
                settles = [services.EntrySpec(kind="bench.settle", ref=f"bench-{i}",
                                              lines=[(frozen, 106_00), (clearing, -90_00), (fee, -6_00), (tax, -10_00)])
                           for i in range(n)]
                timed("freeze (2 postings each)", lambda: services.entries_post(entries=freezes, now=now,
                                                                                 return_entries=False))
                timed("settle (4 postings each)", lambda: services.entries_post(entries=settles, now=now,
                                                                                 return_entries=False))
                raise _Rollback
        except _Rollback:
            pass
        self.stdout.write(f"database: {connection.vendor}; rolled back, nothing kept")
        for line in figures:
            self.stdout.write(line)
        self.stdout.write(f"reproduce: .venv/bin/python manage.py ledger_bench --entries {n}")
