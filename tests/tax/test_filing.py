"""Month-end filing files (opened and checked by header text), 更正 versions, receipts, the quarterly report."""

import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from openpyxl import load_workbook

from core.models import AuditRecord
from core.testing.jobs import run_job
from tax import exports, filing, jobs, services
from tax.exceptions import PeriodNotOver, TaxAmountInvalid
from tax.models import PlatformReport, TaxPeriod, TaxReturn
from tests.tax.conftest import make_member

pytestmark = pytest.mark.django_db
SH = dt.timezone(dt.timedelta(hours=8))


def withhold(member, merchant, ref, on, now, gross):
    return services.tax_withhold(member=member, merchant=merchant, payment_ref=ref, gross_fen=gross, bearer="WORKER",
                                 liability_date=on, now=now)


def sheet_rows(tax_return: TaxReturn, title: str) -> list[dict]:
    """Rows of a sheet as {header text: value}, matched by header text like the 扣缴端 does."""
    tax_return.file.open("rb")
    workbook = load_workbook(io.BytesIO(tax_return.file.read()))
    tax_return.file.close()
    sheet = workbook[title]
    values = list(sheet.iter_rows(values_only=True))
    headers = values[0]
    return [dict(zip(headers, row, strict=False)) for row in values[1:]]


@pytest.fixture
def january(merchant, other_merchant, now):
    zhang = make_member(name="张三")
    li = make_member(name="李四")
    withhold(zhang, merchant, "Z1", dt.date(2026, 1, 5), now, 1_000_000)
    withhold(zhang, other_merchant, "Z2", dt.date(2026, 1, 25), now, 1_000_000)
    withhold(li, merchant, "L1", dt.date(2026, 1, 8), now, 12_000_000)
    return zhang, li


def test_month_end_builds_both_returns(january, now):
    zhang, li = january
    period = filing.tax_period_file(year=2026, month=1, now=now)
    assert period.status == TaxPeriod.Status.FILED and period.version == 1
    iit = period.returns.get(kind="IIT", version=1)
    vat = period.returns.get(kind="VAT", version=1)

    cumulative = sheet_rows(iit, "劳务报酬（适用累计预扣法）")
    assert list(cumulative[0].keys()) == exports.CUMULATIVE_HEADERS
    by_name = {row["*姓名"]: row for row in cumulative}
    assert set(by_name) == {"张三", "李四"}  # names decrypted into the file
    assert by_name["张三"]["*证件号码"] == zhang.id_number
    assert by_name["张三"]["*证件类型"] == "居民身份证"
    assert by_name["张三"]["*所得项目"] == "其他连续劳务报酬"
    assert Decimal(str(by_name["张三"]["本期收入"])) == Decimal("20000.00")
    assert Decimal(str(by_name["李四"]["本期收入"])) == Decimal("118811.88")  # VAT-exclusive (default setting)

    check = {row["姓名"]: row for row in sheet_rows(iit, "税款计算核对")}
    assert Decimal(str(check["张三"]["本期应预扣预缴税额"])) == Decimal("330.00")  # 20,000 × 0.8 − 5,000 → 11,000 × 3%
    assert check["张三"]["付款笔数"] == 2 and check["张三"]["连续月份数"] == 1

    people = {row["*姓名"]: row for row in sheet_rows(iit, "人员信息采集")}
    assert len(next(iter(people.values()))) == 51
    assert people["李四"]["*任职受雇从业类型"] == "其他" and people["李四"]["*国籍(地区)"] == "中国"
    assert people["李四"]["*出生日期"] == "1990-01-01"

    vat_rows = {row["姓名"]: row for row in sheet_rows(vat, "代办申报（增值税及附加税费）")}
    assert Decimal(str(vat_rows["李四"]["增值税应纳税额"])) == Decimal("1188.12")
    assert Decimal(str(vat_rows["李四"]["附加税费合计"])) == Decimal("71.28")
    assert Decimal(str(vat_rows["张三"]["增值税应纳税额"])) == Decimal("0")
    assert Decimal(str(vat_rows["张三"]["免税销售额"])) == Decimal("20000.00")
    assert vat.tax_fen == 118812 + 7128 and vat.row_count == 2
    assert iit.row_count == 2 and iit.tax_fen == 33000 + li.withholdings.get().iit_fen


