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

from django.db import IntegrityError, connection, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg import errors as psycopg_errors

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
        raise UnbalancedEntry(_("记账引用（ref）不能为空，且不超过 128 个字符"))
    return text


def _normalise_lines(lines: Iterable[Line], *, kind: str) -> tuple[tuple[int, int], ...]:
    normalised = []
    for line in lines:
        try:
            account, amount = line
        except (TypeError, ValueError):
            raise UnbalancedEntry(_("凭证 {kind} 的分录格式应为 (账户, 金额分)").format(kind=kind)) from None
        if isinstance(amount, bool) or not isinstance(amount, int):
            # Floats and Decimals are refused: money is integer fen everywhere.
            raise UnbalancedEntry(_("凭证 {kind} 的金额必须是整数（分），收到 {type}").format(
                kind=kind, type=type(amount).__name__))
        if amount == 0:
            raise UnbalancedEntry(_("凭证 {kind} 含金额为 0 的分录").format(kind=kind))
        account_id = getattr(account, "pk", account)
        if not isinstance(account_id, int):
            raise UnbalancedEntry(_("凭证 {kind} 的账户无效").format(kind=kind))
        normalised.append((account_id, amount))
    if len(normalised) < 2:
        raise UnbalancedEntry(_("凭证 {kind} 至少需要两条分录").format(kind=kind))
    total = sum(amount for _, amount in normalised)
    if total != 0:
        raise UnbalancedEntry(_("凭证 {kind} 借贷不平：分录合计 {total} 分，应为 0").format(kind=kind, total=total),
                             extra={"sum_fen": total})
    return tuple(normalised)


def _existing_entries(keys: list[tuple[str, str]]) -> dict[tuple[str, str], JournalEntry]:
    """Entries already posted under any of ``keys``; looked up by kind then ref so the (kind, ref) index is used."""
    found: dict[tuple[str, str], JournalEntry] = {}
    refs_by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, ref in keys:
        refs_by_kind[kind].append(ref)
    for kind, refs in refs_by_kind.items():
        if connection.vendor == "postgresql":
            # One array parameter instead of thousands of IN placeholders: an index scan with ``= ANY``.
            with connection.cursor() as cursor:
                cursor.execute("SELECT id FROM ledger_journalentry WHERE kind = %s AND ref = ANY(%s)", [kind, refs])
                ids = [row[0] for row in cursor.fetchall()]
            chunks = [JournalEntry.objects.filter(pk__in=ids)] if ids else []
        else:
            chunks = [JournalEntry.objects.filter(kind=kind, ref__in=refs[start:start + 900])
                      for start in range(0, len(refs), 900)]
        for query in chunks:
            for entry in query.order_by("id"):
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
                _("凭证 {kind} / {ref} 已记账，但本次分录与已记账的不同；同一业务不能记两种账，请核对后以更正凭证处理").format(
                    kind=key[0], ref=key[1]),
                extra={"kind": key[0], "ref": key[1]},
            )


