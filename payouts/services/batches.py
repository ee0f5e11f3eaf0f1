"""批量付款: upload a CSV/XLSX, check every line against the database, quote, confirm, dispatch.

Set-based throughout (100,000 lines quote in seconds): the file is read once, workers, relationships, payout
accounts and accepted work are fetched with ``IN`` queries of 5,000, the tax engine reads every worker's state in
grouped queries, orders are written with ``bulk_create``, and confirmation posts ONE freeze entry for the batch.
Progress (stage, lines checked) is written in its own small commits so the portal can poll it.

Nothing of a batch is paid until all its lines are valid, or the bad ones have been removed by the user.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import secrets
import zlib
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Count, F, Sum, Value
from django.utils import timezone, translation
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from core import audit
from core.dbstats import analyze_if_grown
from core.jobs import enqueue_on_commit
from core.pii import blind_index, mask_name
from ledger.locks import accounts_for_update
from ledger.models import AccountKind
from ledger.selectors import merchant_account
from ledger.services import EntrySpec, entries_post
from members.models import Member, MemberMerchant, PayoutAccount
from merchants.selectors import merchant_configuration
from payouts.batch_file import (
    COLUMN_LABELS,
    BatchFileError,
    RawBatch,
    Text,
    check_batch_rows,
    line_error_record,
    line_errors_shown,
    parse_batch_file,
    read_batch_rows,
)
from payouts.exceptions_orders import BatchHasErrors, BatchNotFound, BatchStateInvalid, SecondApprovalRequired
from payouts.models import PayoutBatch, PayoutOrder
from payouts.services import pricing
from payouts.services.orders import CHANNEL_LABEL, FREEZE_KIND, check_channel, new_key, verify_payment_sms
from payouts.services.settlement import withheld_refs
from payouts.services.sql import copy_insert, new_rows, update_rows
from risk.payments import PaymentToCheck, check_payments, daily_limit_reason
from risk.services import REJECT, RiskDecision
from tasks.bulk import payable_work_release_many, payable_work_reserve_many
from tasks.models import PayableWork
from tax.bulk import PaymentItem, tax_withhold_many
from tax.models import TaxAccount, Withholding

logger = logging.getLogger(__name__)

CHUNK = 5000
PARALLEL_MIN_LINES = 20000  # below this a batch is checked in one process
MAX_STORED_ERRORS = 5000
ANALYZE_AFTER_LINES = 10000
FREEZE_ADJUST_KIND = "payout.freeze_adjust"
DISPATCH_CHUNK = 1000  # one background job per 1,000 lines at most


def new_batch_no(now) -> str:
    return f"B{timezone.localtime(now):%y%m%d}{secrets.token_hex(4).upper()}"


def _progress(batch_id: int, **fields) -> None:
    """Write progress in its own commit (the portal polls it while the check runs)."""
    PayoutBatch.objects.filter(pk=batch_id).update(**fields)


@transaction.atomic
def payout_batch_upload(*, merchant, actor, content: bytes, filename: str, channel: str, title: str = "",
                        now) -> PayoutBatch:
    """Store the file and start checking it in the background. Raises ChannelNotEnabled."""
    config = merchant_configuration(merchant=merchant)
    channel = check_channel(config, channel)
    batch = PayoutBatch(merchant=merchant, batch_no=new_batch_no(now), title=(title or filename)[:100],
                        filename=filename[:200], file_sha256=hashlib.sha256(content).hexdigest(), channel=channel,
                        created_by=actor, stage="uploaded")
    batch.file.save(f"{batch.batch_no}{'.xlsx' if filename.lower().endswith('.xlsx') else '.csv'}",
                    ContentFile(content), save=False)
    batch.save()
    audit.record(event="payouts.batch.uploaded", now=now, actor=actor, subject=batch,
                 after={"batch_no": batch.batch_no, "filename": filename, "sha256": batch.file_sha256,
                        "channel": channel})
    from payouts.jobs_orders import payout_batch_check_job

    enqueue_on_commit(payout_batch_check_job, batch_id=batch.pk)
    return batch


def _error(errors: list, line: int, column: Text, message: Text) -> None:
    """Record a bad line; column and message are lazy texts, rendered in every language when the batch stores them
    (``payouts.batch_file.line_error_record``): the check runs in a job, and the reader's language is not known."""
    errors.append({"line": line, "column": column, "message": message})


