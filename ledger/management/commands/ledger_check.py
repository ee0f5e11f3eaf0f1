"""``manage.py ledger_check``: verify the ledger's invariants; exits 1 when one is broken."""

from django.core.management.base import BaseCommand, CommandError

from ledger.invariants import ledger_check


class Command(BaseCommand):
    help = "Check that every entry balances and every cached balance equals its postings."

    def handle(self, *args, **options):
        report = ledger_check()
        for problem in report.problems:
            self.stderr.write(problem)
        if not report.ok:
            raise CommandError(f"ledger invariants broken: {len(report.problems)} problem(s)")
        self.stdout.write(f"ledger ok: {report.entries} entries, {report.accounts} accounts")