@transaction.atomic
def entries_post(*, entries: Sequence[EntrySpec], now, return_entries: bool = True) -> list[JournalEntry] | int:
    """Post several entries in one transaction, set-based: one lock statement, bulk inserts, one UPDATE per account.

    Entries whose ``(kind, ref)`` already exists with the same lines are skipped and the existing entry is returned
    in their place (a duplicate callback posts once). Entries are applied in the given order; if any would take an
    account that may not overdraw below zero, nothing at all is written.

    Returns the entries in the order given (unsaved-looking instances carrying their ids for the new ones), or
    with ``return_entries=False`` only the number of new entries (cheaper for large batches). On PostgreSQL the
    rows are written with COPY.

    Raises UnbalancedEntry (lines do not sum to zero, fewer than two, a zero or non-integer amount),
    EntryConflict (same kind and ref, different lines), InsufficientBalance.
    """
    if not entries:
        return [] if return_entries else 0
    specs = []
    for spec in entries:
        key = (spec.kind, ref_text(spec.ref))
        specs.append((key, spec, _normalise_lines(spec.lines, kind=spec.kind)))
    keys = [key for key, _, _ in specs]
    if len(set(keys)) != len(keys):
        raise EntryConflict(_("同一次记账中出现了重复的业务引用（kind, ref）"))
    wanted = {key: lines for key, _, lines in specs}

    # Lock first, then look for duplicates: a concurrent duplicate either committed before we got the locks
    # (READ COMMITTED: the next statement sees it) or waits for ours to commit.
    account_ids = sorted({account_id for _, _, lines in specs for account_id, _ in lines})
    accounts = locks.accounts_for_update(account_ids)
    if len(accounts) != len(account_ids):
        missing = sorted(set(account_ids) - set(accounts))
        raise UnbalancedEntry(_("账户不存在：{missing}").format(missing=missing))
    existing = _existing_entries(keys)
    _same_lines_or_conflict(existing, wanted)

    balances = {pk: account.balance_fen for pk, account in accounts.items()}
    signs = {pk: account.sign for pk, account in accounts.items()}
    overdraw = {pk: account.allow_negative for pk, account in accounts.items()}
    owners = {pk: account.merchant_id for pk, account in accounts.items()}
    # Plain tuples, not model instances: a 100,000-line batch posts 300,000 rows.
    new_entries: list[tuple] = []  # (kind, ref, merchant_id, memo)
    new_postings: list[tuple] = []  # (entry index, account_id, amount_fen, balance_after_fen)
    for key, spec, lines in specs:
        if key in existing:
            continue
        index = len(new_entries)
        merchant_ids = set()
        for account_id, amount in lines:
            balance = balances[account_id] + signs[account_id] * amount
            if balance < 0 and not overdraw[account_id]:
                account = accounts[account_id]
                raise InsufficientBalance(
                    _("{account}余额不足：还差 {short} 元，请先充值或减少金额").format(account=account, short=format_yuan(-balance)),
                    extra={"account_id": account_id, "kind": account.kind, "short_fen": -balance},
                )
            balances[account_id] = balance
            if owners[account_id]:
                merchant_ids.add(owners[account_id])
            new_postings.append((index, account_id, amount, balance))
        merchant_id = getattr(spec.merchant, "pk", spec.merchant)
        if merchant_id is None and len(merchant_ids) == 1:
            merchant_id = merchant_ids.pop()
        new_entries.append((key[0], key[1], merchant_id, (spec.memo or "")[:200]))

    if new_entries:
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    entry_ids = _insert_copy(new_entries, new_postings, now=now)
                else:
                    entry_ids = _insert_orm(new_entries, new_postings, now=now)
        except IntegrityError:
            # Only a concurrent writer posting the same (kind, ref) on *other* accounts gets here.
            raise EntryConflict(_("该业务已由另一笔记账处理，请刷新后重试")) from None
        for pk, balance in balances.items():
            if balance != accounts[pk].balance_fen:
                LedgerAccount.objects.filter(pk=pk).update(balance_fen=balance, updated_at=now)
                accounts[pk].balance_fen = balance
    else:
        entry_ids = []

    if not return_entries:
        return len(new_entries)
    created = iter(_saved_entry(pk, kind, ref, merchant_id, memo, now)
                   for pk, (kind, ref, merchant_id, memo) in zip(entry_ids, new_entries, strict=True))
    return [existing[key] if key in existing else next(created) for key, _, _ in specs]


def _saved_entry(pk, kind, ref, merchant_id, memo, now) -> JournalEntry:
    entry = JournalEntry(id=pk, kind=kind, ref=ref, merchant_id=merchant_id, memo=memo, posted_at=now)
    entry._state.adding = False
    entry._state.db = "default"
    return entry