def payout_batch_check(*, batch_id: int, now) -> PayoutBatch:
    """Check and quote an uploaded batch (the job's body). Every bad line is recorded with its line number, column
    and reason; valid lines become priced orders (待确认) holding their accepted work. Re-running it after a crash
    starts over (the orders of an unconfirmed batch hold no money)."""
    batch = PayoutBatch.objects.select_related("merchant").get(pk=batch_id)
    if batch.status != PayoutBatch.Status.CHECKING:
        return batch
    merchant = batch.merchant
    config = merchant_configuration(merchant=merchant)
    with transaction.atomic():  # a previous run that died: start over
        stale = list(PayoutOrder.objects.filter(batch=batch, status=PayoutOrder.Status.DRAFT)
                     .exclude(payable=None).values_list("payable_id", flat=True))
        if stale:
            payable_work_release_many(merchant=merchant, payable_ids=stale, ref=batch.batch_no, now=now)
        PayoutOrder.objects.filter(batch=batch, status=PayoutOrder.Status.DRAFT).delete()
    _progress(batch.pk, stage="parsing", checked_lines=0)
    with batch.file.open("rb") as handle:
        content = handle.read()
    try:
        raw = read_batch_rows(content, filename=batch.filename or batch.file.name)
    except BatchFileError:  # the file as a whole cannot be read: the batch is invalid, with the reason
        return _file_rejected(batch_id=batch.pk, content=content, filename=batch.filename or batch.file.name,
                              now=now)
    del content
    line_count = len(raw.rows)
    _progress(batch.pk, stage="checking", line_count=line_count, checked_lines=0)

    # Lines are checked, priced and written 5,000 at a time, so memory stays flat in the size of the batch;
    # what must hold across the whole batch is carried: work already used, order numbers seen, each worker's tax
    # state and month total, the enterprise's day total. A large batch on PostgreSQL is split by worker over
    # several processes (``_check_in_processes``): everything carried is per worker except the day total, which is
    # then applied once over the whole batch in line order (``_daily_limit_pass``).
    liability_date = timezone.localdate(now)
    volume = pricing.month_volume_before_fen(merchant=merchant, now=now)
    day_before = pricing.day_paid_fen(merchant=merchant, now=now)
    processes = _check_processes(line_count)
    if processes > 1:
        parts = _partitions(raw, processes)
        raw.rows = []
        records, error_lines, batch_gross = _check_in_processes(batch=batch, merchant=merchant, config=config, raw=raw,
                                                   parts=parts, liability_date=liability_date, volume=volume, now=now)
        del parts
        errors: list = []
        _daily_limit_pass(batch=batch, merchant=merchant, config=config, day_before=day_before,
                          batch_gross=batch_gross, errors=errors, now=now)
        error_lines |= {e["line"] for e in errors}
        records += [line_error_record(e) for e in _first_errors(errors)]
        records.sort(key=lambda r: (r["line"], r["column"]))
    else:
        rows, raw.rows = raw.rows, []
        errors = _check_part(batch=batch, merchant=merchant, config=config, raw=raw, rows=rows, now=now,
                             carry=_Carry(liability_date=liability_date, volume=volume, day_fen=day_before))
        records = [line_error_record(e) for e in _first_errors(errors)]
        error_lines = {e["line"] for e in errors}
    if line_count >= ANALYZE_AFTER_LINES and connection.vendor == "postgresql":
        # tens of thousands of new orders: refresh the planner's statistics now rather than when autovacuum gets
        # to it, so the confirmation and the dispatch jobs' queries are planned on the table as it is
        with connection.cursor() as cursor:
            # the columns the dispatch's and the queries' plans filter on (the text and JSON columns would cost most)
            cursor.execute(f"ANALYZE {PayoutOrder._meta.db_table} (status, batch_id, merchant_id, member_id, "
                           f"channel_status, next_query_at, withheld_at)")
            # the work the batch holds changed status: on the old statistics (few RESERVED) the settlement's
            # "these ids, RESERVED" was planned on the (merchant, status) index and read all of the batch's work
            # per 1,000 orders, instead of the 1,000 rows by primary key
            cursor.execute(f"ANALYZE {PayableWork._meta.db_table} (merchant_id, status)")

    with transaction.atomic():
        batch = PayoutBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status != PayoutBatch.Status.CHECKING:  # cancelled while being checked: let go of the work
            held = list(PayoutOrder.objects.filter(batch=batch, status=PayoutOrder.Status.DRAFT)
                        .exclude(payable=None).values_list("payable_id", flat=True))
            if held:
                payable_work_release_many(merchant=merchant, payable_ids=held, ref=batch.batch_no, now=now)
            PayoutOrder.objects.filter(batch=batch, status=PayoutOrder.Status.DRAFT).update(
                status=PayoutOrder.Status.CANCELLED, finished_at=now, updated_at=now)
            return batch
        _totals(batch)
        batch.line_count = line_count
        batch.checked_lines = line_count
        batch.error_count = len(error_lines)
        batch.errors = records[:MAX_STORED_ERRORS]
        if error_lines:
            batch.mark_invalid()
        else:
            batch.mark_quoted(at=now)
        batch.save()
        audit.record(event="payouts.batch.checked", now=now, subject=batch,
                     after={"batch_no": batch.batch_no, "orders": batch.order_count, "errors": batch.error_count,
                            "freeze_fen": batch.freeze_fen})
    return batch


class _FileReason:
    """The reason a file was refused, in the active language (the reader re-runs in each language to say it)."""

    def __init__(self, content: bytes, filename: str):
        self.content, self.filename = content, filename

    def __str__(self) -> str:
        try:
            parse_batch_file(self.content, filename=self.filename)
        except BatchFileError as error:
            return error.message
        return ""


def _file_rejected(*, batch_id: int, content: bytes, filename: str, now) -> PayoutBatch:
    with transaction.atomic():
        batch = PayoutBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status != PayoutBatch.Status.CHECKING:
            return batch
        batch.errors = [line_error_record({"line": 1, "column": gettext_lazy("文件"),
                                           "message": _FileReason(content, filename)})]
        batch.error_count = 1
        batch.mark_invalid()
        batch.save()
        audit.record(event="payouts.batch.checked", now=now, subject=batch,
                     after={"batch_no": batch.batch_no, "orders": 0, "errors": 1,
                            "file_refused": batch.errors[0]["message"]})
    return batch


def _first_errors(errors: list) -> list:
    """The first ``MAX_STORED_ERRORS`` bad lines' errors in line order (the ones a batch stores, rendered)."""
    with translation.override(settings.LANGUAGE_CODE):  # the same order whatever language the worker runs in
        errors.sort(key=lambda e: (e["line"], str(e["column"])))
    return errors[:MAX_STORED_ERRORS]


