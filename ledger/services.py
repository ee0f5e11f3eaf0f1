"""Writes of the ledger (账务). The only way money moves on the platform.

Sign convention (see ``ledger.models``): a line's ``amount_fen`` is signed, **positive = debit, negative =
credit**, and the lines of an entry sum to zero. A merchant's available balance is a credit-normal account, so
crediting it (``-X``) raises its balance by X; the custody bank is debit-normal, so debiting it (``+X``) raises it.
The helpers ``merchant_funds_freeze`` / ``merchant_funds_release`` spell the common movements out.

Locking: every posting locks the accounts it touches with ``SELECT … FOR UPDATE`` **in ascending primary-key
order, in one statement** (``ledger.locks.accounts_for_update``). Callers that lock their own rows first
(merchant → batch → order) take the ledger accounts last, so the global order is merchant → batch → order →
ledger account, each by pk, and two postings between the same accounts in opposite directions cannot deadlock.

``entry_post`` is not ``durable``: it is an internal step of larger use cases (confirm a payment, credit a top-up)
and joins their transaction. It writes no audit record of its own: the journal is itself the append-only record,
and the use case that posts audits the business event.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.dispatch import Signal

from core import audit
from core.money import format_yuan
from ledger import locks
from ledger.exceptions import EntryConflict, InsufficientBalance, UnbalancedEntry
from ledger.models import (
    ACCOUNT_RULES,
    MERCHANT_KINDS,
    AccountKind,
    Channel,
    JournalEntry,
    LedgerAccount,
    Posting,
)

# Sent inside the transaction of ``merchant_accounts_open`` (with merchant=, now=, created=bool), so apps that
# build on the ledger (payouts: the virtual top-up account) open their part in the same transaction.
merchant_accounts_opened = Signal()

Line = tuple  # (LedgerAccount | account pk, amount_fen: int)


@dataclass(frozen=True)
class EntrySpec:
    """One entry to post: ``lines`` is ``[(account or pk, amount_fen), ...]``, positive = debit."""

    kind: str
    ref: object
    lines: Sequence[Line]
    memo: str = ""
    merchant: object = None
    _normalised: tuple = field(default=(), compare=False, repr=False)


def ref_text(ref) -> str:
    """A stable text for what caused an entry: a string as is, a model instance as ``app_label.model:pk``."""
    if isinstance(ref, str):
        text = ref
    elif hasattr(ref, "_meta") and getattr(ref, "pk", None) is not None:
        text = f"{ref._meta.label_lower}:{ref.pk}"
    else:
        raise TypeError("ref must be a string or a saved model instance")
    if not text or len(text) > 128:
        raise UnbalancedEntry("记账引用（ref）不能为空，且不超过 128 个字符")
    return text


def _normalise_lines(lines: Iterable[Line], *, kind: str) -> tuple[tuple[int, int], ...]:
    normalised = []
    for line in lines:
        try:
            account, amount = line
        except (TypeError, ValueError):
            raise UnbalancedEntry(f"凭证 {kind} 的分录格式应为 (账户, 金额分)") from None
        if isinstance(amount, bool) or not isinstance(amount, int):
            # Floats and Decimals are refused: money is integer fen everywhere.
            raise UnbalancedEntry(f"凭证 {kind} 的金额必须是整数（分），收到 {type(amount).__name__}")
        if amount == 0:
            raise UnbalancedEntry(f"凭证 {kind} 含金额为 0 的分录")
        account_id = getattr(account, "pk", account)
        if not isinstance(account_id, int):
            raise UnbalancedEntry(f"凭证 {kind} 的账户无效")
        normalised.append((account_id, amount))
    if len(normalised) < 2:
        raise UnbalancedEntry(f"凭证 {kind} 至少需要两条分录")
    total = sum(amount for _, amount in normalised)
    if total != 0:
        raise UnbalancedEntry(f"凭证 {kind} 借贷不平：分录合计 {total} 分，应为 0", extra={"sum_fen": total})
    return tuple(normalised)


def _existing_entries(keys: list[tuple[str, str]]) -> dict[tuple[str, str], JournalEntry]:
    found: dict[tuple[str, str], JournalEntry] = {}
    wanted = set(keys)
    refs = sorted({ref for _, ref in keys})
    for start in range(0, len(refs), 900):
        chunk = refs[start:start + 900]
        for entry in JournalEntry.objects.filter(ref__in=chunk).order_by("id"):
            if (entry.kind, entry.ref) in wanted:
                found[(entry.kind, entry.ref)] = entry
    return found


def _same_lines_or_conflict(entries: dict[tuple[str, str], JournalEntry],
                            wanted: dict[tuple[str, str], tuple[tuple[int, int], ...]]) -> None:
    if not entries:
        return
    by_id = {entry.pk: key for key, entry in entries.items()}
    have: dict[tuple[str, str], Counter] = defaultdict(Counter)
    ids = list(by_id)
    for start in range(0, len(ids), 900):
        rows = Posting.objects.filter(entry_id__in=ids[start:start + 900]).values_list("entry_id", "account_id",
                                                                                        "amount_fen")
        for entry_id, account_id, amount in rows:
            have[by_id[entry_id]][(account_id, amount)] += 1
    for key in entries:
        if have[key] != Counter(wanted[key]):
            raise EntryConflict(
                f"凭证 {key[0]} / {key[1]} 已记账，但本次分录与已记账的不同；同一业务不能记两种账，请核对后以更正凭证处理",
                extra={"kind": key[0], "ref": key[1]},
            )


@transaction.atomic
def entries_post(*, entries: Sequence[EntrySpec], now) -> list[JournalEntry]:
    """Post several entries in one transaction, set-based: one lock statement, bulk inserts, one UPDATE per account.

    Entries whose ``(kind, ref)`` already exists with the same lines are skipped and the existing entry is returned
    in their place (a duplicate callback posts once). Entries are applied in the given order; if any would take an
    account that may not overdraw below zero, nothing at all is written.

    Raises UnbalancedEntry (lines do not sum to zero, fewer than two, a zero or non-integer amount),
    EntryConflict (same kind and ref, different lines), InsufficientBalance.
    """
    if not entries:
        return []
    specs = []
    for spec in entries:
        key = (spec.kind, ref_text(spec.ref))
        specs.append((key, spec, _normalise_lines(spec.lines, kind=spec.kind)))
    keys = [key for key, _, _ in specs]
    if len(set(keys)) != len(keys):
        raise EntryConflict("同一次记账中出现了重复的业务引用（kind, ref）")
    wanted = {key: lines for key, _, lines in specs}

    # Lock first, then look for duplicates: a concurrent duplicate either committed before we got the locks
    # (READ COMMITTED: the next statement sees it) or waits for ours to commit.
    account_ids = sorted({account_id for _, _, lines in specs for account_id, _ in lines})
    accounts = locks.accounts_for_update(account_ids)
    if len(accounts) != len(account_ids):
        missing = sorted(set(account_ids) - set(accounts))
        raise UnbalancedEntry(f"账户不存在：{missing}")
    existing = _existing_entries(keys)
    _same_lines_or_conflict(existing, wanted)

    balances = {pk: account.balance_fen for pk, account in accounts.items()}
    new_entries: list[JournalEntry] = []
    new_postings: list[Posting] = []
    for key, spec, lines in specs:
        if key in existing:
            continue
        entry = JournalEntry(kind=key[0], ref=key[1], memo=(spec.memo or "")[:200], posted_at=now,
                             merchant_id=getattr(spec.merchant, "pk", spec.merchant))
        merchant_ids = set()
        for account_id, amount in lines:
            account = accounts[account_id]
            balances[account_id] += account.sign * amount
            if balances[account_id] < 0 and not account.allow_negative:
                short = -balances[account_id]
                raise InsufficientBalance(
                    f"{account}余额不足：还差 {format_yuan(short)} 元，请先充值或减少金额",
                    extra={"account_id": account_id, "kind": account.kind, "short_fen": short},
                )
            if account.merchant_id:
                merchant_ids.add(account.merchant_id)
            new_postings.append(Posting(entry=entry, account_id=account_id, amount_fen=amount,
                                        balance_after_fen=balances[account_id], posted_at=now))
        if entry.merchant_id is None and len(merchant_ids) == 1:
            entry.merchant_id = merchant_ids.pop()
        new_entries.append(entry)

    if new_entries:
        try:
            with transaction.atomic():
                JournalEntry.objects.bulk_create(new_entries, batch_size=2000)
        except IntegrityError:
            # Only a concurrent writer posting the same (kind, ref) on *other* accounts gets here.
            raise EntryConflict("该业务已由另一笔记账处理，请刷新后重试") from None
        for posting in new_postings:
            posting.entry_id = posting.entry.pk
        Posting.objects.bulk_create(new_postings, batch_size=5000)
        for pk, balance in balances.items():
            if balance != accounts[pk].balance_fen:
                LedgerAccount.objects.filter(pk=pk).update(balance_fen=balance, updated_at=now)
                accounts[pk].balance_fen = balance

    created = iter(new_entries)
    return [existing[key] if key in existing else next(created) for key, _, _ in specs]


def entry_post(*, kind: str, ref, lines: Sequence[Line], memo: str = "", now, merchant=None) -> JournalEntry:
    """Post one balanced entry (记账). ``lines`` = ``[(account or pk, amount_fen), ...]``, positive = debit.

    Idempotent by ``(kind, ref)``: posting the same event again returns the first entry and changes nothing.
    Locks the accounts in ascending pk order, updates their cached balances, and refuses to take an account that
    may not overdraw below zero.

    Raises UnbalancedEntry, EntryConflict, InsufficientBalance.
    """
    return entries_post(entries=[EntrySpec(kind=kind, ref=ref, lines=lines, memo=memo, merchant=merchant)],
                        now=now)[0]


@transaction.atomic
def platform_account(*, kind: str, channel: str = "", now) -> LedgerAccount:
    """The platform's account of ``kind`` (for CHANNEL_CLEARING, of ``channel``), opened on first use."""
    if kind in MERCHANT_KINDS:
        raise ValueError(f"{kind} is a merchant account; use merchant_accounts_open")
    if (kind == AccountKind.CHANNEL_CLEARING) != bool(channel):
        raise ValueError("channel is required for CHANNEL_CLEARING and only for it")
    if channel and channel not in Channel.values:
        raise ValueError(f"unknown channel {channel!r}")
    side, allow_negative = ACCOUNT_RULES[kind]
    account, _ = LedgerAccount.objects.get_or_create(
        kind=kind, merchant=None, channel=channel, currency="CNY",
        defaults={"normal_side": side, "allow_negative": allow_negative, "created_at": now, "updated_at": now},
    )
    return account


