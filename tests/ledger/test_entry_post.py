import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from core.testing.factories import MerchantFactory
from core.testing.ledger import fund
from ledger import selectors, services
from ledger.exceptions import AccountNotOpen, EntryConflict, InsufficientBalance, UnbalancedEntry
from ledger.invariants import ledger_check
from ledger.models import AccountKind, Channel, JournalEntry, LedgerAccount, Posting

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(merchant, now):
    return services.merchant_accounts_open(merchant=merchant, now=now)


@pytest.fixture
def custody(now):
    return services.platform_account(kind=AccountKind.CUSTODY_BANK, now=now)


def test_open_is_idempotent_and_creates_the_merchant_accounts(merchant, now):
    first = services.merchant_accounts_open(merchant=merchant, now=now)
    second = services.merchant_accounts_open(merchant=merchant, now=now)
    assert set(first) == {AccountKind.MERCHANT_AVAILABLE, AccountKind.MERCHANT_FROZEN, AccountKind.WORKER_PAYABLE}
    assert {a.pk for a in first.values()} == {a.pk for a in second.values()}
    assert LedgerAccount.objects.filter(merchant=merchant).count() == 3


def test_funding_credits_available_and_debits_custody(merchant, accounts, custody, now):
    entry = services.entry_post(kind="funding.incoming", ref="serial-1",
                                lines=[(custody, 150_00), (accounts[AccountKind.MERCHANT_AVAILABLE], -150_00)],
                                memo="充值", now=now)
    assert selectors.merchant_available_fen(merchant=merchant) == 150_00
    custody.refresh_from_db()
    assert custody.balance_fen == 150_00
    assert entry.merchant_id == merchant.pk
    assert entry.postings.count() == 2


def test_duplicate_kind_and_ref_posts_once(merchant, accounts, custody, now):
    lines = [(custody, 99), (accounts[AccountKind.MERCHANT_AVAILABLE], -99)]
    first = services.entry_post(kind="funding.incoming", ref="dup", lines=lines, now=now)
    again = services.entry_post(kind="funding.incoming", ref="dup", lines=lines, now=now)
    assert again.pk == first.pk
    assert JournalEntry.objects.count() == 1
    assert selectors.merchant_available_fen(merchant=merchant) == 99


def test_same_ref_with_different_lines_is_a_conflict(merchant, accounts, custody, now):
    available = accounts[AccountKind.MERCHANT_AVAILABLE]
    services.entry_post(kind="funding.incoming", ref="x", lines=[(custody, 99), (available, -99)], now=now)
    with pytest.raises(EntryConflict):
        services.entry_post(kind="funding.incoming", ref="x", lines=[(custody, 100), (available, -100)], now=now)
    assert selectors.merchant_available_fen(merchant=merchant) == 99


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([(1, 100), (2, -99)], "借贷不平"),
        ([(1, 100)], "至少需要两条"),
        ([(1, 0), (2, 0)], "金额为 0"),
        ([(1, 1.5), (2, -1.5)], "整数"),
        ([(1, True), (2, -1)], "整数"),
    ],
)
def test_bad_lines_are_refused_and_nothing_is_written(accounts, lines, message, now):
    with pytest.raises(UnbalancedEntry, match=message):
        services.entry_post(kind="k", ref="r", lines=lines, now=now)
    assert JournalEntry.objects.count() == 0
    assert Posting.objects.count() == 0


def test_overdraft_is_refused_with_the_shortfall_and_nothing_changes(merchant, accounts, now):
    fund(merchant, 10_00, now=now)
    with pytest.raises(InsufficientBalance, match="还差 0.01 元") as error:
        services.merchant_funds_freeze(merchant=merchant, amount_fen=10_01, kind="payout.freeze", ref="o1", now=now)
    assert error.value.extra["short_fen"] == 1
    assert selectors.merchant_available_fen(merchant=merchant) == 10_00
    assert selectors.merchant_frozen_fen(merchant=merchant) == 0


def test_freeze_and_release_move_between_available_and_frozen(merchant, accounts, now):
    fund(merchant, 100_00, now=now)
    services.merchant_funds_freeze(merchant=merchant, amount_fen=30_00, kind="payout.freeze", ref="o1", now=now)
    assert (selectors.merchant_available_fen(merchant=merchant), selectors.merchant_frozen_fen(merchant=merchant)) == (
        70_00, 30_00)
    services.merchant_funds_release(merchant=merchant, amount_fen=30_00, kind="payout.release", ref="o1", now=now)
    assert (selectors.merchant_available_fen(merchant=merchant), selectors.merchant_frozen_fen(merchant=merchant)) == (
        100_00, 0)