def _check_lines(*, batch, merchant, config, lines, errors: list, carry: _Carry, now) -> None:
    """Check, price and write ``lines`` a chunk at a time; progress is added to the batch's count (several
    processes may be checking parts of it)."""
    # how many lines each worker still has to come, so a worker's tax state is dropped after their last line
    carry.remaining = defaultdict(int)
    for line in lines:
        carry.remaining[line.id_number] += 1
    while lines:
        chunk, lines[:CHUNK] = lines[:CHUNK], []  # processed lines are let go of as the check moves on
        _check_chunk(batch=batch, merchant=merchant, config=config, lines=chunk, errors=errors, carry=carry, now=now)
        PayoutBatch.objects.filter(pk=batch.pk).update(checked_lines=F("checked_lines") + len(chunk))
        del chunk


def _check_processes(line_count: int) -> int:
    """How many processes check a batch: one, unless it is large, on PostgreSQL, and outside any transaction (the
    other processes must see what this one has committed, and it theirs)."""
    wanted = getattr(settings, "PAYOUTS_CHECK_PROCESSES", None) or min(os.cpu_count() or 1, 4)
    if (wanted <= 1 or line_count < getattr(settings, "PAYOUTS_CHECK_PARALLEL_MIN_LINES", PARALLEL_MIN_LINES)
            or connection.vendor != "postgresql" or connection.in_atomic_block or not hasattr(os, "fork")):
        return 1
    return wanted


def _partitions(raw: RawBatch, count: int) -> list[list]:
    """The file's rows split by worker (the ID number as typed), each part in file order: all of a worker's lines
    land in one part, so the worker's tax state, month total and accepted work are carried as in one pass."""
    parts: list[list] = [[] for _ in range(count)]
    for row in raw.rows:
        parts[zlib.crc32(raw.id_text(row[1]).encode()) % count].append(row)
    return parts


def _check_part(*, batch, merchant, config, raw: RawBatch, rows: list, carry: _Carry, now) -> list:
    """Check ``rows`` (all of a batch's, or one process's part: format, then against the database) and write their
    orders. Returns the bad lines."""
    parsed = check_batch_rows(raw, rows)
    rows.clear()
    errors, lines = [e.as_dict() for e in parsed.errors], parsed.lines
    del parsed
    _check_lines(batch=batch, merchant=merchant, config=config, lines=lines, errors=errors, now=now, carry=carry)
    return errors


def _part_carry(liability_date, volume) -> _Carry:
    """A process's carry: the daily limit left to ``_daily_limit_pass``, so what passed (``day_fen``) is the gross
    of what the part wrote."""
    return _Carry(liability_date=liability_date, volume=volume, day_fen=0, daily_limit=False)


def _check_in_processes(*, batch, merchant, config, raw, parts, liability_date, volume, now
                        ) -> tuple[list, set, int]:
    """Check ``parts[1:]`` in forked processes and ``parts[0]`` here, at the same time. Each part writes its own
    orders; the enterprise's daily limit is left to ``_daily_limit_pass``. Returns the first bad lines' error
    records of the other parts, every bad line number and the gross of every order written; raises if a process failed (the job is retried and
    starts over, as after any crash)."""
    from django.db import connections

    connections.close_all()  # each process opens its own connection; none may share this one's socket
    children = []
    for part in parts[1:]:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: check its part, send back its bad lines, leave without the parent's exit code
            status = 1
            try:
                os.close(read)
                carry = _part_carry(liability_date, volume)
                errors = _check_part(batch=batch, merchant=merchant, config=config, raw=raw, rows=part, carry=carry,
                                     now=now)
                gross = carry.day_fen
                lines_bad = {e["line"] for e in errors}
                payload = pickle.dumps(([line_error_record(e) for e in _first_errors(errors)], lines_bad, gross))
                with os.fdopen(write, "wb") as out:
                    out.write(payload)
                status = 0
            except BaseException:
                logger.exception("batch %s: a check process failed", batch.pk)
            finally:
                connections.close_all()
                os._exit(status)
        os.close(write)
        children.append((pid, read))
    failed = None
    errors_here: list = []
    total = 0
    try:
        carry = _part_carry(liability_date, volume)
        errors_here = _check_part(batch=batch, merchant=merchant, config=config, raw=raw, rows=parts[0],
                                  carry=carry, now=now)
        total = carry.day_fen
    except BaseException as error:
        failed = error
    records, bad = [line_error_record(e) for e in _first_errors(errors_here)], {e["line"] for e in errors_here}
    for pid, read in children:  # read before waiting: a child blocks on a full pipe until it is read
        with os.fdopen(read, "rb") as handle:
            payload = handle.read()
        _pid, status = os.waitpid(pid, 0)
        if status == 0 and payload:
            child_records, child_bad, gross = pickle.loads(payload)  # noqa: S301 - our own child's, over a pipe
            records += child_records
            bad |= child_bad
            total += gross
        elif failed is None:
            failed = RuntimeError(f"batch {batch.pk}: a check process exited with status {status}")
    if failed is not None:
        raise failed
    return records, bad, total


def _daily_limit_pass(*, batch, merchant, config, day_before: int, batch_gross: int, errors: list, now) -> None:
    """The enterprise's daily limit over a batch checked in parts: taken in line order, as one pass would, each
    order that would take the day over the limit is dropped (its work released) and reported on its line."""
    if day_before + batch_gross <= config.daily_limit_fen:
        return  # the whole batch fits: the usual case
    rows = list(PayoutOrder.objects.filter(batch=batch, status=PayoutOrder.Status.DRAFT).order_by("line_no")
                .values_list("id", "line_no", "gross_fen", "payable_id"))
    day, over = day_before, []
    for pk, line_no, gross, payable_id in rows:
        if day + gross > config.daily_limit_fen:
            decision = RiskDecision()
            decision.add(REJECT, "daily_limit", daily_limit_reason(config=config, day_fen=day))
            _error(errors, line_no, gettext_lazy("风控"), lazy(decision.summary, str)())
            over.append((pk, payable_id))
        else:
            day += gross
    with transaction.atomic():
        PayoutOrder.objects.filter(pk__any=[pk for pk, _payable in over]).delete()
        held = [payable for _pk, payable in over if payable]
        if held:
            payable_work_release_many(merchant=merchant, payable_ids=held, ref=batch.batch_no, now=now)