def _insert_orm(entries: list[tuple], postings: list[tuple], *, now) -> list[int]:
    objects = [JournalEntry(kind=kind, ref=ref, merchant_id=merchant_id, memo=memo, posted_at=now)
               for kind, ref, merchant_id, memo in entries]
    JournalEntry.objects.bulk_create(objects, batch_size=2000)
    ids = [entry.pk for entry in objects]
    Posting.objects.bulk_create([Posting(entry_id=ids[index], account_id=account_id, amount_fen=amount,
                                         balance_after_fen=after, posted_at=now)
                                 for index, account_id, amount, after in postings], batch_size=5000)
    return ids


_JOURNAL_FOREIGN_KEYS: list[str] = []
DISCARD_PLANS_FROM = 1000  # postings in one call: re-plan the key checks on the journal as it is now


def _journal_foreign_keys(cursor) -> list[str]:
    """The deferrable foreign keys of entries and postings (Django creates them DEFERRABLE INITIALLY DEFERRED)."""
    if not _JOURNAL_FOREIGN_KEYS:
        cursor.execute("SELECT conname FROM pg_constraint WHERE contype = 'f' AND condeferrable "
                       "AND conrelid IN ('ledger_posting'::regclass, 'ledger_journalentry'::regclass) ORDER BY 1")
        _JOURNAL_FOREIGN_KEYS.extend(row[0] for row in cursor.fetchall())
    return _JOURNAL_FOREIGN_KEYS


def _insert_copy(entries: list[tuple], postings: list[tuple], *, now) -> list[int]:
    """PostgreSQL: reserve the entry ids from their sequence, then COPY entries and postings (the physical floor
    of perf-reliability §2.4; the database's triggers and constraints apply to COPY as to INSERT).

    The journal's foreign keys are checked as each COPY ends (``SET CONSTRAINTS … IMMEDIATE``), not at commit:
    deferred, the ~9,000 checks of a 1,000-order settlement ran inside the COMMIT while the transaction held the
    merchant's ledger accounts, and under concurrent withholding and settlement took ~10× longer there (measured on
    the payout round trip: ~10 s of commits for 10,000 orders against ~1.2 s of checks when immediate). Checking
    sooner is never weaker; the balance rule stays deferred (it needs all of an entry's postings)."""
    written_at = timezone.now()
    with connection.cursor() as cursor:
        if len(postings) >= DISCARD_PLANS_FROM:
            # The foreign-key checks run plans the connection made on first use and keeps: a journal that held a
            # few rows then is still planned as a few rows (a sequential scan of the whole journal per posting)
            # after a first large batch made it tens of thousands, until an ANALYZE happens to invalidate them.
            # Measured on the payout round trip, in the settlement's long-lived connection: a 3,000-posting COPY
            # grew from 0.5 s to 2.5 s over ten rounds, and stayed at ~0.1 s with the plans made afresh.
            cursor.execute("DISCARD PLANS")
        keys = _journal_foreign_keys(cursor)
        if keys:
            cursor.execute("SET CONSTRAINTS " + ", ".join(connection.ops.quote_name(k) for k in keys) + " IMMEDIATE")
        cursor.execute("SELECT nextval(pg_get_serial_sequence('ledger_journalentry', 'id')) "
                       "FROM generate_series(1, %s)", [len(entries)])
        ids = [row[0] for row in cursor.fetchall()]
        raw = cursor.cursor
        try:
            with raw.copy("COPY ledger_journalentry (id, kind, ref, merchant_id, memo, posted_at, created_at) "
                          "FROM STDIN") as copy:
                for pk, (kind, ref, merchant_id, memo) in zip(ids, entries, strict=True):
                    copy.write_row((pk, kind, ref, merchant_id, memo, now, written_at))
            with raw.copy("COPY ledger_posting (entry_id, account_id, amount_fen, balance_after_fen, posted_at) "
                          "FROM STDIN") as copy:
                for index, account_id, amount, after in postings:
                    copy.write_row((ids[index], account_id, amount, after, now))
        except psycopg_errors.IntegrityError as error:
            raise IntegrityError(str(error)) from error
    return ids


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
