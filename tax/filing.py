"""Filing: month-end returns (扣缴申报 + 代办申报), tax receipts, and the quarterly platform report.

All idempotent: filing a filed month again files nothing; a month with a pending 更正 gets the next version of its
returns (the earlier files are never touched); a quarter's platform report is built once.
"""

from __future__ import annotations

import datetime as dt

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.documents import sha256_hex
from tax import exports, selectors
from tax.exceptions import PeriodNotOver, TaxAmountInvalid
from tax.models import PlatformReport, TaxPeriod, TaxReceipt, TaxReturn, Withholding


def previous_month(today: dt.date) -> tuple[int, int]:
    first = today.replace(day=1) - dt.timedelta(days=1)
    return first.year, first.month


def previous_quarter(today: dt.date) -> tuple[int, int]:
    quarter = (today.month - 1) // 3 + 1
    return (today.year, quarter - 1) if quarter > 1 else (today.year - 1, 4)


def _local_date(now) -> dt.date:
    return timezone.localtime(now).date() if timezone.is_aware(now) else now.date()


@transaction.atomic
def tax_period_file(*, year: int, month: int, now, entity_code: str | None = None, actor=None) -> TaxPeriod:
    """Month end: build the month's 扣缴申报 and 代办申报 files and mark the period filed.

    OPEN → version 1; CORRECTION_PENDING → the next version, marked 更正; FILED → nothing (idempotent).
    Raises PeriodNotOver when the month has not ended yet.
    """
    today = _local_date(now)
    if (year, month) >= (today.year, today.month):
        raise PeriodNotOver(_("{year}年{month:02d}月尚未结束，月末之后才能申报").format(year=year, month=month), extra={"year": year, "month": month})
    entity_code = entity_code or selectors.tax_settings().entity_code
    TaxPeriod.objects.get_or_create(entity_code=entity_code, year=year, month=month)
    period = TaxPeriod.objects.select_for_update().get(entity_code=entity_code, year=year, month=month)
    if period.status == TaxPeriod.Status.FILED:
        return period
    correction = period.status == TaxPeriod.Status.CORRECTION_PENDING
    version = period.version + 1 if correction else 1
    rows = list(Withholding.objects.filter(period=period, route__in=selectors.LABOR_ROUTES)
                .select_related("member", "merchant", "rule_set").order_by("member_id", "liability_date", "id"))
    member_ids = {row.member_id for row in rows}
    year_rows = list(Withholding.objects.filter(entity_code=entity_code, member_id__in=member_ids,
                                                liability_date__year=year, liability_date__month__lte=month,
                                                route__in=selectors.LABOR_ROUTES).order_by("liability_date", "id"))
    label = f"{period.label}（第{version}版更正）" if correction else period.label
    builders = {
        TaxReturn.Kind.IIT: lambda: exports.iit_return(period=period, rows=rows, year_rows=year_rows, label=label),
        TaxReturn.Kind.VAT: lambda: exports.vat_return(period=period, rows=rows, label=label),
    }
    for kind, build in builders.items():
        content, totals = build()
        tax_return = TaxReturn(period=period, kind=kind, version=version, is_correction=correction,
                               sha256=sha256_hex(content), created_at=now, **totals)
        name = f"{entity_code}-{year}{month:02d}-{kind.lower()}-v{version}.xlsx"
        tax_return.file.save(name, ContentFile(content), save=False)
        tax_return.save()
    if correction:
        period.file_correction(at=now)
    else:
        period.file(at=now)
    period.save(update_fields=["status", "version", "filed_at", "updated_at"])
    audit.record(event="tax.period.corrected" if correction else "tax.period.filed", now=now, actor=actor,
                 subject=period, after={"period": period.label, "version": version, "rows": len(rows)})
    return period