@dataclass
class _Carry:
    liability_date: object
    volume: int
    day_fen: int
    daily_limit: bool = True  # False: the caller applies the enterprise's daily limit over the whole batch
    used_payables: set = field(default_factory=set)
    seen_nos: set = field(default_factory=set)
    tax_states: dict = field(default_factory=dict)
    month_paid: dict = field(default_factory=dict)
    remaining: dict = field(default_factory=dict)


class _Payee:
    """The member fields a batch line is checked and priced with (the name decrypted): a model instance per line
    would cost more than the rest of the line's check."""

    __slots__ = ("pk", "id", "name", "id_number_index", "verification_status", "is_individual_business")

    def __init__(self, pk, name, id_number_index, verification_status, is_individual_business):
        self.pk = self.id = pk
        self.name, self.id_number_index = name, id_number_index
        self.verification_status, self.is_individual_business = verification_status, is_individual_business

    @property
    def is_verified(self) -> bool:
        return self.verification_status == Member.Verification.VERIFIED


def _check_chunk(*, batch, merchant, config, lines, errors: list, carry: _Carry, now) -> None:
    """Check, price and write one chunk of lines (its orders and the hold on their work commit together)."""
    # (``__any`` is given sets: Django leaves a set alone, where it would walk a list value by value)
    id_index = {line.line: blind_index(line.id_number, purpose="id_number") for line in lines}
    members: dict[str, _Payee] = {
        row[2]: _Payee(*row) for row in Member.objects.filter(id_number_index__any=set(id_index.values()))
        .values_list(*_Payee.__slots__[1:])}
    member_ids = sorted({m.pk for m in members.values()})
    member_set = set(member_ids)
    relationships = dict(MemberMerchant.objects.for_tenant(merchant).filter(
        member_id__any=member_set, status__in=[MemberMerchant.Status.SIGNED, MemberMerchant.Status.TERMINATED])
        .values_list("member_id", "status"))
    signed = {m for m, status in relationships.items() if status == MemberMerchant.Status.SIGNED}
    accounts = {(a[1], a[2]): a for a in PayoutAccount.objects.filter(
        member_id__any=member_set, kind=batch.channel, status=PayoutAccount.Status.ACTIVE).values_list(
        "id", "member_id", "account_index", "account_masked")}
    task_refs = {int(line.task_ref) for line in lines if line.task_ref.strip().isdigit()}
    fields = ("id", "member_id", "task_id", "amount_fen", "status")
    payables_by_id = {row[0]: row for row in PayableWork.objects.for_tenant(merchant).filter(pk__any=task_refs)
                      .values_list(*fields)}
    # a reference that is not this worker's payable item is read as a task number (the worker's work under it)
    by_task = set()
    for line in lines:
        member = members.get(id_index[line.line])
        if member is not None and line.task_ref.strip().isdigit():
            payable = payables_by_id.get(int(line.task_ref))
            if payable is None or payable[1] != member.pk:
                by_task.add(int(line.task_ref))
    payables_by_task: dict[tuple[int, int], list] = defaultdict(list)
    if by_task:
        for row in (PayableWork.objects.for_tenant(merchant).filter(task_id__any=by_task, member_id__any=member_set,
                                                                    status=PayableWork.Status.READY)
                    .order_by("accepted_at", "id").values_list(*fields)):
            payables_by_task[(row[2], row[1])].append(row)
    given_nos = [line.merchant_order_no for line in lines if line.merchant_order_no]
    taken_nos = set(PayoutOrder.objects.for_tenant(merchant).filter(merchant_order_no__any=given_nos)
                    .values_list("merchant_order_no", flat=True)) if given_nos else set()

    id_label, account_label, task_label = (COLUMN_LABELS["id_number"], COLUMN_LABELS["account"],
                                           COLUMN_LABELS["task_ref"])
    candidates = []  # (line, member, account row, payable_id)
    for line in lines:
        member = members.get(id_index[line.line])
        if member is None:
            _error(errors, line.line, id_label, gettext_lazy("平台上没有该身份证号的灵工人员；请先邀请其注册并完成实名认证"))
            continue
        if member.name != line.name.strip():
            _error(errors, line.line, COLUMN_LABELS["name"], gettext_lazy("姓名与该身份证号的实名信息不一致，请核对"))
            continue
        if not member.is_verified:
            _error(errors, line.line, id_label, gettext_lazy("该灵工人员尚未完成实名认证"))
            continue
        if member.pk not in signed:
            text = (gettext_lazy("该灵工人员已与“{merchant}”解约，不能再向其付款") if member.pk in relationships
                    else gettext_lazy("该灵工人员尚未与“{merchant}”签署合作协议"))
            _error(errors, line.line, id_label, format_lazy(text, merchant=merchant.name))
            continue
        account = accounts.get((member.pk, blind_index(line.account, purpose="payout_account")))
        if account is None:
            _error(errors, line.line, account_label, format_lazy(
                gettext_lazy("该账号不是此人已绑定的{channel}收款账户；请核对账号或让其先在“收款账户”中添加"),
                channel=CHANNEL_LABEL[batch.channel]))
            continue
        ref = line.task_ref.strip()
        if not ref.isdigit():
            _error(errors, line.line, task_label, gettext_lazy("请填写已验收工作对应的任务编号（每笔付款必须对应已验收的工作）"))
            continue
        payable = payables_by_id.get(int(ref))
        if payable is None or payable[1] != member.pk:
            options = [p for p in payables_by_task.get((int(ref), member.pk), []) if p[0] not in carry.used_payables]
            payable = options[0] if options else None
        if payable is None:
            _error(errors, line.line, task_label, gettext_lazy("没有找到此人在该任务下已验收、待付款的工作"))
            continue
        if payable[4] != PayableWork.Status.READY or payable[0] in carry.used_payables:
            _error(errors, line.line, task_label, gettext_lazy("该工作已在其他付款中或已付款，不能重复付款"))
            continue
        if line.amount_fen > payable[3]:
            _error(errors, line.line, COLUMN_LABELS["amount"], format_lazy(
                gettext_lazy("金额超过该工作的验收金额 {amount} 元"), amount=f"{payable[3] / 100:.2f}"))
            continue
        if line.merchant_order_no:
            if line.merchant_order_no in taken_nos or line.merchant_order_no in carry.seen_nos:
                _error(errors, line.line, COLUMN_LABELS["merchant_order_no"],
                       gettext_lazy("企业订单号已使用过，每笔付款需唯一"))
                continue
            carry.seen_nos.add(line.merchant_order_no)
        carry.used_payables.add(payable[0])
        candidates.append((line, member, account, payable[0]))

    priced_all = pricing.price_lines(config=config, lines=[(c[1], c[0].amount_fen) for c in candidates],
                                     liability_date=carry.liability_date, now=now, month_volume_before=carry.volume,
                                     states=carry.tax_states)
    new_members = [m for m in member_ids if m not in carry.month_paid]
    carry.month_paid.update({m: 0 for m in new_members})
    carry.month_paid.update(pricing.worker_month_paid(merchant=merchant, member_ids=new_members, now=now))
    payments = [PaymentToCheck(key=c[0].line, member_id=c[1].pk, id_number_index=c[1].id_number_index or "",
                               amount_fen=p.gross_fen)
                for c, p in zip(candidates, priced_all, strict=True) if isinstance(p, pricing.Priced)]
    decisions = check_payments(config=config, payments=payments, month_paid_by_member=carry.month_paid,
                               day_paid_fen=carry.day_fen, daily_limit=carry.daily_limit)
    for payment in payments:  # what passed counts towards the limits of the lines after it
        if not decisions[payment.key].rejected:
            carry.month_paid[payment.member_id] = carry.month_paid.get(payment.member_id, 0) + payment.amount_fen
            carry.day_fen += payment.amount_fen

    orders, payable_ids = [], []
    for (line, member, account, payable_id), priced in zip(candidates, priced_all, strict=True):
        if not isinstance(priced, pricing.Priced):
            _error(errors, line.line, COLUMN_LABELS["amount"], priced)
            carry.used_payables.discard(payable_id)
            continue
        decision = decisions[line.line]
        if decision.rejected:
            # the reasons as risk words them, joined again in each language the error is rendered in
            _error(errors, line.line, gettext_lazy("风控"), lazy(decision.summary, str)())
            carry.used_payables.discard(payable_id)
            continue
        order_no = f"{batch.batch_no}{line.line:06d}"
        orders.append(dict(
            merchant_id=merchant.pk, batch_id=batch.pk, line_no=line.line, source=PayoutOrder.Source.BATCH,
            merchant_order_no=line.merchant_order_no or order_no, order_no=order_no, idempotency_key=new_key(),
            member_id=member.pk, payout_account_id=account[0], payable_id=payable_id, channel=batch.channel,
            payee_name_masked=mask_name(line.name), account_masked=account[3],
            remark=line.remark[:100], **priced.order_fields()))
        payable_ids.append(payable_id)
    if orders:
        with transaction.atomic():
            copy_insert(PayoutOrder, new_rows(PayoutOrder, orders))
            payable_work_reserve_many(merchant=merchant, payable_ids=payable_ids, ref=batch.batch_no, now=now)
    for line in lines:  # a worker with no line left in the file needs no tax state any more
        carry.remaining[line.id_number] -= 1
        if carry.remaining[line.id_number] <= 0:
            del carry.remaining[line.id_number]
            member = members.get(id_index[line.line])
            if member is not None:
                carry.tax_states.pop(member.pk, None)


