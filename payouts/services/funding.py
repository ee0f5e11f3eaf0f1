"""企业付款资金 / 来账识别: open the enterprise's virtual top-up account, receive incoming transfers (from statement
files and bank notifications), recognise whose they are, credit them through the ledger; operations match or
return the ones nobody could recognise.

Recognition, strongest first (channels.md §4): (1) the virtual account number the bank reports, (2) the
enterprise's reference code (附言识别码) in the postscript, (3) a payer account the enterprise registered, with the
same account name. Anything else waits in the queue (status UNMATCHED, money held on SUSPENSE).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from core import audit
from core.exceptions import DomainError, ValidationFailed
from core.money import format_yuan
from core.pii import blind_index, mask_bank_card
from ledger import services as ledger_services
from ledger.models import AccountKind
from payouts.exceptions import (
    IncomingTransferConflict,
    StatementAlreadyImported,
    StatementFileInvalid,
    TransferNotUnmatched,
)
from payouts.models import IncomingTransfer, PayerAccount, StatementImport, TopUpAccount

REFERENCE_RE = re.compile(r"LG\d{7}")


def luhn_check_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and len(number) > 1 and luhn_check_digit(number[:-1]) == number[-1]


def topup_account_number(merchant_id: int) -> str:
    """Platform prefix (8 digits) + merchant id (8 digits) + Luhn check digit: 17 digits."""
    body = f"{settings.CUSTODY_ACCOUNT_PREFIX}{merchant_id:08d}"
    return body + luhn_check_digit(body)


def reference_code(merchant_id: int) -> str:
    """附言识别码 ``LG`` + merchant id (6 digits) + check digit, short enough for a 16-byte bank narrative."""
    body = f"{merchant_id:06d}"
    return f"LG{body}{luhn_check_digit(body)}"


@dataclass(frozen=True)
class IncomingTransferData:
    """One credit to the custody account as the bank reports it. Amount in fen."""

    bank_serial: str
    amount_fen: int
    value_date: dt.date
    transacted_at: dt.datetime | None = None
    payer_account_name: str = ""
    payer_account_number: str = ""
    payer_bank: str = ""
    virtual_account: str = ""
    postscript: str = ""
    #: For a reversal (冲正) line or notice: the serial of the credit the bank takes back.
    reverses_serial: str = ""


@transaction.atomic
def topup_account_open(*, merchant, now) -> TopUpAccount:
    """The merchant's virtual top-up account (专属充值账户); opened once, idempotently."""
    account, created = TopUpAccount.objects.get_or_create(
        merchant=merchant,
        defaults={"account_number": topup_account_number(merchant.pk), "reference_code": reference_code(merchant.pk)},
    )
    if created:
        audit.record(event="payouts.topup_account.opened", now=now, subject=account, merchant=merchant,
                     after={"account_number": account.account_number, "reference_code": account.reference_code})
    return account


def on_merchant_accounts_opened(sender, *, merchant, now, **kwargs) -> None:
    """Receiver of ``ledger.services.merchant_accounts_opened``: a merchant with a ledger gets a top-up account."""
    topup_account_open(merchant=merchant, now=now)


@transaction.atomic
def payer_account_register(*, merchant, account_name: str, account_number: str, bank_name: str = "", actor,
                           now) -> PayerAccount:
    """Register a bank account the enterprise pays in from (付款账户备案). Idempotent by account number.

    Raises ValidationFailed for an empty name or a malformed account number.
    """
    account_name = (account_name or "").strip()
    number = re.sub(r"\s", "", account_number or "")
    if not account_name:
        raise ValidationFailed(_("请填写付款账户户名"), extra={"form_field": "account_name"})
    if not re.fullmatch(r"\d{8,32}", number):
        raise ValidationFailed(_("付款账号应为 8–32 位数字，请核对"), extra={"form_field": "account_number"})
    index = blind_index(number, purpose="bank_account")
    payer, created = PayerAccount.objects.get_or_create(
        merchant=merchant, account_number_index=index,
        defaults={"account_number": number, "account_name": account_name,
                  "account_name_index": blind_index(account_name, purpose="account_name"), "bank_name": bank_name},
    )
    if created:
        audit.record(event="payouts.payer_account.registered", now=now, actor=actor, subject=payer,
                     after={"account_number": mask_bank_card(number), "bank_name": bank_name})
    return payer