def test_freeze_without_open_accounts_is_account_not_open(merchant, now):
    with pytest.raises(AccountNotOpen):
        services.merchant_funds_freeze(merchant=merchant, amount_fen=1, kind="payout.freeze", ref="o", now=now)


def test_entries_post_many_is_all_or_nothing(merchant, accounts, custody, now):
    available = accounts[AccountKind.MERCHANT_AVAILABLE]
    frozen = accounts[AccountKind.MERCHANT_FROZEN]
    specs = [services.EntrySpec(kind="funding.incoming", ref="a", lines=[(custody, 50), (available, -50)]),
             services.EntrySpec(kind="payout.freeze", ref="b", lines=[(available, 40), (frozen, -40)]),
             services.EntrySpec(kind="payout.freeze", ref="c", lines=[(available, 40), (frozen, -40)])]
    with pytest.raises(InsufficientBalance):
        services.entries_post(entries=specs, now=now)
    assert JournalEntry.objects.count() == 0
    done = services.entries_post(entries=specs[:2], now=now)
    assert [e.ref for e in done] == ["a", "b"]
    # Replaying the same specs returns the same entries and posts nothing new.
    again = services.entries_post(entries=specs[:2], now=now)
    assert [e.pk for e in again] == [e.pk for e in done]
    assert selectors.merchant_available_fen(merchant=merchant) == 10
    assert list(Posting.objects.filter(account=available).order_by("id").values_list("balance_after_fen", flat=True)) \
        == [50, 10]


def test_platform_accounts_per_channel(now):
    bank = services.platform_account(kind=AccountKind.CHANNEL_CLEARING, channel=Channel.BANK, now=now)
    alipay = services.platform_account(kind=AccountKind.CHANNEL_CLEARING, channel=Channel.ALIPAY, now=now)
    assert bank.pk != alipay.pk
    assert services.platform_account(kind=AccountKind.CHANNEL_CLEARING, channel=Channel.BANK, now=now).pk == bank.pk
    with pytest.raises(ValueError):
        services.platform_account(kind=AccountKind.CHANNEL_CLEARING, now=now)


def test_statement_is_tenant_scoped_and_signed_from_the_merchants_view(merchant, accounts, now):
    other = MerchantFactory()
    fund(merchant, 100_00, now=now)
    services.merchant_funds_freeze(merchant=merchant, amount_fen=25_00, kind="payout.freeze", ref="o1", now=now)
    rows = list(selectors.account_statement(merchant=merchant))
    assert [(r.change_fen, r.balance_after_fen) for r in rows] == [(-25_00, 75_00), (100_00, 100_00)]
    assert list(selectors.account_statement(merchant=other)) == []
    assert selectors.merchant_available_fen(merchant=other) == 0


def test_daily_balances_carry_forward(merchant, accounts, now):
    import datetime as dt

    fund(merchant, 10_00, now=now - dt.timedelta(days=2))
    fund(merchant, 5_00, now=now)
    days = selectors.merchant_daily_balances(merchant=merchant, date_from=now.date() - dt.timedelta(days=3),
                                             date_to=now.date())
    assert [d.balance_fen for d in days] == [0, 10_00, 10_00, 15_00]


def test_ledger_check_detects_drift_and_the_command_fails(merchant, accounts, now, capsys):
    fund(merchant, 10_00, now=now)
    assert ledger_check().ok
    call_command("ledger_check")
    LedgerAccount.objects.filter(pk=accounts[AccountKind.MERCHANT_AVAILABLE].pk).update(balance_fen=11_00)
    report = ledger_check()
    assert not report.ok
    assert "cached balance 1100" in report.problems[0]
    with pytest.raises(CommandError):
        call_command("ledger_check")
    # put it back so the after-test invariant check passes
    LedgerAccount.objects.filter(pk=accounts[AccountKind.MERCHANT_AVAILABLE].pk).update(balance_fen=10_00)


def test_negative_balance_is_refused_by_the_database(accounts):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.filter(pk=accounts[AccountKind.MERCHANT_AVAILABLE].pk).update(balance_fen=-1)
    assert connection.vendor in ("sqlite", "postgresql")