def _totals(batch: PayoutBatch) -> None:
    totals = (PayoutOrder.objects.filter(batch=batch).exclude(status=PayoutOrder.Status.CANCELLED)
              .aggregate(n=Count("id"), amount=Sum("amount_fen"), gross=Sum("gross_fen"), tax=Sum("tax_fen"),
                         fee=Sum("fee_fen"), payee=Sum("payee_fen"), freeze=Sum("freeze_fen")))
    batch.order_count = totals["n"] or 0
    batch.amount_fen = totals["amount"] or 0
    batch.gross_fen = totals["gross"] or 0
    batch.tax_fen = totals["tax"] or 0
    batch.fee_fen = totals["fee"] or 0
    batch.payee_fen = totals["payee"] or 0
    batch.freeze_fen = totals["freeze"] or 0


def _batch_for_update(*, merchant, batch_id: int) -> PayoutBatch:
    try:
        return PayoutBatch.objects.for_tenant(merchant).select_for_update().get(pk=batch_id)
    except (PayoutBatch.DoesNotExist, ValueError, TypeError):
        raise BatchNotFound(_("未找到该付款批次")) from None


@transaction.atomic
def payout_batch_remove_invalid(*, merchant, batch_id: int, actor, now) -> PayoutBatch:
    """Drop the bad lines and keep the valid ones (移除错误行): the batch becomes ready to confirm.

    Raises BatchNotFound, BatchStateInvalid (not INVALID, or no valid line left)."""
    batch = _batch_for_update(merchant=merchant, batch_id=batch_id)
    if batch.status != PayoutBatch.Status.INVALID:
        raise BatchStateInvalid(_("批次状态为“{status}”，没有可移除的错误行").format(status=batch.get_status_display()))
    if not batch.order_count:
        raise BatchStateInvalid(_("该批次没有有效的付款行，请修改文件后重新上传"))
    batch.errors_removed = True
    batch.mark_quoted(at=now)
    batch.save()
    audit.record(event="payouts.batch.invalid_removed", now=now, actor=actor, subject=batch,
                 after={"removed_lines": batch.error_count})
    return batch


