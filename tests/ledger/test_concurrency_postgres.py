"""PostgreSQL only: real threads, real commits, the database's own rules."""


import pytest
from django.db import (
    IntegrityError,
    InternalError,
    ProgrammingError,
    connection,
    transaction,
)

from core.testing.concurrency import race_each
from core.testing.factories import MerchantFactory
from core.testing.ledger import assert_ledger_ok, fund
from ledger import selectors, services
from ledger.exceptions import InsufficientBalance
from ledger.models import AccountKind, JournalEntry, Posting

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_concurrent_debits_against_a_balance_for_ten(now):
    merchant = MerchantFactory()
    services.merchant_accounts_open(merchant=merchant, now=now)
    fund(merchant, 10 * 7_00, now=now)

    def debit(i):
        with transaction.atomic():
            return services.merchant_funds_freeze(merchant=merchant, amount_fen=7_00, kind="payout.freeze",
                                                  ref=f"order-{i}", now=now)

    results = race_each(50, debit)
    succeeded = [r for r in results if isinstance(r, JournalEntry)]
    refused = [r for r in results if isinstance(r, InsufficientBalance)]
    assert len(succeeded) == 10, results
    assert len(refused) == 40
    assert selectors.merchant_available_fen(merchant=merchant) == 0
    assert selectors.merchant_frozen_fen(merchant=merchant) == 70_00
    assert_ledger_ok()


def test_opposite_directions_between_two_accounts_do_not_deadlock(now):
    merchant = MerchantFactory()
    services.merchant_accounts_open(merchant=merchant, now=now)
    fund(merchant, 1_000_00, now=now)
    services.merchant_funds_freeze(merchant=merchant, amount_fen=500_00, kind="setup", ref="setup", now=now)

    def move(i):
        for n in range(20):
            if i % 2:
                services.merchant_funds_freeze(merchant=merchant, amount_fen=1_00, kind="t.freeze",
                                               ref=f"{i}-{n}", now=now)
            else:
                services.merchant_funds_release(merchant=merchant, amount_fen=1_00, kind="t.release",
                                                ref=f"{i}-{n}", now=now)
        return "ok"

    results = race_each(8, move)
    assert results == ["ok"] * 8
    assert selectors.merchant_available_fen(merchant=merchant) == 500_00
    assert selectors.merchant_frozen_fen(merchant=merchant) == 500_00
    assert_ledger_ok()


def test_the_same_event_posted_concurrently_posts_once(now):
    merchant = MerchantFactory()
    accounts = services.merchant_accounts_open(merchant=merchant, now=now)
    custody = services.platform_account(kind=AccountKind.CUSTODY_BANK, now=now)
    lines = [(custody, 12_34), (accounts[AccountKind.MERCHANT_AVAILABLE], -12_34)]

    results = race_each(10, lambda i: services.entry_post(kind="funding.incoming", ref="serial-9", lines=lines,
                                                            now=now))
    assert len({r.pk for r in results}) == 1, results
    assert selectors.merchant_available_fen(merchant=merchant) == 12_34
    assert_ledger_ok()


def test_the_database_refuses_an_unbalanced_entry_at_commit(now):
    merchant = MerchantFactory()
    accounts = services.merchant_accounts_open(merchant=merchant, now=now)
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        entry = JournalEntry.objects.create(kind="bad", ref="1", posted_at=now)
        Posting.objects.create(entry=entry, account=accounts[AccountKind.MERCHANT_AVAILABLE], amount_fen=-5,
                               balance_after_fen=5, posted_at=now)
        Posting.objects.create(entry=entry, account=accounts[AccountKind.MERCHANT_FROZEN], amount_fen=4,
                               balance_after_fen=0, posted_at=now)
    with pytest.raises(IntegrityError, match="at least two"), transaction.atomic():
        JournalEntry.objects.create(kind="bad", ref="2", posted_at=now)
    assert JournalEntry.objects.count() == 0


def test_a_balanced_entry_written_in_several_statements_is_accepted(now):
    merchant = MerchantFactory()
    accounts = services.merchant_accounts_open(merchant=merchant, now=now)
    custody = services.platform_account(kind=AccountKind.CUSTODY_BANK, now=now)
    with transaction.atomic():
        # In between the two inserts the entry does not balance: the check is deferred to commit.
        entry = JournalEntry.objects.create(kind="manual", ref="1", posted_at=now)
        Posting.objects.create(entry=entry, account=custody, amount_fen=5, balance_after_fen=5, posted_at=now)
        Posting.objects.create(entry=entry, account=accounts[AccountKind.MERCHANT_AVAILABLE], amount_fen=-5,
                               balance_after_fen=5, posted_at=now)
        from ledger.models import LedgerAccount

        LedgerAccount.objects.filter(pk=custody.pk).update(balance_fen=5)
        LedgerAccount.objects.filter(pk=accounts[AccountKind.MERCHANT_AVAILABLE].pk).update(balance_fen=5)
    assert_ledger_ok()


def test_entries_and_postings_are_immutable(now):
    merchant = MerchantFactory()
    services.merchant_accounts_open(merchant=merchant, now=now)
    entry = fund(merchant, 1_00, now=now)
    with pytest.raises((InternalError, ProgrammingError), match="append-only"), transaction.atomic():
        Posting.objects.filter(entry=entry).update(amount_fen=2)
    with pytest.raises((InternalError, ProgrammingError), match="append-only"), transaction.atomic():
        Posting.objects.filter(entry=entry)._raw_delete(connection.alias)
    with pytest.raises((InternalError, ProgrammingError), match="append-only"), transaction.atomic():
        JournalEntry.objects.filter(pk=entry.pk).update(memo="changed")
    assert_ledger_ok()



def test_postings_cannot_be_added_to_an_entry_of_an_earlier_transaction(now):
    merchant = MerchantFactory()
    accounts = services.merchant_accounts_open(merchant=merchant, now=now)
    entry = fund(merchant, 1_00, now=now)
    with pytest.raises(IntegrityError, match="earlier transaction"), transaction.atomic():
        Posting.objects.create(entry=entry, account=accounts[AccountKind.MERCHANT_AVAILABLE], amount_fen=1,
                               balance_after_fen=0, posted_at=now)
        Posting.objects.create(entry=entry, account=accounts[AccountKind.MERCHANT_FROZEN], amount_fen=-1,
                               balance_after_fen=1, posted_at=now)
    assert_ledger_ok()


def test_entries_checked_early_do_not_hide_later_ones(now):
    merchant = MerchantFactory()
    accounts = services.merchant_accounts_open(merchant=merchant, now=now)
    custody = services.platform_account(kind=AccountKind.CUSTODY_BANK, now=now)
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        fund(merchant, 1_00, now=now)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        entry = JournalEntry.objects.create(kind="late", ref="1", posted_at=now)
        Posting.objects.create(entry=entry, account=custody, amount_fen=5, balance_after_fen=5, posted_at=now)
        Posting.objects.create(entry=entry, account=accounts[AccountKind.MERCHANT_AVAILABLE], amount_fen=-4,
                               balance_after_fen=4, posted_at=now)
    assert JournalEntry.objects.count() == 0