@transaction.atomic
def merchant_accounts_open(*, merchant, now, actor=None) -> dict[str, LedgerAccount]:
    """Open the merchant's accounts (available, frozen, worker payable). Idempotent: returns them by kind.

    Sends ``merchant_accounts_opened`` inside the transaction (payouts opens the virtual top-up account on it).
    """
    accounts: dict[str, LedgerAccount] = {}
    created_any = False
    for kind in MERCHANT_KINDS:
        side, allow_negative = ACCOUNT_RULES[kind]
        account, created = LedgerAccount.objects.get_or_create(
            kind=kind, merchant=merchant, channel="", currency="CNY",
            defaults={"normal_side": side, "allow_negative": allow_negative, "created_at": now, "updated_at": now},
        )
        accounts[kind] = account
        created_any = created_any or created
    if created_any:
        audit.record(event="ledger.accounts.opened", now=now, actor=actor, merchant=merchant,
                     subject_type="merchants.merchant", subject_id=merchant.pk,
                     after={"kinds": list(accounts)})
    merchant_accounts_opened.send(sender=LedgerAccount, merchant=merchant, now=now, created=created_any)
    return accounts


def _merchant_account(merchant, kind: str) -> LedgerAccount:
    from ledger.selectors import merchant_account

    return merchant_account(merchant=merchant, kind=kind)


