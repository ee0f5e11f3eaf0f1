"""收入核算: the month's accounting vouchers of one enterprise as XLSX — every journal entry that touched its
accounts, one row per posting: date, voucher number, account code and name, debit, credit, summary.

Account codes follow the platform's chart (企业会计准则 numbering); the enterprise's own bookkeeper maps them.
Written with openpyxl's write-only mode, so a month of 100,000 payments streams without holding a workbook in memory.
"""

from __future__ import annotations

import datetime as dt
import io

from django.utils import timezone

from core.money import format_yuan
from ledger.models import AccountKind, JournalEntry, Posting

ACCOUNT_CODES = {
    AccountKind.CUSTODY_BANK: ("1002.01", "银行存款—备付金"),
    AccountKind.CHANNEL_CLEARING: ("1012.01", "其他货币资金—支付通道清算"),
    AccountKind.MERCHANT_AVAILABLE: ("2241.01", "其他应付款—企业可用余额"),
    AccountKind.MERCHANT_FROZEN: ("2241.02", "其他应付款—企业冻结资金"),
    AccountKind.WORKER_PAYABLE: ("2241.03", "其他应付款—应付灵工人员款"),
    AccountKind.TAX_PAYABLE_VAT: ("2221.01", "应交税费—代征增值税"),
    AccountKind.TAX_PAYABLE_IIT: ("2221.11", "应交税费—代扣个人所得税"),
    AccountKind.TAX_PAYABLE_SURCHARGE: ("2221.12", "应交税费—代征附加税费"),
    AccountKind.PLATFORM_FEE_REVENUE: ("6001.01", "主营业务收入—平台服务费"),
    AccountKind.SUSPENSE: ("2241.99", "其他应付款—待查明款项"),
}
CHANNEL_SUFFIX = {"BANK": ("01", "银行"), "ALIPAY": ("02", "支付宝"), "WECHAT": ("03", "微信")}
HEADERS = ["日期", "凭证号", "科目编码", "科目名称", "借方金额（元）", "贷方金额（元）", "摘要", "业务类型", "业务引用"]


def account_code(kind: str, channel: str = "") -> tuple[str, str]:
    code, name = ACCOUNT_CODES.get(kind, ("9999", kind))
    if channel:
        suffix, label = CHANNEL_SUFFIX.get(channel, ("99", channel))
        code, name = f"{code[:-2]}{suffix}", f"{name}（{label}）"
    return code, name


def voucher_rows(*, merchant, year: int, month: int):
    tz = timezone.get_current_timezone()
    start = dt.datetime(year, month, 1, tzinfo=tz)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    entries = JournalEntry.objects.filter(merchant=merchant, posted_at__gte=start, posted_at__lt=end)
    postings = (Posting.objects.filter(entry__in=entries).select_related("entry", "account")
                .order_by("entry__posted_at", "entry_id", "id"))
    for posting in postings.iterator(chunk_size=5000):
        entry, account = posting.entry, posting.account
        code, name = account_code(account.kind, account.channel)
        debit = format_yuan(posting.amount_fen) if posting.amount_fen > 0 else ""
        credit = format_yuan(-posting.amount_fen) if posting.amount_fen < 0 else ""
        yield [timezone.localtime(entry.posted_at, tz).date().isoformat(), f"记-{entry.pk}", code, name, debit, credit,
               entry.memo, entry.kind, entry.ref]


def vouchers_xlsx(*, merchant, year: int, month: int) -> bytes:
    """The month's vouchers of ``merchant`` as XLSX bytes (reads only; the caller audits the download)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(f"{year}年{month:02d}月凭证")
    sheet.append([f"{merchant.name} {year}年{month:02d}月 收入核算凭证（单位：元）"])
    sheet.append(HEADERS)
    for row in voucher_rows(merchant=merchant, year=year, month=month):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
