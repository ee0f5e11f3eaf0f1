"""The enterprise portal, end to end: apply step by step, upload, submit, review in the ops admin, sign, account."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.testing.factories import make_phone, make_resident_id, make_uscc
from merchants.models import Merchant, MerchantApplication
from tests.merchants.conftest import PNG, signed, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(ops_user, monkeypatch):
    from django.contrib import admin

    ops_user.is_superuser = True
    ops_user.save()
    # The admin requires a TOTP-verified session; the test signs in directly.
    monkeypatch.setattr(admin.site, "has_permission", lambda request: request.user.is_active and request.user.is_staff)
    client = Client()
    client.force_login(ops_user)
    return client


def test_guide_is_public():
    response = Client().get("/enterprise/guide/")
    assert response.status_code == 200 and "操作指南" in response.content.decode()


def test_apply_step_by_step_save_draft_resume_and_submit(admin_client):
    client = Client()
    page = client.get("/enterprise/apply/")
    assert page.status_code == 200
    response = client.post("/enterprise/apply/", {
        "company_name": "天津快送同城配送有限公司", "uscc": make_uscc(6001), "full_name": "王经理",
        "phone": make_phone(6001), "username": "ks_apply", "password": "Kuai-song-2026!",
        "password2": "Kuai-song-2026!", "agree": "on"})
    assert response.status_code == 302 and response["Location"] == "/enterprise/apply/company/"
    # step 2, saved as a draft with an invalid ID number first
    response = client.post("/enterprise/apply/company/", {
        "company_name": "天津快送同城配送有限公司", "uscc": make_uscc(6001), "legal_rep_name": "张伟",
        "legal_rep_id_number": "110105194912310021", "save_draft": "1"})
    assert response.status_code == 200 and "校验位错误" in response.content.decode()
    response = client.post("/enterprise/apply/company/", {
        "company_name": "天津快送同城配送有限公司", "uscc": make_uscc(6001), "legal_rep_name": "张伟",
        "legal_rep_id_number": make_resident_id(61), "contact_name": "王芳", "contact_phone": make_phone(6002),
        "save_draft": "1"})
    assert response.status_code == 302
    # resume later in a new session
    client.logout()
    assert client.login(username="ks_apply", password="Kuai-song-2026!")
    page = client.get("/enterprise/apply/company/")
    assert "张伟" in page.content.decode()
    client.post("/enterprise/apply/business/", {
        "industry": "LOGISTICS", "business_scenario": "同城即时配送，骑手按单完成取送货", "expected_monthly_volume": "300000",
        "expected_monthly_workers": "120"})
    response = client.post("/enterprise/apply/licence/", {"file": SimpleUploadedFile("licence.txt", b"hello")})
    assert "文件类型不支持" in response.content.decode()
    response = client.post("/enterprise/apply/licence/", {"file": SimpleUploadedFile("licence.png", PNG)})
    assert response.status_code == 302
    application = MerchantApplication.objects.get(company_name="天津快送同城配送有限公司")
    licence_url = f"/enterprise/documents/{application.licence_id}/"
    assert client.get(licence_url).status_code == 200
    response = client.post("/enterprise/apply/submit/")
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "SUBMITTED"
    # operations review in the admin queue
    queue = admin_client.get("/ops/merchants/merchantapplication/?status__exact=SUBMITTED")
    assert "天津快送同城配送有限公司" in queue.content.decode()
    assert admin_client.get(f"/ops/merchants/merchantdocument/{application.licence_id}/download/").status_code == 200
    response = admin_client.post(f"/ops/merchants/merchantapplication/{application.pk}/review/",
                                 {"decision": "approve", "note": ""})
    assert response.status_code == 302
    # sign on the portal with the SMS code
    response = client.post("/enterprise/agreement/code/", follow=True)
    code = re.search(r"演示沙箱短信：(\d{6})", response.content.decode()).group(1)
    response = client.post("/enterprise/agreement/sign/", {"code": code, "agree": "on"}, follow=True)
    assert "已签署" in response.content.decode()
    merchant = Merchant.objects.get(pk=application.merchant_id)
    assert merchant.status == "ACTIVE"
    from payouts.selectors import topup_account_get

    page = client.get("/enterprise/account/").content.decode()
    assert topup_account_get(merchant=merchant).account_number in page
    from merchants.models import ServiceAgreement

    agreement = ServiceAgreement.objects.get(merchant=merchant, status="SIGNED")
    download = client.get(f"/enterprise/agreements/{agreement.pk}/pdf/")
    assert download.status_code == 200 and download.content.startswith(b"%PDF")


def test_failed_verification_is_shown_on_submit(now):
    from tests.merchants.conftest import complete, start

    application = complete(start(now, company_name="天津测试失败科技有限公司", username="ks_fail"), now)
    client = Client()
    client.force_login(application.applicant)
    response = client.post("/enterprise/apply/submit/")
    body = response.content.decode()
    assert response.status_code == 200 and "企业认证未通过" in body and "不一致" in body


def test_duplicate_uscc_shown_on_the_form(now):
    submitted(now, uscc=make_uscc(6101))
    response = Client().post("/enterprise/apply/", {
        "company_name": "另一家有限公司", "uscc": make_uscc(6101), "full_name": "李", "phone": make_phone(6101),
        "username": "dup_user", "password": "Kuai-song-2026!", "password2": "Kuai-song-2026!", "agree": "on"})
    assert response.status_code == 200 and "不能重复申请" in response.content.decode()


def test_reject_in_admin_needs_a_reason(now, admin_client):
    application = submitted(now)
    response = admin_client.post(f"/ops/merchants/merchantapplication/{application.pk}/review/",
                                 {"decision": "reject", "note": ""})
    assert response.status_code == 200 and "驳回原因" in response.content.decode()
    application.refresh_from_db()
    assert application.status == "SUBMITTED"


def test_other_enterprise_files_and_agreements_are_not_found(now, ops_user):
    merchant, admin, agreement = signed(now, ops_user)
    other_merchant, other_admin, other_agreement = signed(now, ops_user, company_name="北京云测数据科技有限公司")
    client = Client()
    client.force_login(admin)
    assert client.get(f"/enterprise/agreements/{agreement.pk}/pdf/").status_code == 200
    assert client.get(f"/enterprise/agreements/{other_agreement.pk}/pdf/").status_code == 404
    assert client.get(f"/enterprise/documents/{other_agreement.document_id}/").status_code == 404
    assert client.get(f"/enterprise/documents/{other_merchant.application.licence_id}/").status_code == 404


def test_portal_pages_render_for_each_role(now, ops_user):
    from accounts.models import Role
    from core.testing.factories import EnterpriseUserFactory

    merchant, admin, _ = signed(now, ops_user)
    client = Client()
    client.force_login(admin)
    for url in ("/enterprise/", "/enterprise/account/", "/enterprise/agreement/", "/enterprise/staff/",
                "/enterprise/api-keys/", "/enterprise/account/change/", "/enterprise/account/close/",
                "/enterprise/apply/status/"):
        assert client.get(url).status_code == 200, url
    response = client.post("/enterprise/api-keys/", {"label": "ERP"})
    assert "lgs_" in response.content.decode() and response["Cache-Control"] == "no-store"
    operator = EnterpriseUserFactory(merchant=merchant, role=Role.ENT_OPERATOR)
    client.force_login(operator)
    assert client.get("/enterprise/account/").status_code == 200
    assert client.get("/enterprise/api-keys/").status_code == 403


def test_configuration_saved_in_the_admin_goes_through_the_service(now, admin_client, merchant):
    from core.models import AuditRecord
    from merchants.models import MerchantConfiguration

    data = {"merchant": merchant.pk, "fee_rate": "0.0550", "fee_fixed_fen": "100", "fee_minimum_fen": "0",
            "fee_tiers": "[]", "fee_bearer": "MERCHANT", "fee_timing": "DURING", "tax_bearer": "MERCHANT",
            "enabled_channels": '["BANK", "WECHAT"]', "single_payment_limit_fen": "5000000",
            "worker_monthly_limit_fen": "9500000", "daily_limit_fen": "500000000",
            "second_approval_threshold_fen": "10000000"}
    response = admin_client.post("/ops/merchants/merchantconfiguration/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    config = MerchantConfiguration.objects.get(merchant=merchant)
    assert str(config.fee_rate) == "0.0550" and config.enabled_channels == ["BANK", "WECHAT"]
    assert AuditRecord.objects.filter(event="merchants.configuration.changed", merchant_id=merchant.pk).exists()


def test_change_request_from_the_portal_is_approved_in_the_admin(now, ops_user, admin_client):
    merchant, admin, _ = signed(now, ops_user)
    client = Client()
    client.force_login(admin)
    response = client.post("/enterprise/account/change/", {"contact_email": "new@example.com", "reason": "换联系人邮箱"})
    assert response.status_code == 302
    from merchants.models import MerchantChangeRequest

    change = MerchantChangeRequest.objects.get(merchant=merchant)
    response = admin_client.post("/ops/merchants/merchantchangerequest/",
                                 {"action": "approve_selected", "_selected_action": [change.pk]})
    assert response.status_code == 302
    merchant.application.refresh_from_db()
    assert merchant.application.contact_email == "new@example.com"
    assert "new@example.com" in client.get("/enterprise/account/").content.decode()
