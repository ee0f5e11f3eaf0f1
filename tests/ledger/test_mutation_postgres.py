"""A mutation test (perf-reliability §2.5): take the row locks away and the suite must notice the lost update.

The ledger is left broken on purpose (postings are immutable, so it cannot be repaired); the after-test invariant
check is switched off for this module only, and the transactional test database is flushed afterwards.
"""

import threading

import pytest

from core.testing.concurrency import race_each
from core.testing.factories import MerchantFactory
from core.testing.ledger import fund
from ledger import services
from ledger.models import JournalEntry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _ledger_after_each_test():
    """Overrides the conftest's invariant check: this test breaks the invariants on purpose."""
    return


def test_mutation_without_row_locks_the_suite_catches_the_lost_update(now, monkeypatch):
    """perf-reliability §2.5: the naive read-then-write must be caught — here by the invariant check."""
    from ledger import locks
    from ledger.invariants import ledger_check
    from ledger.models import LedgerAccount

    merchant = MerchantFactory()
    services.merchant_accounts_open(merchant=merchant, now=now)
    fund(merchant, 7_00, now=now)
    barrier = threading.Barrier(5)

    def read_without_lock(account_ids):
        rows = {a.pk: a for a in LedgerAccount.objects.filter(pk__in=sorted(set(account_ids))).order_by("pk")}
        barrier.wait(timeout=10)  # every thread has read the same balance before anyone writes
        return rows

    monkeypatch.setattr(locks, "accounts_for_update", read_without_lock)
    results = race_each(5, lambda i: services.merchant_funds_freeze(
        merchant=merchant, amount_fen=7_00, kind="payout.freeze", ref=f"m-{i}", now=now))
    assert sum(isinstance(r, JournalEntry) for r in results) == 5  # five payments against money for one
    report = ledger_check()
    assert not report.ok
    assert any("cached balance" in problem for problem in report.problems)