def test_id_numbers_are_text_cells(january, now):
    period = filing.tax_period_file(year=2026, month=1, now=now)
    iit = period.returns.get(kind="IIT")
    iit.file.open("rb")
    sheet = load_workbook(io.BytesIO(iit.file.read()))["劳务报酬（适用累计预扣法）"]
    headers = [cell.value for cell in sheet[1]]
    column = headers.index("*证件号码")
    assert all(row[column].data_type == "s" for row in sheet.iter_rows(min_row=2))


def test_filing_twice_files_nothing_twice(january, now):
    filing.tax_period_file(year=2026, month=1, now=now)
    filing.tax_period_file(year=2026, month=1, now=now)
    assert TaxReturn.objects.count() == 2
    assert AuditRecord.objects.filter(event="tax.period.filed").count() == 1


def test_cannot_file_a_month_that_has_not_ended(january, now):
    with pytest.raises(PeriodNotOver):
        filing.tax_period_file(year=2026, month=3, now=now)  # now is 2026-03-16
    assert TaxReturn.objects.count() == 0


def test_per_payment_month_uses_the_other_template(merchant, now):
    member = make_member(name="王五")
    withhold(member, merchant, "O1", dt.date(2025, 9, 3), now, 300_000)
    withhold(member, merchant, "O2", dt.date(2025, 9, 20), now, 500_000)
    period = filing.tax_period_file(year=2025, month=9, now=now)
    rows = sheet_rows(period.returns.get(kind="IIT"), "劳务报酬（不适用累计预扣法）")
    assert list(rows[0].keys()) == exports.PER_PAYMENT_HEADERS
    # one enterprise's payments in a month are one 次: 8,000 × 0.8 × 20% = 1,280 (440 then 840)
    assert [Decimal(str(r["*收入"])) for r in rows] == [Decimal("8000.00")]
    assert {r["*所得项目"] for r in rows} == {"一般劳务报酬所得"}
    assert "O1" in rows[0]["备注"] and "O2" in rows[0]["备注"]
    assert period.returns.get(kind="IIT").tax_fen == 128000


def test_correction_after_filing_is_a_new_version(january, merchant, now):
    zhang, _ = january
    filing.tax_period_file(year=2026, month=1, now=now)
    original = TaxReturn.objects.get(kind="IIT", version=1)
    original_hash = original.sha256
    services.tax_reverse(payment_ref="Z1", merchant=merchant, now=now)
    periods = filing.tax_month_end(now=dt.datetime(2026, 4, 1, 3, 0, tzinfo=SH))
    assert [str(p) for p in periods][-1].startswith("2026-01")
    corrected = TaxReturn.objects.get(kind="IIT", version=2)
    assert corrected.is_correction
    rows = {r["*姓名"]: r for r in sheet_rows(corrected, "劳务报酬（适用累计预扣法）")}
    assert Decimal(str(rows["张三"]["本期收入"])) == Decimal("10000.00")
    original.refresh_from_db()
    assert original.sha256 == original_hash  # the filed file is never edited
    assert TaxPeriod.objects.get(year=2026, month=1).version == 2


def test_month_end_job_files_last_month(january):
    with time_machine.travel(dt.datetime(2026, 2, 1, 3, 0, tzinfo=SH), tick=False):
        result = run_job(jobs.month_end)
    assert result == ["2026-01（已申报）"]
    assert TaxReturn.objects.filter(period__year=2026, period__month=1).count() == 2


def test_receipt_recorded_once(january, now, ops_user):
    period = filing.tax_period_file(year=2026, month=1, now=now)
    iit = period.returns.get(kind="IIT")
    receipt = filing.tax_receipt_record(tax_return=iit, amount_paid_fen=iit.tax_fen, paid_on=dt.date(2026, 2, 12),
                                        receipt_number="3212026000123", content=b"%PDF-1.4 receipt",
                                        filename="完税凭证.pdf", now=now, actor=ops_user)
    again = filing.tax_receipt_record(tax_return=iit, amount_paid_fen=iit.tax_fen, paid_on=dt.date(2026, 2, 12),
                                      receipt_number="3212026000123", content=b"%PDF-1.4 receipt",
                                      filename="完税凭证.pdf", now=now, actor=ops_user)
    assert again.pk == receipt.pk
    with pytest.raises(TaxAmountInvalid):
        filing.tax_receipt_record(tax_return=iit, amount_paid_fen=1, paid_on=dt.date(2026, 2, 12),
                                  receipt_number="3212026000123", content=b"other", filename="x.pdf", now=now)
    with pytest.raises(TaxAmountInvalid):
        filing.tax_receipt_record(tax_return=iit, amount_paid_fen=1, paid_on=dt.date(2026, 2, 12),
                                  receipt_number=" ", content=b"x", filename="x.pdf", now=now)


