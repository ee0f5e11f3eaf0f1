"""What people see: the worker's tax page and statement PDF (text extracted with pypdf), the public verification page,
the enterprise page and files (tenant-scoped), the calculator, the quote API and the tax_preview command."""

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from openpyxl import load_workbook
from pypdf import PdfReader
from rest_framework.test import APIClient

from core.testing.factories import EnterpriseUserFactory
from members.models import MemberMerchant
from tax import filing, services
from tax.documents import tax_statement_issue
from tax.models import TaxStatement
from tests.tax.conftest import make_member

pytestmark = pytest.mark.django_db


def withhold(member, merchant, ref, on, now, gross):
    return services.tax_withhold(member=member, merchant=merchant, payment_ref=ref, gross_fen=gross, bearer="WORKER",
                                 liability_date=on, now=now)


@pytest.fixture
def paid_worker(merchant, now):
    member = make_member(name="王小明")
    withhold(member, merchant, "PAY-0001", dt.date(2026, 1, 10), now, 1_000_000)
    withhold(member, merchant, "PAY-0002", dt.date(2026, 2, 10), now, 1_000_000)
    return member


def pdf_text(statement: TaxStatement) -> str:
    statement.file.open("rb")
    reader = PdfReader(io.BytesIO(statement.file.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_statement_pdf_text(paid_worker, now):
    statement = tax_statement_issue(member=paid_worker, year=2026, now=now)
    text = pdf_text(statement)
    compact = text.replace(" ", "")
    assert "收入纳税明细" in compact
    assert "王小明" in compact
    assert "20000.00" in text and "180.00" in text and "19820.00" in text  # totals: gross, IIT, net
    assert "PAY-0002" in text and "10,000.00" in text and "9,910.00" in text  # one line per payment
    assert "个人所得税" in compact and "App" in text  # the official 纳税记录 comes from the 个税 App
    assert statement.code in text
    assert paid_worker.id_number not in text  # masked
    assert len(statement.code) == 12 and statement.sha256
    statement.file.open("rb")
    content = statement.file.read()
    from core.documents import sha256_hex
    from core.signing import verify_pdf

    assert verify_pdf(content).ok and sha256_hex(content) == statement.sha256  # sealed by the platform


def test_public_verification_page(client, paid_worker, now):
    statement = tax_statement_issue(member=paid_worker, year=2026, now=now)
    page = client.get(f"/verify/tax/{statement.code}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "有效" in body and "20000.00" in body and "王小明" not in body  # masked name only
    assert client.get("/verify/tax/NOPE23456789/").status_code == 404


def test_statement_refused_without_income(now):
    from tax.exceptions import StatementNotFound

    with pytest.raises(StatementNotFound):
        tax_statement_issue(member=make_member(), year=2026, now=now)


def test_worker_tax_page_and_download(client, paid_worker):
    client.force_login(paid_worker.user)
    page = client.get("/m/tax/?year=2026")
    body = page.content.decode()
    assert page.status_code == 200
    assert "20,000.00" in body and "180.00" in body and "个人所得税" in body
    assert "连续取得收入" in body
    response = client.post("/m/tax/statement/", {"year": "2026"})
    assert response.status_code == 302
    code = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    pdf = client.get(response["Location"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    other = make_member()
    client.force_login(other.user)
    assert client.get(f"/m/tax/statement/{code}/").status_code == 404  # someone else's statement


def test_enterprise_page_is_tenant_scoped(client, paid_worker, merchant, other_merchant, now):
    stranger = make_member(name="外企工人")
    withhold(stranger, other_merchant, "OTHER-1", dt.date(2026, 2, 10), now, 2_000_000)
    client.force_login(EnterpriseUserFactory(merchant=merchant))
    body = client.get("/enterprise/tax/?year=2026&month=2").content.decode()
    assert "PAY-0002" in body and "OTHER-1" not in body
    xlsx = client.get("/enterprise/tax/2026/2/file.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    data = [dict(zip(header, row, strict=False)) for row in rows[1:] if row[0] != "合计"]
    assert [row["付款单号"] for row in data] == ["PAY-0002"]
    assert paid_worker.id_number not in str(rows)  # masked in the enterprise file
    assert Decimal(str(data[0]["个人所得税"])) == Decimal("90.00")
    client.force_login(EnterpriseUserFactory(merchant=other_merchant))
    assert client.get("/enterprise/tax/2026/1/file.xlsx").status_code == 404  # nothing of theirs that month


def test_enterprise_receipts(client, paid_worker, merchant, other_merchant, now):
    filing.tax_period_file(year=2026, month=1, now=now)
    iit = paid_worker.withholdings.first().period.returns.get(kind="IIT")
    receipt = filing.tax_receipt_record(tax_return=iit, amount_paid_fen=iit.tax_fen, paid_on=dt.date(2026, 2, 12),
                                        receipt_number="R-1", content=b"%PDF-1.4 r", filename="r.pdf", now=now)
    client.force_login(EnterpriseUserFactory(merchant=merchant))
    assert "R-1" in client.get("/enterprise/tax/").content.decode()
    download = client.get(f"/enterprise/tax/receipts/{receipt.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 r"
    client.force_login(EnterpriseUserFactory(merchant=other_merchant))
    assert client.get(f"/enterprise/tax/receipts/{receipt.pk}/").status_code == 404


def test_calculator_pages(client, worker_user, merchant):
    client.force_login(worker_user)
    page = client.get("/m/tax/calculator/", {"start": "2026-03-15", "monthly": "12000,12000,12000",
                                             "bearer": "WORKER", "route": "AUTO", "location": ""})
    body = page.content.decode()
    assert page.status_code == 200 and "138.00" in body and "11,862.00" in body
    bad = client.get("/m/tax/calculator/", {"start": "2026-03-15", "monthly": "12000,abc", "bearer": "WORKER",
                                            "route": "AUTO"})
    assert "不是有效金额" in bad.content.decode()
    client.force_login(EnterpriseUserFactory(merchant=merchant))
    assert client.get("/enterprise/tax/calculator/").status_code == 200


def test_quote_api_preview_and_member(paid_worker, merchant, other_merchant):
    api = APIClient()
    user = EnterpriseUserFactory(merchant=merchant)
    api.force_authenticate(user)
    preview = api.post("/api/v1/tax/quote", {"amount": "12000.00", "date": "2026-03-15", "months": 3}, format="json")
    assert preview.status_code == 200
    assert [m["iit"] for m in preview.json()["months"]] == ["138.00", "138.00", "138.00"]
    assert api.post("/api/v1/tax/quote", {"amount": 12000}, format="json").status_code == 400  # never a number
    MemberMerchant.objects.create(merchant=merchant, member=paid_worker, status="REGISTERED")
    quote = api.post("/api/v1/tax/quote", {"amount": "10000.00", "date": "2026-03-10", "member_id": paid_worker.pk},
                     format="json")
    assert quote.status_code == 200, quote.json()
    assert quote.json()["iit"] == "90.00" and quote.json()["rule_set"] == "CN-2026.1"
    api.force_authenticate(EnterpriseUserFactory(merchant=other_merchant))
    other = api.post("/api/v1/tax/quote", {"amount": "10000.00", "member_id": paid_worker.pk}, format="json")
    assert other.status_code == 404
    gross_up = api.post("/api/v1/tax/quote", {"amount": "10000.00", "bearer": "MERCHANT", "date": "2026-03-10"},
                        format="json")
    assert gross_up.json()["months"][0]["net"] == "10000.00"


def test_tax_preview_command(capsys):
    call_command("tax_preview", "--date", "2026-03-15", "--monthly", "12000,12000,12000")
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [line["month"] for line in lines] == ["2026-03", "2026-04", "2026-05"]
    assert [line["iit"] for line in lines] == ["138.00", "138.00", "138.00"]
    assert {"gross", "iit", "vat", "urban_maintenance", "education", "local_education", "net"} <= set(lines[0])
    call_command("tax_preview", "--date", "2026-01-15", "--monthly", "101000", "--location", "COUNTY")
    big = json.loads(capsys.readouterr().out)
    assert big["vat"] == "1000.00" and big["urban_maintenance"] == "25.00"
    call_command("tax_preview", "--date", "2025-09-15", "--monthly", "3000", "--route", "LABOR_PER_PAYMENT")
    assert json.loads(capsys.readouterr().out)["iit"] == "440.00"
    call_command("tax_preview", "--date", "2026-03-15", "--monthly", "10000", "--bearer", "MERCHANT")
    assert json.loads(capsys.readouterr().out)["net"] == "10000.00"


def test_tax_preview_command_bad_input():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="不是有效金额"):
        call_command("tax_preview", "--date", "2026-03-15", "--monthly", "12k")
    with pytest.raises(CommandError, match="税费规则集"):
        call_command("tax_preview", "--date", "2020-03-15", "--monthly", "100")


def test_calculator_for_anyone_signed_in(client, ops_user):
    assert client.get("/tax/calculator/").status_code == 302  # sign in first
    client.force_login(ops_user)
    page = client.get("/tax/calculator/", {"start": "2026-01-15", "monthly": "101000", "bearer": "WORKER",
                                           "route": "AUTO", "location": "URBAN"})
    assert page.status_code == 200 and "1,000.00" in page.content.decode()  # VAT once the 起征点 is reached


def test_tax_preview_across_the_year_and_rule_set_boundary(capsys):
    call_command("tax_preview", "--date", "2025-11-20", "--monthly", "10000,10000,10000")
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [line["rule_set"] for line in lines] == ["CN-2025.4", "CN-2025.4", "CN-2026.1"]
    assert [line["iit"] for line in lines] == ["90.00", "90.00", "90.00"]  # January starts a new cumulative year


def test_quote_api_worker_for_themself_and_ops_refused(paid_worker, ops_user):
    api = APIClient()
    api.force_authenticate(paid_worker.user)
    own = api.post("/api/v1/tax/quote", {"amount": "10000.00", "date": "2026-03-10", "member_id": paid_worker.pk},
                   format="json")
    assert own.status_code == 200 and own.json()["kind"] == "quote"
    other = make_member()
    assert api.post("/api/v1/tax/quote", {"amount": "1.00", "member_id": other.pk}, format="json").status_code == 404
    api.force_authenticate(ops_user)
    refused = api.post("/api/v1/tax/quote", {"amount": "1.00", "member_id": paid_worker.pk}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