def _recognise(data: IncomingTransferData):
    """(merchant, method) or (None, "")."""
    virtual = re.sub(r"\s", "", data.virtual_account)
    if virtual:
        topup = TopUpAccount.objects.select_related("merchant").filter(account_number=virtual).first()
        if topup:
            return topup.merchant, IncomingTransfer.MatchMethod.VIRTUAL_ACCOUNT
    postscript = re.sub(r"\s", "", data.postscript).upper()
    for code in REFERENCE_RE.findall(postscript):
        topup = TopUpAccount.objects.select_related("merchant").filter(reference_code=code).first()
        if topup:
            return topup.merchant, IncomingTransfer.MatchMethod.REFERENCE
    number = re.sub(r"\s", "", data.payer_account_number)
    if number and data.payer_account_name:
        name_index = blind_index(data.payer_account_name.strip(), purpose="account_name")
        merchants = {payer.merchant_id: payer.merchant for payer in PayerAccount.objects.select_related("merchant")
                     .filter(account_number_index=blind_index(number, purpose="bank_account"),
                             account_name_index=name_index).order_by("id")}
        if len(merchants) == 1:  # an account registered by two enterprises identifies neither
            return next(iter(merchants.values())), IncomingTransfer.MatchMethod.PAYER
    return None, ""


def _custody(now):
    return ledger_services.platform_account(kind=AccountKind.CUSTODY_BANK, now=now)


def _suspense(now):
    return ledger_services.platform_account(kind=AccountKind.SUSPENSE, now=now)


def _available(merchant, now):
    from ledger.exceptions import AccountNotOpen
    from ledger.selectors import merchant_account

    try:
        return merchant_account(merchant=merchant, kind=AccountKind.MERCHANT_AVAILABLE)
    except AccountNotOpen:
        return ledger_services.merchant_accounts_open(merchant=merchant, now=now)[AccountKind.MERCHANT_AVAILABLE]


@transaction.atomic
def incoming_transfer_receive(*, data: IncomingTransferData, source: str, now,
                              statement_import: StatementImport | None = None) -> tuple[IncomingTransfer, bool]:
    """Record an incoming transfer once (by bank serial), recognise it and credit it. Returns (transfer, created).

    Recognised: ``CUSTODY_BANK +X / MERCHANT_AVAILABLE −X``, status MATCHED. Not recognised:
    ``CUSTODY_BANK +X / SUSPENSE −X``, status UNMATCHED (the queue). The same serial again changes nothing.

    Raises IncomingTransferConflict when the serial is known with another amount; ValidationFailed for a
    non-positive amount.
    """
    if isinstance(data.amount_fen, bool) or not isinstance(data.amount_fen, int) or data.amount_fen <= 0:
        raise ValidationFailed(_("来账 {serial} 的金额必须为正整数（分）").format(serial=data.bank_serial))
    if data.reverses_serial:
        return incoming_transfer_reverse(data=data, now=now), False
    existing = IncomingTransfer.objects.filter(bank_serial=data.bank_serial).first()
    if existing is None:
        transfer = IncomingTransfer(
            bank_serial=data.bank_serial, amount_fen=data.amount_fen, value_date=data.value_date,
            transacted_at=data.transacted_at, payer_account_name=data.payer_account_name,
            payer_account_number=data.payer_account_number,
            payer_account_index=(blind_index(data.payer_account_number, purpose="bank_account")
                                 if data.payer_account_number else ""),
            payer_bank=data.payer_bank[:100], virtual_account=re.sub(r"\s", "", data.virtual_account)[:32],
            postscript=data.postscript[:200], source=source, statement_import=statement_import, received_at=now,
        )
        try:
            with transaction.atomic():
                transfer.save(force_insert=True)
        except IntegrityError:
            # A concurrent delivery of the same serial committed first.
            existing = IncomingTransfer.objects.get(bank_serial=data.bank_serial)
    if existing is not None:
        if existing.amount_fen != data.amount_fen:
            raise IncomingTransferConflict(
                _("银行流水号 {serial} 已按 {known} 元记录，本次报告为 {reported} 元；请与银行核对后处理").format(
                    serial=data.bank_serial, known=format_yuan(existing.amount_fen),
                    reported=format_yuan(data.amount_fen)), extra={"bank_serial": data.bank_serial})
        return existing, False

    merchant, method = _recognise(data)
    if merchant is not None:
        available = _available(merchant, now)
        transfer.match(merchant=merchant, how=method, at=now)
        transfer.save(update_fields=["status", "merchant", "match_method", "matched_at", "handled_by", "updated_at"])
        ledger_services.entry_post(kind="funding.incoming", ref=transfer, merchant=merchant,
                                   lines=[(_custody(now), transfer.amount_fen), (available, -transfer.amount_fen)],
                                   memo=f"来账入账 {transfer.bank_serial}", now=now)
        audit.record(event="payouts.incoming.matched", now=now, subject=transfer, merchant=merchant,
                     after={"amount_fen": transfer.amount_fen, "method": method, "source": source})
    else:
        ledger_services.entry_post(kind="funding.suspense", ref=transfer,
                                   lines=[(_custody(now), transfer.amount_fen), (_suspense(now), -transfer.amount_fen)],
                                   memo=f"来账待认领 {transfer.bank_serial}", now=now)
        audit.record(event="payouts.incoming.unmatched", now=now, subject=transfer,
                     after={"amount_fen": transfer.amount_fen, "source": source})
    return transfer, True