@transaction.atomic
def payout_batch_cancel(*, merchant, batch_id: int, actor, now) -> PayoutBatch:
    """Cancel a batch not yet confirmed; its orders are cancelled and their work released."""
    batch = _batch_for_update(merchant=merchant, batch_id=batch_id)
    if batch.status not in (PayoutBatch.Status.CHECKING, PayoutBatch.Status.INVALID, PayoutBatch.Status.QUOTED,
                            PayoutBatch.Status.AWAITING_APPROVAL):
        raise BatchStateInvalid(_("批次状态为“{status}”，不能取消").format(status=batch.get_status_display()))
    payable_ids = list(PayoutOrder.objects.filter(batch=batch, status=PayoutOrder.Status.DRAFT).exclude(payable=None)
                       .values_list("payable_id", flat=True))
    PayoutOrder.objects.filter(batch=batch, status=PayoutOrder.Status.DRAFT).update(
        status=PayoutOrder.Status.CANCELLED, finished_at=now, updated_at=now)
    if payable_ids:
        payable_work_release_many(merchant=merchant, payable_ids=payable_ids, ref=batch.batch_no, now=now)
    batch.cancel()
    batch.save()
    audit.record(event="payouts.batch.cancelled", now=now, actor=actor, subject=batch, after={"status": batch.status})
    return batch


def payout_batch_confirm(*, merchant, batch_id: int, actor, sms_code: str, now) -> PayoutBatch:
    """Confirm (or, as the second approver, approve) a quoted batch with the user's SMS code.

    Above the enterprise's second-approval threshold the first confirmation only records the first approver;
    another authorised user's approval then freezes and dispatches. Raises BatchNotFound, BatchHasErrors,
    BatchStateInvalid, SecondApprovalRequired, SmsCodeInvalid/Expired, InsufficientBalance (nothing written).
    """
    verify_payment_sms(actor=actor, sms_code=sms_code, now=now)
    return payout_batch_confirm_verified(merchant=merchant, batch_id=batch_id, actor=actor, now=now)


@transaction.atomic(durable=True)
def payout_batch_confirm_verified(*, merchant, batch_id: int, actor, now) -> PayoutBatch:
    """The confirmation itself, once the user is verified (tests and the benchmark call it directly)."""
    batch = _batch_for_update(merchant=merchant, batch_id=batch_id)
    if batch.status == PayoutBatch.Status.INVALID:
        raise BatchHasErrors(_("该批次有 {count} 行错误：请修改文件重新上传，或先移除错误行").format(
            count=batch.error_count), extra={"errors": line_errors_shown(batch.errors[:50])})
    config = merchant_configuration(merchant=merchant)
    if batch.status == PayoutBatch.Status.QUOTED:
        if batch.gross_fen > config.second_approval_threshold_fen:
            batch.await_approval(by=actor, at=now)
            batch.save()
            audit.record(event="payouts.batch.first_approval", now=now, actor=actor, subject=batch,
                         after={"gross_fen": batch.gross_fen, "threshold_fen": config.second_approval_threshold_fen})
            return batch
        approver = None
    elif batch.status == PayoutBatch.Status.AWAITING_APPROVAL:
        if actor is not None and batch.confirmed_by_id == getattr(actor, "pk", None):
            raise SecondApprovalRequired(_("该批次金额超过复核阈值，需由另一位有付款权限的人员复核确认"))
        approver = actor
    else:
        raise BatchStateInvalid(_("批次状态为“{status}”，不能确认").format(status=batch.get_status_display()))

    available = merchant_account(merchant=merchant, kind=AccountKind.MERCHANT_AVAILABLE)
    frozen = merchant_account(merchant=merchant, kind=AccountKind.MERCHANT_FROZEN)
    accounts_for_update([available.pk, frozen.pk])  # before anything audits (see payouts.services.orders)
    ids = list(PayoutOrder.objects.filter(batch=batch, status=PayoutOrder.Status.DRAFT).order_by("line_no", "id")
               .values_list("id", flat=True))
    if not ids:
        raise BatchStateInvalid(_("该批次没有待确认的付款"))
    # The quoted figures are frozen now; the tax itself is withheld when each order is disbursed (the liability
    # arises on payment), by the dispatch job of its chunk: ``batch_orders_withhold``.
    PayoutOrder.objects.filter(batch=batch, status=PayoutOrder.Status.DRAFT).update(
        status=PayoutOrder.Status.CONFIRMED, confirmed_at=now, updated_at=now)
    _totals(batch)
    entries_post(entries=[EntrySpec(kind=FREEZE_KIND, ref=batch, merchant=merchant, memo=f"批量付款冻结 {batch.batch_no}",
                                    lines=[(available, batch.freeze_fen), (frozen, -batch.freeze_fen)])], now=now)
    batch.confirm(by=actor, at=now, approver=approver)
    batch.save()
    audit.record(event="payouts.batch.confirmed", now=now, actor=actor, subject=batch,
                 after={"batch_no": batch.batch_no, "orders": batch.order_count, "freeze_fen": batch.freeze_fen,
                        "tax_fen": batch.tax_fen, "second_approver": getattr(approver, "pk", None)})
    from payouts.jobs_orders import payout_orders_dispatch_job

    for start in range(0, len(ids), DISPATCH_CHUNK):
        enqueue_on_commit(payout_orders_dispatch_job, order_ids=ids[start:start + DISPATCH_CHUNK])
    return batch