def merchant_funds_freeze(*, merchant, amount_fen: int, kind: str, ref, now, memo: str = "") -> JournalEntry:
    """Move ``amount_fen`` from the merchant's available balance to frozen (冻结). Idempotent by (kind, ref).

    Raises InsufficientBalance when the available balance does not cover it, AccountNotOpen.
    """
    available = _merchant_account(merchant, AccountKind.MERCHANT_AVAILABLE)
    frozen = _merchant_account(merchant, AccountKind.MERCHANT_FROZEN)
    return entry_post(kind=kind, ref=ref, lines=[(available, amount_fen), (frozen, -amount_fen)],
                      memo=memo or "冻结资金", now=now, merchant=merchant)


def merchant_funds_release(*, merchant, amount_fen: int, kind: str, ref, now, memo: str = "") -> JournalEntry:
    """Move ``amount_fen`` from frozen back to available (解冻). Idempotent by (kind, ref)."""
    available = _merchant_account(merchant, AccountKind.MERCHANT_AVAILABLE)
    frozen = _merchant_account(merchant, AccountKind.MERCHANT_FROZEN)
    return entry_post(kind=kind, ref=ref, lines=[(frozen, amount_fen), (available, -amount_fen)],
                      memo=memo or "解冻资金", now=now, merchant=merchant)