@transaction.atomic
def incoming_transfer_reverse(*, data: IncomingTransferData, now) -> IncomingTransfer:
    """冲正: the bank takes back an earlier credit (``data.reverses_serial``). Idempotent by the reversal serial.

    A credited transfer is taken back from the enterprise (``MERCHANT_AVAILABLE +X / CUSTODY_BANK −X``); one still
    in the queue from suspense (``SUSPENSE +X / CUSTODY_BANK −X``).

    Raises NotFound (no such credit yet: the statement or notice is retried later), IncomingTransferConflict (the
    amounts differ, or it was already returned), InsufficientBalance (the enterprise has spent the money: operations
    must settle it with the enterprise first).
    """
    from core.exceptions import NotFound

    transfer = IncomingTransfer.objects.select_for_update().filter(bank_serial=data.reverses_serial).first()
    if transfer is None:
        raise NotFound(_("冲正流水 {serial} 对应的原来账 {original} 尚未收到，稍后重试").format(
            serial=data.bank_serial, original=data.reverses_serial))
    if transfer.status == IncomingTransfer.Status.REVERSED:
        if transfer.reversal_serial != data.bank_serial:
            raise IncomingTransferConflict(_("来账 {serial} 已被流水 {reversal} 冲正").format(
                serial=transfer.bank_serial, reversal=transfer.reversal_serial))
        return transfer
    if transfer.amount_fen != data.amount_fen or not can_proceed(transfer.reverse):
        raise IncomingTransferConflict(
            _("冲正流水 {serial} 与原来账 {original} 不符（金额或状态“{status}”），请与银行核对").format(
                serial=data.bank_serial, original=transfer.bank_serial, status=transfer.get_status_display()),
            extra={"bank_serial": transfer.bank_serial})
    was = transfer.status
    if was == IncomingTransfer.Status.MATCHED:
        source_account = _available(transfer.merchant, now)
    else:
        source_account = _suspense(now)
    transfer.reverse(serial=data.bank_serial, at=now)
    transfer.save(update_fields=["status", "reversal_serial", "reversed_at", "updated_at"])
    ledger_services.entry_post(kind="funding.reversal", ref=transfer, merchant=transfer.merchant,
                               lines=[(source_account, transfer.amount_fen), (_custody(now), -transfer.amount_fen)],
                               memo=f"来账冲正 {transfer.bank_serial}", now=now)
    audit.record(event="payouts.incoming.reversed", now=now, subject=transfer, merchant=transfer.merchant_id,
                 before={"status": was}, after={"status": transfer.status, "reversal_serial": data.bank_serial})
    return transfer


def _lock_transfer(transfer_id: int) -> IncomingTransfer:
    try:
        return IncomingTransfer.objects.select_for_update().get(pk=transfer_id)
    except IncomingTransfer.DoesNotExist:
        from core.exceptions import NotFound

        raise NotFound(_("未找到该来账")) from None


@transaction.atomic(durable=True)
def incoming_transfer_match(*, transfer_id: int, merchant, actor, now) -> IncomingTransfer:
    """认领: credit an unmatched transfer to ``merchant`` (``SUSPENSE +X / MERCHANT_AVAILABLE −X``).

    Raises NotFound, TransferNotUnmatched.
    """
    transfer = _lock_transfer(transfer_id)
    if not can_proceed(transfer.match):
        raise TransferNotUnmatched(_("该来账状态为“{status}”，只有待认领的来账可以认领").format(
            status=transfer.get_status_display()))
    available = _available(merchant, now)
    transfer.match(merchant=merchant, how=IncomingTransfer.MatchMethod.MANUAL, at=now, by=actor)
    transfer.save(update_fields=["status", "merchant", "match_method", "matched_at", "handled_by", "updated_at"])
    ledger_services.entry_post(kind="funding.claim", ref=transfer, merchant=merchant,
                               lines=[(_suspense(now), transfer.amount_fen), (available, -transfer.amount_fen)],
                               memo=f"来账认领 {transfer.bank_serial}", now=now)
    audit.record(event="payouts.incoming.claimed", now=now, actor=actor, subject=transfer, merchant=merchant,
                 before={"status": IncomingTransfer.Status.UNMATCHED},
                 after={"status": transfer.status, "amount_fen": transfer.amount_fen})
    return transfer