# --- 代扣 at disbursement ------------------------------------------------------------------------------------------

WITHHOLD_FIELDS = ("id", "merchant_id", "batch_id", "order_no", "member_id", "amount_fen", "tax_bearer", "gross_fen",
                   "net_fen", "fee_fen", "fee_bearer", "fee_timing", "payee_fen", "freeze_fen", "iit_fen", "vat_fen",
                   "surcharge_fen", "tax_fen", "tax_lines", "status", "withheld_at")
# Fail messages are stored on the order in Chinese (a job writes them; no reader's language); gettext_noop puts them
# in the catalogue and the portal and the API translate them when they show the order (PayoutOrder.fail_message_shown).
# what the withholding may change on an order
_FIGURES = ("gross_fen", "iit_fen", "vat_fen", "surcharge_fen", "tax_fen", "net_fen", "payee_fen", "freeze_fen",
            "tax_lines")
NOTHING_TO_PAY = ("NOTHING_TO_PAY", gettext_noop("按发放时的税费计算，实发金额不大于 0，未发放；款项已解冻"))
TAX_UNFUNDED = ("TAX_UNFUNDED", gettext_noop("发放时税费增加，可用余额不足以补足，未发放；款项已解冻"))
MEMBER_NOT_VERIFIED = ("MEMBER_NOT_VERIFIED", gettext_noop("该灵工人员实名认证状态已失效，不能发放；款项已解冻"))


def batch_orders_withhold(*, order_ids, now, known: set | None = None) -> dict[str, int]:
    """Withhold the tax (代扣) of a batch's confirmed orders before they are sent; each dispatch job calls it for its
    chunk, and only withheld orders are sent. ``known`` (a set, optional) is filled with the ids of the orders known
    to be withheld once this commits, so the sending step need not look them up again.

    The liability arises on payment, so the figures are the tax engine's on the worker's state now. Where they
    differ from the quote (the worker was paid elsewhere in between), the order takes the withheld figures and the
    difference is frozen or released (one ``payout.freeze_adjust`` entry per such order). An order that cannot be
    paid any more fails with its reason and its frozen funds go back: the worker's real-name status lapsed, the
    extra tax is not covered by the balance, or nothing would be left to pay. All of an order's withholding,
    adjustment and new figures commit together, so a run that dies leaves each order withheld or not; orders
    already withheld are skipped. The order's ``withheld_at`` is stamped when it is sent (``dispatch``), in the
    write that sends it, so the common case (figures as quoted) writes no order row here. Returns counts.
    """
    withheld, unpaid, changed_batches = _withhold_orders(list(order_ids), now=now, known=known)
    if withheld:  # after the commit: a large batch doubles these tables faster than autovacuum analyses them
        analyze_if_grown(Withholding, ["merchant", "payment_ref", "kind", "member", "liability_date", "account"])
        analyze_if_grown(TaxAccount, ["member", "entity_code", "year", "last_month"])
    for (code, message), ids in unpaid.items():
        _fail_confirmed(ids, now=now, code=code, message=message)
    for batch_id in changed_batches:  # the batch shows what was really withheld and frozen
        with transaction.atomic():
            batch = PayoutBatch.objects.select_for_update().get(pk=batch_id)
            _totals(batch)
            batch.save(update_fields=["order_count", "amount_fen", "gross_fen", "tax_fen", "fee_fen", "payee_fen",
                                      "freeze_fen", "updated_at"])
    return {"withheld": withheld, "failed": sum(len(ids) for ids in unpaid.values())}


def _fail_confirmed(order_ids: list[int], *, now, code: str, message: str) -> None:
    """Fail confirmed orders that were never sent (own transaction): funds released, any withholding reversed."""
    from payouts.services.settlement import settle_failure

    with transaction.atomic():
        orders = list(PayoutOrder.objects.select_for_update().filter(
            pk__any=order_ids, status=PayoutOrder.Status.CONFIRMED, withheld_at=None).order_by("pk"))
        settle_failure(orders, now=now, by="platform", code=code, message=message)


class _Unpayable(Exception):
    def __init__(self, unpaid: dict):
        super().__init__("unpayable orders")
        self.unpaid = unpaid