@transaction.atomic
def tax_receipt_record(*, tax_return: TaxReturn, amount_paid_fen: int, paid_on: dt.date, receipt_number: str,
                       content: bytes, filename: str, now, actor=None) -> TaxReceipt:
    """Record what was paid for a filed return and keep the 完税凭证 file operations uploaded.

    Idempotent per (return, receipt number) when the figures match. Raises TaxAmountInvalid.
    """
    receipt_number = (receipt_number or "").strip()
    if not receipt_number:
        raise TaxAmountInvalid(_("请填写完税凭证号码"), extra={"form_field": "receipt_number"})
    if isinstance(amount_paid_fen, bool) or not isinstance(amount_paid_fen, int) or amount_paid_fen < 0:
        raise TaxAmountInvalid(_("实缴金额必须是不小于 0 的整数分"), extra={"form_field": "amount_paid_fen"})
    if not content:
        raise TaxAmountInvalid(_("请上传完税凭证文件（PDF 或图片）"), extra={"form_field": "file"})
    existing = TaxReceipt.objects.filter(tax_return=tax_return, receipt_number=receipt_number).first()
    if existing is not None:
        if existing.amount_paid_fen != amount_paid_fen or existing.sha256 != sha256_hex(content):
            raise TaxAmountInvalid(_("凭证号码 {receipt_number} 已登记且金额或文件不同，请核对").format(receipt_number=receipt_number), extra={"form_field": "receipt_number"})
        return existing
    receipt = TaxReceipt(tax_return=tax_return, amount_paid_fen=amount_paid_fen, paid_on=paid_on,
                         receipt_number=receipt_number, sha256=sha256_hex(content), uploaded_by=actor, created_at=now)
    safe_name = "".join(ch for ch in filename if ch.isalnum() or ch in "._-")[-80:] or "receipt"
    receipt.file.save(f"{tax_return.period.entity_code}-{tax_return.period.year}{tax_return.period.month:02d}-"
                      f"{tax_return.kind.lower()}-{safe_name}", ContentFile(content), save=False)
    receipt.save()
    audit.record(event="tax.receipt.recorded", now=now, actor=actor, subject=receipt,
                 after={"return": str(tax_return), "amount_paid_fen": amount_paid_fen, "receipt_number": receipt_number})
    return receipt


@transaction.atomic
def platform_report_build(*, year: int, quarter: int, now, entity_code: str | None = None,
                          actor=None) -> PlatformReport:
    """The quarter's identity and income report (Decree 810 Art. 4; STA 2025 No. 15). Built once (idempotent).

    Left out, as the rules allow: workers whose income is already in the platform's 扣缴申报 / 代办申报 (every worker
    on a labour route). Reported: workers who are individual businesses (the platform filed nothing for them).
    """
    if quarter not in (1, 2, 3, 4):
        raise TaxAmountInvalid(_("季度必须是 1–4"))
    today = _local_date(now)
    if (year, quarter) >= (today.year, (today.month - 1) // 3 + 1):
        raise PeriodNotOver(_("{year}年第{quarter}季度尚未结束，季度终了后才能报送").format(year=year, quarter=quarter))
    settings_row = selectors.tax_settings()
    entity_code = entity_code or settings_row.entity_code
    existing = PlatformReport.objects.filter(entity_code=entity_code, year=year, quarter=quarter).first()
    if existing is not None:
        return existing
    months = range(3 * quarter - 2, 3 * quarter + 1)
    rows = (Withholding.objects.filter(entity_code=entity_code, liability_date__year=year,
                                       liability_date__month__in=months)
            .select_related("member").order_by("member_id", "id"))
    reported: dict[int, dict] = {}
    filed_members: set[int] = set()
    for row in rows:
        if row.route in selectors.LABOR_ROUTES:
            filed_members.add(row.member_id)
            continue
        item = reported.setdefault(row.member_id, {"member": row.member, "gross_fen": 0, "refund_fen": 0, "count": 0})
        if row.kind == Withholding.Kind.PAYMENT:
            item["gross_fen"] += row.gross_fen
            item["count"] += 1
        else:
            item["refund_fen"] += -row.gross_fen
    members = [reported[key] for key in sorted(reported)]
    header = {"互联网平台企业名称": settings_row.entity_name, "统一社会信用代码（纳税人识别号）": settings_row.entity_uscc,
              "platform_name": settings_row.platform_name, "收入所属期间": f"{year}年第{quarter}季度",
              "报送日期": today.isoformat()}
    content = exports.platform_report(members=members, header=header)
    report = PlatformReport(entity_code=entity_code, year=year, quarter=quarter, sha256=sha256_hex(content),
                            reported_count=len(members),
                            excluded={"已在扣缴申报/代办申报中报送": len(filed_members - set(reported))}, created_at=now)
    report.file.save(f"{entity_code}-{year}Q{quarter}-platform-report.xlsx", ContentFile(content), save=False)
    report.save()
    audit.record(event="tax.platform_report.built", now=now, actor=actor, subject=report,
                 after={"year": year, "quarter": quarter, "reported": len(members), "excluded": report.excluded})
    return report


def pending_corrections(*, entity_code: str) -> list[TaxPeriod]:
    return list(TaxPeriod.objects.filter(entity_code=entity_code, status=TaxPeriod.Status.CORRECTION_PENDING)
                .order_by("year", "month", "id"))


@transaction.atomic
def tax_month_end(*, now, actor=None) -> list[TaxPeriod]:
    """The monthly job: file last month, and file any pending 更正 of earlier months."""
    entity_code = selectors.tax_settings().entity_code
    year, month = previous_month(_local_date(now))
    filed = [tax_period_file(year=year, month=month, now=now, entity_code=entity_code, actor=actor)]
    for period in pending_corrections(entity_code=entity_code):
        filed.append(tax_period_file(year=period.year, month=period.month, now=now, entity_code=entity_code,
                                     actor=actor))
    return filed