@transaction.atomic(durable=True)
def incoming_transfer_return(*, transfer_id: int, reason: str, actor, now) -> IncomingTransfer:
    """退回: give an unmatched transfer back to the payer (``SUSPENSE +X / CUSTODY_BANK −X``).

    The refund itself is made in the bank's system by finance; this records it. Raises NotFound,
    TransferNotUnmatched, ValidationFailed (no reason).
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写退回原因"), extra={"form_field": "reason"})
    transfer = _lock_transfer(transfer_id)
    if not can_proceed(transfer.return_to_payer):
        raise TransferNotUnmatched(_("该来账状态为“{status}”，只有待认领的来账可以退回").format(
            status=transfer.get_status_display()))
    transfer.return_to_payer(reason=reason[:200], at=now, by=actor)
    transfer.save(update_fields=["status", "return_reason", "returned_at", "handled_by", "updated_at"])
    ledger_services.entry_post(kind="funding.return", ref=transfer,
                               lines=[(_suspense(now), transfer.amount_fen), (_custody(now), -transfer.amount_fen)],
                               memo=f"来账退回 {transfer.bank_serial}", now=now)
    audit.record(event="payouts.incoming.returned", now=now, actor=actor, subject=transfer,
                 before={"status": IncomingTransfer.Status.UNMATCHED},
                 after={"status": transfer.status, "reason": transfer.return_reason})
    return transfer


@transaction.atomic
def statement_import(*, content: bytes, filename: str, source: str, actor=None, now) -> StatementImport:
    """Import a bank statement file (银行流水): every credit line becomes an incoming transfer, recognised and credited.

    The whole file is checked first: a bad line is reported with its line number and column, and nothing is
    written. Transfers already known by serial (e.g. from a notification) count as duplicates.

    Raises StatementFileInvalid, StatementAlreadyImported (the same file again).
    """
    from payouts.channels.statements import parse_incoming_statement

    digest = hashlib.sha256(content).hexdigest()
    previous = StatementImport.objects.filter(sha256=digest).first()
    if previous is not None:
        raise StatementAlreadyImported(_("该文件已于 {at} 导入（{filename}），无需重复导入").format(
            at=f"{previous.imported_at:%Y-%m-%d %H:%M}", filename=previous.filename),
                                       extra={"statement_import_id": previous.pk})
    parsed = parse_incoming_statement(content)
    if parsed.errors:
        first = parsed.errors[0]
        raise StatementFileInvalid(
            _("第 {line} 行{column}：{message}（共 {count} 处错误，文件未导入，请更正后重新上传）").format(
                line=first["line"], column=f"“{first['column']}”" if first["column"] else "", message=first["message"],
                count=len(parsed.errors)),
            extra={"errors": parsed.errors},
        )
    record = StatementImport.objects.create(source=source, filename=filename[:200], sha256=digest,
                                            statement_date=parsed.statement_date, lines=len(parsed.rows),
                                            skipped=parsed.skipped, imported_by=actor, imported_at=now)
    created = duplicates = 0
    for line, row in zip(parsed.line_numbers, parsed.rows, strict=True):
        try:
            _transfer, is_new = incoming_transfer_receive(data=row, source=IncomingTransfer.Source.STATEMENT, now=now,
                                                  statement_import=record)
        except DomainError as error:
            # A line that contradicts what is known (another amount for a serial, a reversal of an unknown or
            # spent credit): the whole file is refused, with the line, and nothing of it stays written.
            raise StatementFileInvalid(_("第 {line} 行：{message}（文件未导入，请核对后重新上传）").format(
                line=line, message=error.message),
                                       extra={"errors": [{"line": line, "column": _("交易流水号"), "message": error.message}]}
                                       ) from error
        created += is_new
        duplicates += not is_new
    record.created_transfers, record.duplicates = created, duplicates
    record.save(update_fields=["created_transfers", "duplicates"])
    audit.record(event="payouts.statement.imported", now=now, actor=actor, subject=record,
                 after={"filename": record.filename, "lines": record.lines, "created": created,
                        "duplicates": duplicates, "source": source})
    return record


def statement_pull(*, date: dt.date, now) -> StatementImport | None:
    """定时拉取: fetch the bank's incoming-transfer statement of ``date`` and import it; the same file again is a no-op.

    The channel call happens outside any transaction; the import is one transaction.
    """
    from payouts.channels import get_adapter

    content = get_adapter("BANK").fetch_statement(date=date, kind="incoming")
    try:
        return statement_import(content=content, filename=f"incoming-{date:%Y%m%d}.csv",
                                source=StatementImport.Source.PULL, now=now)
    except StatementAlreadyImported:
        return None