@transaction.atomic
def _withhold_orders(order_ids: list[int], *, now, known: set | None = None
                     ) -> tuple[int, dict[tuple[str, str], list[int]], list[int]]:
    """``known``: filled with the ids of the orders now known to be withheld (before, or by this call)."""
    from merchants.models import Merchant

    known = set() if known is None else known

    if not order_ids:
        return 0, {}, []
    # Looked up by primary key alone and filtered here: right after a batch is confirmed the planner's statistics
    # still see its orders as drafts, and a plan built on the status column would read the whole batch per chunk.
    # Lock order: orders → ledger accounts → tax accounts → the audit log (payouts.services.orders).
    orders = [o for o in PayoutOrder.objects.select_for_update(skip_locked=True).filter(pk__any=set(order_ids))
              .order_by("pk").only(*WITHHOLD_FIELDS)
              if o.status == PayoutOrder.Status.CONFIRMED and o.withheld_at is None and o.batch_id]
    done = withheld_refs(orders)
    known.update(o.pk for o in orders if (o.merchant_id, o.order_no) in done)
    orders = [o for o in orders if (o.merchant_id, o.order_no) not in done]
    if not orders:
        return 0, {}, []
    members = {row[0]: _Payee(*row) for row in Member.objects.filter(pk__any={o.member_id for o in orders})
               .values_list("id", Value(""), "id_number_index", "verification_status", "is_individual_business")}
    unpaid: dict[tuple[str, str], list[int]] = defaultdict(list)
    lapsed = [o.pk for o in orders if not members[o.member_id].is_verified]  # failed after this commits
    if lapsed:
        unpaid[MEMBER_NOT_VERIFIED] = lapsed
        orders = [o for o in orders if members[o.member_id].is_verified]
        if not orders:
            return 0, dict(unpaid), []
    merchants = {m.pk: m for m in Merchant.objects.filter(pk__any=sorted({o.merchant_id for o in orders}))}
    ledger = {merchant_id: (merchant_account(merchant=merchant_id, kind=AccountKind.MERCHANT_AVAILABLE),
                            merchant_account(merchant=merchant_id, kind=AccountKind.MERCHANT_FROZEN))
              for merchant_id in sorted(merchants)}
    accounts_for_update([a.pk for pair in ledger.values() for a in pair])
    # An order that turns out unpayable is left out and the rest withheld again (rare: the tax rose since the
    # quote), so no withholding is ever written for an order that is not sent.
    for _attempt in range(5):
        quoted = {o.pk: [getattr(o, name) for name in _FIGURES] for o in orders}
        try:
            with transaction.atomic():
                changed = _withhold_and_adjust(orders, merchants=merchants, members=members, ledger=ledger, now=now)
            break
        except _Unpayable as stop:
            for order in orders:  # back to the quoted figures the database still holds
                for name, value in zip(_FIGURES, quoted[order.pk], strict=True):
                    setattr(order, name, value)
            for reason, ids in stop.unpaid.items():
                unpaid[reason].extend(ids)
            out = {pk for ids in stop.unpaid.values() for pk in ids}
            orders = [o for o in orders if o.pk not in out]
    else:
        raise RuntimeError("withholding did not settle after 5 attempts")
    if changed:
        update_rows(PayoutOrder, changed, [*_FIGURES, "updated_at"])
    known.update(o.pk for o in orders)
    return len(orders), dict(unpaid), sorted({order.batch_id for order in changed})


def _withhold_and_adjust(orders, *, merchants, members, ledger, now) -> list[PayoutOrder]:
    """Withhold every order's tax; freeze or release what differs from the quote. Raises _Unpayable (the caller's
    savepoint rolls it all back) when an order can no longer be paid. Returns the orders whose figures changed."""
    from ledger.exceptions import InsufficientBalance
    from payouts.exceptions_orders import OrderInvalid
    from payouts.services.orders import apply_withholding

    if not orders:
        return []
    liability_date = timezone.localdate(now)
    groups: dict[tuple[int, str], list[PayoutOrder]] = defaultdict(list)
    for order in orders:
        groups[(order.merchant_id, order.tax_bearer)].append(order)
    rows = {}
    for (merchant_id, bearer), group in groups.items():
        withheld = tax_withhold_many(merchant=merchants[merchant_id], items=[
            PaymentItem(member=members[o.member_id], payment_ref=o.order_no,
                        gross_fen=o.amount_fen if bearer == "WORKER" else None,
                        net_fen=o.amount_fen if bearer == "MERCHANT" else None) for o in group],
            bearer=bearer, liability_date=liability_date, now=now, fresh=True)  # (checked under the orders' locks)
        rows.update({(merchant_id, row.payment_ref): row for row in withheld})
    unpaid: dict[tuple[str, str], list[int]] = defaultdict(list)
    changed, extra, release = [], [], []
    for order in orders:
        before = (order.gross_fen, order.net_fen, order.freeze_fen)
        try:
            apply_withholding(order, rows[(order.merchant_id, order.order_no)])
        except OrderInvalid:
            unpaid[NOTHING_TO_PAY].append(order.pk)
            continue
        if (order.gross_fen, order.net_fen, order.freeze_fen) != before:
            order.updated_at = now
            changed.append(order)
            delta = order.freeze_fen - before[2]
            if delta:
                (extra if delta > 0 else release).append((order, delta))
    if unpaid:
        raise _Unpayable(unpaid)

    def adjust(order, delta) -> EntrySpec:
        available, frozen = ledger[order.merchant_id]
        memo = f"发放时税费增加，补充冻结 {order.order_no}" if delta > 0 else f"发放时税费减少，解冻差额 {order.order_no}"
        return EntrySpec(kind=FREEZE_ADJUST_KIND, ref=order, merchant=order.merchant_id, memo=memo,
                         lines=[(available, delta), (frozen, -delta)])

    if release:
        entries_post(entries=[adjust(order, delta) for order, delta in release], now=now)
    if extra:
        try:
            with transaction.atomic():
                entries_post(entries=[adjust(order, delta) for order, delta in extra], now=now)
        except InsufficientBalance:
            for order, delta in extra:  # which of them the balance cannot cover
                try:
                    with transaction.atomic():
                        entries_post(entries=[adjust(order, delta)], now=now)
                except InsufficientBalance:
                    unpaid[TAX_UNFUNDED].append(order.pk)
            raise _Unpayable(unpaid) from None
    return changed
