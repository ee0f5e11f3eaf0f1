"""The ledger's invariants, checked from the rows themselves (run nightly, by ``manage.py ledger_check`` and after
every test that touches money):

1. every entry has at least two postings and its postings sum to zero;
2. every account's cached ``balance_fen`` equals its postings (``sign × Σ amount_fen``) — no drift;
3. no account that may not overdraw is below zero;
4. all postings together sum to zero (follows from 1; checked anyway, it is one cheap query);
5. every posting's account has the entry's currency (CNY only today) — implied by the schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, Q, Sum, Value
from django.db.models.functions import Coalesce

from ledger.models import JournalEntry, LedgerAccount, Posting, Side


@dataclass
class LedgerReport:
    entries: int = 0
    accounts: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def ledger_check(*, limit: int = 50) -> LedgerReport:
    """Check the invariants above; report up to ``limit`` problems of each kind (an empty list means all hold)."""
    report = LedgerReport(entries=JournalEntry.objects.count(), accounts=LedgerAccount.objects.count())

    unbalanced = (Posting.objects.values("entry_id").annotate(total=Sum("amount_fen"), n=Count("id"))
                  .filter(~Q(total=0) | Q(n__lt=2)).order_by("entry_id")[:limit])
    for row in unbalanced:
        report.problems.append(f"entry {row['entry_id']}: {row['n']} postings summing to {row['total']} fen")
    for entry_id in (JournalEntry.objects.filter(postings__isnull=True).order_by("id")
                     .values_list("id", flat=True)[:limit]):
        report.problems.append(f"entry {entry_id}: no postings")

    accounts = (LedgerAccount.objects
                .annotate(posted=Coalesce(Sum("postings__amount_fen"), Value(0), output_field=IntegerField()))
                .order_by("id"))
    drifted = 0
    for account in accounts.only("id", "kind", "normal_side", "balance_fen", "allow_negative"):
        expected = account.posted if account.normal_side == Side.DEBIT else -account.posted
        if expected != account.balance_fen and drifted < limit:
            drifted += 1
            report.problems.append(
                f"account {account.pk} ({account.kind}): cached balance {account.balance_fen} fen, postings say {expected}"
            )
    negative = (LedgerAccount.objects.filter(allow_negative=False, balance_fen__lt=0).order_by("id")
                .values_list("id", "kind", "balance_fen")[:limit])
    for pk, kind, balance in negative:
        report.problems.append(f"account {pk} ({kind}): negative balance {balance} fen")

    grand_total = Posting.objects.aggregate(total=Coalesce(Sum("amount_fen"), Value(0)))["total"]
    if grand_total != 0:
        report.problems.append(f"all postings sum to {grand_total} fen, not 0")
    mixed = Posting.objects.exclude(account__currency="CNY").count()
    if mixed:
        report.problems.append(f"{mixed} postings on non-CNY accounts")
    return report