def test_quarterly_platform_report_leaves_out_what_was_already_filed(merchant, now):
    worker = make_member(name="赵六")
    business = make_member(name="钱七", business=True)
    withhold(worker, merchant, "W1", dt.date(2025, 11, 3), now, 500_000)
    withhold(business, merchant, "B1", dt.date(2025, 10, 3), now, 2_000_000)
    withhold(business, merchant, "B2", dt.date(2025, 12, 3), now, 1_000_000)
    services.tax_reverse(payment_ref="B2", merchant=merchant, now=now)
    report = filing.platform_report_build(year=2025, quarter=4, now=now)
    assert report.reported_count == 1
    assert report.excluded == {"已在扣缴申报/代办申报中报送": 1}
    report.file.open("rb")
    workbook = load_workbook(io.BytesIO(report.file.read()))
    values = list(workbook["收入信息报送表"].iter_rows(values_only=True))
    row = dict(zip(values[0], values[1], strict=False))
    assert row["姓名"] == "钱七" and row["证件号码"] == business.id_number
    assert Decimal(str(row["收入总额"])) == Decimal("30000.00")
    assert Decimal(str(row["退款金额"])) == Decimal("10000.00")
    assert Decimal(str(row["收入净额"])) == Decimal("20000.00")
    assert row["是否已取得登记证照"] == "是"
    assert filing.platform_report_build(year=2025, quarter=4, now=now).pk == report.pk
    assert PlatformReport.objects.count() == 1
    with pytest.raises(PeriodNotOver):
        filing.platform_report_build(year=2026, quarter=1, now=now)


def test_previous_month_and_quarter():
    assert filing.previous_month(dt.date(2026, 1, 1)) == (2025, 12)
    assert filing.previous_month(dt.date(2026, 3, 31)) == (2026, 2)
    assert filing.previous_quarter(dt.date(2026, 1, 1)) == (2025, 4)
    assert filing.previous_quarter(dt.date(2026, 7, 1)) == (2026, 2)


@pytest.mark.parametrize(("now", "allowed"), [
    (dt.datetime(2026, 1, 31, 23, 59, tzinfo=SH), False),
    (dt.datetime(2026, 2, 1, 0, 0, tzinfo=SH), True),
    (dt.datetime(2026, 1, 31, 16, 30, tzinfo=dt.UTC), True),  # 00:30 on 1 February in Shanghai
])
def test_month_end_is_midnight_in_shanghai(db, now, allowed):
    if allowed:
        assert filing.tax_period_file(year=2026, month=1, now=now).status == TaxPeriod.Status.FILED
    else:
        with pytest.raises(PeriodNotOver):
            filing.tax_period_file(year=2026, month=1, now=now)


def test_empty_month_files_a_nil_return(db, now):
    period = filing.tax_period_file(year=2026, month=2, now=now)
    assert period.status == TaxPeriod.Status.FILED
    assert [r.row_count for r in period.returns.order_by("kind")] == [0, 0]


def test_vat_return_reports_what_is_due_after_a_reversal_took_the_month_under_the_line(merchant, now):
    """60,000 then 50,000 (the second carries 1,089.11 VAT for the month), then the first is refunded: the month is
    50,000, under the line. The 代办 return declares 0 and shows the 1,089.11 + surcharges as owed back."""
    member = make_member(name="孙八")
    withhold(member, merchant, "V1", dt.date(2026, 1, 3), now, 6_000_000)
    second = withhold(member, merchant, "V2", dt.date(2026, 1, 20), now, 5_000_000)
    assert second.vat_fen == 108911
    services.tax_reverse(payment_ref="V1", merchant=merchant, now=now)
    period = filing.tax_period_file(year=2026, month=1, now=now)
    vat = period.returns.get(kind="VAT")
    row = sheet_rows(vat, "代办申报（增值税及附加税费）")[0]
    assert Decimal(str(row["增值税应纳税额"])) == 0 and Decimal(str(row["免税销售额"])) == Decimal("50000.00")
    assert Decimal(str(row["多代征应退"])) == Decimal(second.vat_fen + second.surcharges_fen) / 100
    assert "应退还" in row["备注"] and vat.tax_fen == 0
