"""Operations in the admin: rule sets read-only, settings through the service, filing action, receipt upload."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditRecord
from core.testing.factories import UserFactory
from tax import services
from tax.models import TaxPeriod, TaxReceipt, TaxReturn, TaxRuleSet, TaxSettings
from tests.tax.conftest import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
    client.force_login(staff)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def test_rule_sets_are_read_only(ops):
    rule_set = TaxRuleSet.objects.get(code="CN-2026.1")
    assert ops.get("/ops/tax/taxruleset/").status_code == 200
    page = ops.get(f"/ops/tax/taxruleset/{rule_set.pk}/change/")
    body = page.content.decode()
    assert page.status_code == 200 and "threshold_comparator" in body and "增值税法" in body
    assert ops.get("/ops/tax/taxruleset/add/").status_code == 403
    ops.post(f"/ops/tax/taxruleset/{rule_set.pk}/change/", {"code": "HACK"})
    assert TaxRuleSet.objects.filter(code="CN-2026.1").exists()


def test_settings_change_is_audited(ops):
    TaxSettings.load()
    response = ops.post("/ops/tax/taxsettings/1/change/", {
        "gap_month_rule": "RESTART_SEGMENT", "iit_base_when_vat_due": "VAT_EXCLUSIVE",
        "vat_threshold_base": "VAT_EXCLUSIVE", "surcharge_location_basis": "PLATFORM", "platform_location": "URBAN",
        "entity_code": "main", "entity_name": "灵工", "entity_uscc": "", "platform_name": "灵工"})
    assert response.status_code == 302
    assert TaxSettings.load().gap_month_rule == "RESTART_SEGMENT"
    assert AuditRecord.objects.filter(event="tax.settings.updated").exists()


def test_file_action_and_receipt_upload(ops, merchant, now):
    member = make_member()
    services.tax_withhold(member=member, merchant=merchant, payment_ref="A1", gross_fen=1_000_000, bearer="WORKER",
                          liability_date=dt.date(2026, 1, 10), now=now)
    period = TaxPeriod.objects.get(year=2026, month=1)
    ops.post("/ops/tax/taxperiod/", {"action": "file_periods", "_selected_action": [period.pk]})
    period.refresh_from_db()
    assert period.status == "FILED"
    tax_return = TaxReturn.objects.get(period=period, kind="IIT")
    download = ops.get(f"/ops/tax/taxreturn/{tax_return.pk}/download/")
    assert download.status_code == 200 and b"".join(download.streaming_content)[:2] == b"PK"
    response = ops.post("/ops/tax/taxreceipt/add/", {
        "tax_return": tax_return.pk, "paid_on": "2026-02-12", "receipt_number": "NO-1", "amount_paid": "90.00",
        "upload": SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 x", content_type="application/pdf")})
    assert response.status_code == 302, response.content.decode()[:2000]
    receipt = TaxReceipt.objects.get()
    assert receipt.amount_paid_fen == 9000 and receipt.uploaded_by is not None
    assert AuditRecord.objects.filter(event="tax.receipt.recorded").exists()
