"""Demo data for the tax agency: a few workers' withholdings over the last months for the two demo enterprises,
past months filed (with their XLSX files), one 更正 after a refund, a tax receipt, a statement, a quarterly report.

Idempotent: payment refs are fixed per month, every service used is idempotent, and files are made only once.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import Kind, Role, User
from core.documents import render_html_to_pdf
from core.exceptions import DomainError
from core.pii import blind_index
from core.validators import id_check_char
from members.models import Member
from merchants.models import Merchant
from merchants.selectors import merchant_configuration
from tax import filing, services
from tax.documents import tax_statement_issue
from tax.models import PlatformReport, TaxReceipt, TaxReturn, TaxStatement, Withholding

MERCHANTS = {"kuaisong": "天津快送同城配送有限公司", "yunce": "北京云测数据科技有限公司"}
# (username, phone, name, birth, individual business?) — the first three are members' demo workers
WORKERS = [
    ("demo_worker_01", "13800000001", "张伟", "19880312", False),
    ("demo_worker_02", "13800000002", "王芳", "19950720", False),
    ("demo_worker_03", "13800000003", "李娜", "19910105", False),
    ("demo_worker_tax_ib", "13800000088", "周建国", "19800808", True),
]
# monthly gross in yuan per (worker index, merchant prefix); months counted back from this month (0 = this month)
PLAN = {
    0: {"kuaisong": [9000, 9500, 8800, 10200, 6000], "yunce": [0, 0, 2000, 0, 3000]},
    1: {"kuaisong": [4000, 0, 4200, 3900, 4100], "yunce": [0, 0, 0, 0, 0]},  # a gap month
    2: {"kuaisong": [0, 60000, 0, 0, 0], "yunce": [30000, 50000, 45000, 40000, 8000]},  # crosses the VAT line
    3: {"kuaisong": [20000, 25000, 30000, 0, 0], "yunce": [0, 0, 0, 15000, 0]},  # individual business
}
MONTHS_BACK = 4


def _month(today: dt.date, back: int) -> dt.date:
    index = today.year * 12 + today.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def _member(index: int, spec: tuple, *, now) -> Member | None:
    username, phone, name, birth, business = spec
    user = User.objects.filter(phone_index=blind_index(phone, purpose="phone")).first()
    if user is None:
        user = User.objects.filter(username=username).first() or User.objects.create_user(
            username, role=Role.WORKER, kind=Kind.WORKER, phone=phone, full_name=name)
    member = Member.objects.filter(user=user).first()
    if member is not None:
        return member if member.is_verified else None
    body = f"120101{birth}{780 + index:03d}"
    id_number = body + id_check_char(body)
    if Member.objects.filter(id_number_index=blind_index(id_number, purpose="id_number")).exists():
        return None
    member = Member(user=user, is_individual_business=business, verification_status=Member.Verification.VERIFIED,
                    verified_at=now)
    member.set_identity(name=name, id_number=id_number)
    member.save()
    return member


def load(*, now) -> list[str]:
    today = timezone.localtime(now).date()
    merchants = {key: Merchant.objects.filter(name=name).order_by("id").first() for key, name in MERCHANTS.items()}
    if not all(merchants.values()):
        return ["代理报税演示数据：未找到演示企业，已跳过"]
    members = {i: _member(i, spec, now=now) for i, spec in enumerate(WORKERS)}
    for back in range(MONTHS_BACK, -1, -1):
        first = _month(today, back)
        for index, member in members.items():
            if member is None:
                continue
            for prefix, merchant in merchants.items():
                amount = PLAN[index][prefix][MONTHS_BACK - back]
                if not amount:
                    continue
                bearer = merchant_configuration(merchant=merchant).tax_bearer
                on = first.replace(day=min(8 + 5 * index, 28)) if back else min(today, first.replace(day=5))
                ref = f"DEMO-TAX-{prefix}-{first:%Y%m}-{index}"
                if Withholding.objects.filter(merchant=merchant, payment_ref=ref).exists():
                    continue
                try:
                    services.tax_withhold(member=member, merchant=merchant, payment_ref=ref, bearer=bearer,
                                          liability_date=on, now=now,
                                          **({"gross_fen": amount * 100} if bearer == "WORKER"
                                             else {"net_fen": amount * 100}))
                except DomainError:
                    continue  # a month already filed by an earlier run (a new ref would be needed): skip it
        if back >= 1:
            try:
                filing.tax_period_file(year=first.year, month=first.month, now=now)
            except DomainError:
                pass
    lines = ["代理报税：/m/tax/（张伟 13800000001 等）收入与纳税、收入纳税明细 PDF；/enterprise/tax/ 代扣税费与月度文件；"
             "运营后台“税款所属期”“申报表”“完税凭证”；命令 manage.py tax_preview --date 2026-03-15 --monthly 12000,12000,12000"]
    lines += _refund_and_correction(today=today, merchants=merchants, now=now)
    lines += _receipt(today=today, now=now)
    lines += _statement(members=members, today=today, now=now)
    lines += _platform_report(today=today, now=now)
    return lines


def _refund_and_correction(*, today, merchants, now) -> list[str]:
    """A refunded payment in a filed month: the reversal opens a 更正, filed as version 2."""
    month = _month(today, 2)
    ref = f"DEMO-TAX-kuaisong-{month:%Y%m}-1"
    if not Withholding.objects.filter(merchant=merchants["kuaisong"], payment_ref=ref).exists():
        return []
    services.tax_reverse(payment_ref=ref, merchant=merchants["kuaisong"], now=now, reason="演示：付款退汇")
    try:
        filing.tax_period_file(year=month.year, month=month.month, now=now)
    except DomainError:
        return []
    return [f"代理报税：{month:%Y-%m} 一笔退汇已冲回，形成第 2 版更正申报"]


def _receipt(*, today, now) -> list[str]:
    month = _month(today, MONTHS_BACK)
    tax_return = (TaxReturn.objects.filter(period__year=month.year, period__month=month.month, kind="IIT")
                  .order_by("-version", "id").first())
    if tax_return is None or TaxReceipt.objects.filter(tax_return=tax_return).exists():
        return []
    number = f"3120{month:%Y%m}0001"
    html = (f"<html><body style='font-family:\"WenQuanYi Micro Hei\",sans-serif'><h1>中华人民共和国税收完税证明（演示）</h1>"
            f"<p>税种：个人所得税　所属期：{month:%Y年%m月}　实缴金额：{tax_return.tax_fen / 100:.2f} 元</p>"
            f"<p>凭证号码：{number}</p></body></html>")
    filing.tax_receipt_record(tax_return=tax_return, amount_paid_fen=tax_return.tax_fen, paid_on=today,
                              receipt_number=number, content=render_html_to_pdf(html), filename="receipt.pdf", now=now)
    return [f"代理报税：{month:%Y-%m} 已登记完税凭证 {number}"]


def _statement(*, members, today, now) -> list[str]:
    member = members.get(0)
    if member is None or TaxStatement.objects.filter(member=member, year=today.year).exists():
        return []
    try:
        statement = tax_statement_issue(member=member, year=today.year, now=now)
    except DomainError:
        return []
    return [f"代理报税：收入纳税明细验证页 /verify/tax/{statement.code}/"]


def _platform_report(*, today, now) -> list[str]:
    year, quarter = filing.previous_quarter(today)
    if PlatformReport.objects.filter(year=year, quarter=quarter).exists():
        return []
    report = filing.platform_report_build(year=year, quarter=quarter, now=now)
    return [f"代理报税：{year}年第{quarter}季度平台涉税信息报送表已生成（报送 {report.reported_count} 人）"]

