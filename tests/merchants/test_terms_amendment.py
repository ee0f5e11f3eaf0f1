"""补充协议: commercial terms changed after the agreement is signed wait for the enterprise's signature."""

import datetime as dt
import hashlib
import io
import re

import pytest
from django.test import Client
from pypdf import PdfReader

from accounts.exceptions import RoleRequired, SmsCodeExpired, SmsCodeInvalid
from accounts.models import Role
from core.models import AuditRecord
from core.signing import verify_pdf
from core.testing.factories import EnterpriseUserFactory
from merchants import selectors, services
from merchants.exceptions import TermsAmendmentNotPending
from merchants.models import MerchantConfiguration, MerchantDocument, ServiceAgreement, TermsAmendment
from payouts.billing import fee_for_payment
from tests.merchants.conftest import approved, signed

pytestmark = pytest.mark.django_db

LATER = dt.timedelta(minutes=2)  # the agreement's signing code was sent at ``now``: one code a minute per phone


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _config(merchant) -> MerchantConfiguration:
    return selectors.merchant_configuration(merchant=merchant)


def _propose(merchant, ops_user, now, **values):
    values = values or {"fee_rate": "0.0550"}
    return services.merchant_configuration_set(merchant=merchant, actor=ops_user, now=now,
                                               reason="月度付款量提升，费率下调", **values)


def _sign(merchant, admin, when, ip="10.2.3.4"):
    code = services.terms_amendment_send_code(merchant=merchant, actor=admin, now=when).plain_code
    return services.terms_amendment_sign(merchant=merchant, actor=admin, code=code, now=when, ip=ip)


@pytest.fixture
def merchant_signed(now, ops_user):
    return signed(now, ops_user)


class TestProposal:
    def test_terms_of_a_signed_merchant_wait_for_a_supplementary_agreement(self, now, ops_user, merchant_signed):
        merchant, _admin, agreement = merchant_signed
        config = _propose(merchant, ops_user, now, fee_rate="0.055", fee_fixed_fen=150, tax_bearer="MERCHANT")
        amendment = config.proposed_amendment
        assert str(_config(merchant).fee_rate) == "0.0600"
        assert _config(merchant).fee_fixed_fen == 0 and _config(merchant).tax_bearer == "WORKER"
        assert amendment.status == TermsAmendment.Status.PENDING and amendment.agreement == agreement
        assert amendment.number == f"BC20260316{merchant.pk:06d}01"
        assert amendment.changes == {"fee_rate": {"before": "0.0600", "after": "0.0550"},
                                     "fee_fixed_fen": {"before": 0, "after": 150},
                                     "tax_bearer": {"before": "WORKER", "after": "MERCHANT"}}
        assert amendment.rows == [
            {"field": "fee_rate", "label": "服务费率", "before": "6.00%", "after": "5.50%"},
            {"field": "fee_fixed_fen", "label": "每笔固定服务费", "before": "0.00 元", "after": "1.50 元"},
            {"field": "tax_bearer", "label": "税费承担方", "before": "灵工人员承担", "after": "企业承担"},
        ]
        assert amendment.reason == "月度付款量提升，费率下调"
        assert amendment.proposed_by == ops_user and amendment.proposed_at == now
        record = AuditRecord.objects.get(event="merchants.terms_amendment.proposed")
        assert record.before["fee_rate"] == "0.0600" and record.after["fee_rate"] == "0.0550"
        assert record.merchant_id == merchant.pk and record.after["number"] == amendment.number
        # nothing else changed, so no configuration change is recorded
        assert not AuditRecord.objects.filter(event="merchants.configuration.changed", merchant_id=merchant.pk,
                                              at=now, actor_id=ops_user.pk).exists()

    def test_the_enterprise_signers_are_told_by_sms(self, now, ops_user, merchant_signed,
                                                  django_capture_on_commit_callbacks):
        from accounts.models import SmsOutbox

        merchant, admin, _ = merchant_signed
        finance = EnterpriseUserFactory(merchant=merchant, role=Role.ENT_FINANCE, phone="13700000077")
        before = set(SmsOutbox.objects.values_list("pk", flat=True))
        with django_capture_on_commit_callbacks(execute=True):
            amendment = _propose(merchant, ops_user, now, fee_rate="0.0550").proposed_amendment
        sent = list(SmsOutbox.objects.exclude(pk__in=before))
        assert [sms.phone for sms in sent] == [admin.phone]  # the admin, who signs; not the finance staff
        assert finance.phone != admin.phone
        assert amendment.number in sent[0].body and "签署前仍按原约定计费" in sent[0].body

    def test_other_items_apply_at_once(self, now, ops_user, merchant_signed):
        merchant, _, _ = merchant_signed
        config = _propose(merchant, ops_user, now, fee_rate="0.0550", enabled_channels=["BANK", "ALIPAY"],
                          daily_limit_fen=100_000_000, require_budget_cover=True)
        seen = _config(merchant)
        assert seen.enabled_channels == ["BANK", "ALIPAY"] and seen.daily_limit_fen == 100_000_000
        assert seen.require_budget_cover is True and str(seen.fee_rate) == "0.0600"
        assert config.proposed_amendment.changes == {"fee_rate": {"before": "0.0600", "after": "0.0550"}}
        record = AuditRecord.objects.filter(event="merchants.configuration.changed", merchant_id=merchant.pk,
                                            actor_id=ops_user.pk).latest("seq")
        assert set(record.after) == {"enabled_channels", "daily_limit_fen", "require_budget_cover"}

    def test_before_signing_everything_applies_at_once(self, now, ops_user):
        application = approved(now, ops_user)
        config = _propose(application.merchant, ops_user, now, fee_rate="0.0550", fee_timing="DURING")
        assert config.proposed_amendment is None
        seen = _config(application.merchant)
        assert str(seen.fee_rate) == "0.0550" and seen.fee_timing == "DURING"
        assert not TermsAmendment.objects.exists()

    def test_the_same_terms_propose_nothing(self, now, ops_user, merchant_signed):
        merchant, _, _ = merchant_signed
        config = _propose(merchant, ops_user, now, fee_rate="0.06", fee_tiers=[], fee_bearer="MERCHANT",
                          single_payment_limit_fen=4_000_000)
        assert config.proposed_amendment is None and not TermsAmendment.objects.exists()
        assert _config(merchant).single_payment_limit_fen == 4_000_000

    def test_a_new_proposal_replaces_the_pending_one(self, now, ops_user, merchant_signed):
        merchant, _, _ = merchant_signed
        first = _propose(merchant, ops_user, now, fee_rate="0.0550").proposed_amendment
        # the admin form posts every field: editing a limit only leaves the pending amendment alone
        same = _propose(merchant, ops_user, now, fee_rate="0.0600", daily_limit_fen=90_000_000).proposed_amendment
        assert same is None
        again = _propose(merchant, ops_user, now, fee_rate="0.0550").proposed_amendment
        assert again.pk == first.pk  # proposing exactly what is pending keeps it
        second = _propose(merchant, ops_user, now + LATER, fee_rate="0.0500",
                          fee_tiers=[{"from_fen": 0, "rate": "0.05"}]).proposed_amendment
        first.refresh_from_db()
        assert first.status == TermsAmendment.Status.WITHDRAWN and first.withdrawn_at == now + LATER
        assert first.replaced_by == second
        assert second.status == TermsAmendment.Status.PENDING and second.number.endswith("02")
        assert TermsAmendment.objects.filter(merchant=merchant, status="PENDING").count() == 1
        assert AuditRecord.objects.filter(event="merchants.terms_amendment.replaced", subject_id=str(first.pk)).exists()
        assert [row["field"] for row in second.rows] == ["fee_rate", "fee_tiers"]
        assert second.rows[1]["before"] == "不分档（按服务费率）"
        assert second.rows[1]["after"] == "当月发放额达 0.00 元起 5.00%"


class TestSigning:
    def test_signing_applies_the_terms_with_a_sealed_pdf(self, now, ops_user, merchant_signed):
        merchant, admin, agreement = merchant_signed
        amendment = _propose(merchant, ops_user, now, fee_rate="0.0550", fee_minimum_fen=200).proposed_amendment
        plan = _config(merchant)
        assert fee_for_payment(plan, amount_fen=100_000).fee_fen == 6_000  # priced before signing: the old rate

        signed_amendment = _sign(merchant, admin, now + LATER)

        assert signed_amendment.pk == amendment.pk and signed_amendment.status == TermsAmendment.Status.SIGNED
        assert signed_amendment.signed_by == admin and signed_amendment.signed_at == now + LATER
        assert signed_amendment.signed_ip == "10.2.3.4" and signed_amendment.platform_signer
        plan = _config(merchant)
        assert str(plan.fee_rate) == "0.0550" and plan.fee_minimum_fen == 200
        fee = fee_for_payment(plan, amount_fen=100_000)  # a payment priced after signing
        assert fee.fee_fen == 5_500 and "5.50%" in fee.explanation
        assert fee_for_payment(plan, amount_fen=1_000).fee_fen == 200  # the new minimum

        _, content = selectors.terms_amendment_pdf(merchant=merchant, amendment_id=amendment.pk)
        assert hashlib.sha256(content).hexdigest() == signed_amendment.sha256 == signed_amendment.document.sha256
        assert signed_amendment.document.kind == MerchantDocument.Kind.AMENDMENT
        check = verify_pdf(content)
        assert check.ok and "电子签章" in check.signer
        text = _text(content)
        assert "补充协议" in text and amendment.number in text and agreement.number in text
        assert "6.00%" in text and "5.50%" in text and "2.00 元" in text and "月度付款量提升" in text
        assert merchant.name in text and "10.2.3.4" in text and "短信验证码" in text and "其他条款不变" in text

        changed = AuditRecord.objects.filter(event="merchants.configuration.changed", actor_id=admin.pk).get()
        assert changed.before == {"fee_rate": "0.0600", "fee_minimum_fen": 0}
        assert changed.after["fee_rate"] == "0.0550" and changed.after["amendment"] == amendment.number
        assert AuditRecord.objects.filter(event="merchants.terms_amendment.signed",
                                          subject_id=str(amendment.pk)).exists()
        assert ServiceAgreement.objects.get(pk=agreement.pk).status == "SIGNED"  # the agreement stays in force

    def test_wrong_or_expired_code_changes_nothing(self, now, ops_user, merchant_signed):
        merchant, admin, _ = merchant_signed
        amendment = _propose(merchant, ops_user, now).proposed_amendment
        code = services.terms_amendment_send_code(merchant=merchant, actor=admin, now=now + LATER).plain_code
        wrong = "000000" if code != "000000" else "111111"
        with pytest.raises(SmsCodeInvalid, match="验证码不正确"):
            services.terms_amendment_sign(merchant=merchant, actor=admin, code=wrong, now=now + LATER)
        with pytest.raises(SmsCodeExpired):
            services.terms_amendment_sign(merchant=merchant, actor=admin, code=code, now=now + LATER * 5)
        amendment.refresh_from_db()
        assert amendment.status == TermsAmendment.Status.PENDING and not amendment.document_id
        assert str(_config(merchant).fee_rate) == "0.0600"
        assert not MerchantDocument.objects.filter(kind=MerchantDocument.Kind.AMENDMENT).exists()

    def test_nothing_pending_is_a_clear_error(self, now, ops_user, merchant_signed):
        merchant, admin, _ = merchant_signed
        with pytest.raises(TermsAmendmentNotPending, match="没有待签署的补充协议"):
            services.terms_amendment_send_code(merchant=merchant, actor=admin, now=now + LATER)
        with pytest.raises(TermsAmendmentNotPending):
            services.terms_amendment_sign(merchant=merchant, actor=admin, code="123456", now=now + LATER)
        _propose(merchant, ops_user, now)
        _sign(merchant, admin, now + LATER)
        with pytest.raises(TermsAmendmentNotPending):  # signed once: nothing left to sign
            services.terms_amendment_sign(merchant=merchant, actor=admin, code="123456", now=now + LATER * 2)

    def test_only_the_enterprise_admin_signs(self, now, ops_user, merchant_signed):
        merchant, _, _ = merchant_signed
        _propose(merchant, ops_user, now)
        finance = EnterpriseUserFactory(merchant=merchant, role=Role.ENT_FINANCE)
        with pytest.raises(RoleRequired):
            services.terms_amendment_send_code(merchant=merchant, actor=finance, now=now + LATER)


class TestWithdraw:
    def test_operations_withdraw_a_pending_amendment(self, now, ops_user, merchant_signed):
        merchant, admin, _ = merchant_signed
        amendment = _propose(merchant, ops_user, now).proposed_amendment
        services.terms_amendment_withdraw(amendment=amendment, actor=ops_user, now=now + LATER)
        amendment.refresh_from_db()
        assert amendment.status == TermsAmendment.Status.WITHDRAWN and amendment.withdrawn_at == now + LATER
        assert AuditRecord.objects.filter(event="merchants.terms_amendment.withdrawn").exists()
        with pytest.raises(TermsAmendmentNotPending, match="不能撤回"):
            services.terms_amendment_withdraw(amendment=amendment, actor=ops_user, now=now + LATER)
        with pytest.raises(TermsAmendmentNotPending):
            services.terms_amendment_send_code(merchant=merchant, actor=admin, now=now + LATER)
        assert str(_config(merchant).fee_rate) == "0.0600"
        # a new proposal afterwards is a new record; the withdrawn one is kept
        fresh = _propose(merchant, ops_user, now + LATER, fee_rate="0.0580").proposed_amendment
        assert fresh.pk != amendment.pk and TermsAmendment.objects.filter(merchant=merchant).count() == 2

    def test_closing_the_account_withdraws_it(self, now, ops_user, merchant_signed):
        merchant, _, _ = merchant_signed
        amendment = _propose(merchant, ops_user, now).proposed_amendment
        services.merchant_close(merchant=merchant, actor=ops_user, now=now + LATER, reason="测试")
        amendment.refresh_from_db()
        assert amendment.status == TermsAmendment.Status.WITHDRAWN


class TestPortal:
    def _client(self, user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def test_the_pending_card_and_signing_through_the_pages(self, now, ops_user, merchant_signed):
        merchant, admin, _ = merchant_signed
        amendment = _propose(merchant, ops_user, now).proposed_amendment
        client = self._client(admin)
        assert "签署补充协议" in client.get("/enterprise/").content.decode()
        account = client.get("/enterprise/account/").content.decode()
        assert "待贵司签署补充协议" in account and amendment.number in account
        page = client.get("/enterprise/agreement/").content.decode()
        assert "服务费等商务条款变更，待您签署补充协议" in page and amendment.number in page
        assert "6.00%" in page and "5.50%" in page and "月度付款量提升" in page
        assert "/enterprise/agreement/amendment/sign/" in page
        preview = client.get("/enterprise/agreement/amendment/preview.pdf")
        assert preview.status_code == 200 and preview["Content-Type"] == "application/pdf"
        assert "（待签署）" in _text(preview.content)

        response = client.post("/enterprise/agreement/amendment/sign/", {"code": "123456"}, follow=True)
        assert "勾选同意补充协议" in response.content.decode()
        response = client.post("/enterprise/agreement/amendment/code/", follow=True)
        code = re.search(r"演示沙箱短信：(\d{6})", response.content.decode()).group(1)
        response = client.post("/enterprise/agreement/amendment/sign/", {"code": code, "agree": "on"}, follow=True)
        body = response.content.decode()
        assert f"补充协议 {amendment.number} 已签署" in body
        assert "待您签署补充协议" not in body and "已签署的补充协议" in body
        assert str(_config(merchant).fee_rate) == "0.0550"
        download = client.get(f"/enterprise/amendments/{amendment.pk}/pdf/")
        assert download.status_code == 200 and download.content.startswith(b"%PDF")
        amendment.refresh_from_db()
        assert hashlib.sha256(download.content).hexdigest() == amendment.sha256
        assert "待贵司签署补充协议" not in client.get("/enterprise/account/").content.decode()
        assert client.get("/enterprise/agreement/amendment/preview.pdf").status_code == 404

    def test_staff_who_cannot_sign_see_who_signs(self, now, ops_user, merchant_signed):
        merchant, _, _ = merchant_signed
        _propose(merchant, ops_user, now)
        finance = EnterpriseUserFactory(merchant=merchant, role=Role.ENT_FINANCE)
        client = self._client(finance)
        page = client.get("/enterprise/agreement/").content.decode()
        assert "待您签署补充协议" in page and "补充协议由企业管理员签署" in page
        assert "/enterprise/agreement/amendment/sign/" not in page
        assert client.post("/enterprise/agreement/amendment/code/").status_code == 403

    def test_another_enterprise_cannot_download_it(self, now, ops_user, merchant_signed):
        merchant, admin, _ = merchant_signed
        amendment = _propose(merchant, ops_user, now).proposed_amendment
        _sign(merchant, admin, now + LATER)
        amendment.refresh_from_db()
        _other, other_admin, _ = signed(now, ops_user, company_name="北京云测数据科技有限公司")
        client = self._client(other_admin)
        assert client.get(f"/enterprise/amendments/{amendment.pk}/pdf/").status_code == 404
        assert client.get(f"/enterprise/documents/{amendment.document_id}/").status_code == 404
        assert amendment.number not in client.get("/enterprise/agreement/").content.decode()
        assert self._client(admin).get(f"/enterprise/amendments/{amendment.pk}/pdf/").status_code == 200

    def test_the_page_in_english(self, now, ops_user, merchant_signed):
        merchant, admin, _ = merchant_signed
        amendment = _propose(merchant, ops_user, now, fee_rate="0.0550", tax_bearer="MERCHANT").proposed_amendment
        client = self._client(admin)
        client.post("/i18n/setlang/", {"language": "en", "next": "/"})
        page = client.get("/enterprise/agreement/").content.decode()
        assert "supplementary agreement" in page.lower() and amendment.number in page
        assert "<td>Fee rate</td><td>6.00%</td><td><strong>5.50%</strong></td>" in page
        assert "<td>Worker</td><td><strong>Enterprise</strong></td>" in page and "<td>服务费率</td>" not in page
        assert "supplementary agreement" in client.get("/enterprise/account/").content.decode().lower()
        # the document itself stays Chinese
        assert "补充协议" in _text(client.get("/enterprise/agreement/amendment/preview.pdf").content)


class TestAdmin:
    @pytest.fixture
    def admin_client(self, ops_user, monkeypatch):
        from django.contrib import admin

        ops_user.is_superuser = True
        ops_user.save()
        monkeypatch.setattr(admin.site, "has_permission",
                            lambda request: request.user.is_active and request.user.is_staff)
        client = Client()
        client.force_login(ops_user)
        return client

    def test_saving_terms_in_the_admin_tells_the_operator_and_withdraw_works(self, now, ops_user, admin_client,
                                                                             merchant_signed):
        merchant, _, _ = merchant_signed
        config = MerchantConfiguration.objects.get(merchant=merchant)
        data = {"merchant": merchant.pk, "fee_rate": "0.0550", "fee_fixed_fen": "0", "fee_minimum_fen": "0",
                "fee_tiers": "[]", "fee_bearer": "MERCHANT", "fee_timing": "BEFORE", "tax_bearer": "WORKER",
                "enabled_channels": '["BANK", "WECHAT"]', "single_payment_limit_fen": "5000000",
                "worker_monthly_limit_fen": "9500000", "daily_limit_fen": "500000000",
                "second_approval_threshold_fen": "10000000", "amendment_reason": "费率下调"}
        response = admin_client.post(f"/ops/merchants/merchantconfiguration/{config.pk}/change/", data, follow=True)
        assert response.status_code == 200
        amendment = TermsAmendment.objects.get(merchant=merchant, status="PENDING")
        body = response.content.decode()
        assert f"补充协议 {amendment.number} 后才生效" in body
        assert amendment.reason == "费率下调"
        config.refresh_from_db()
        assert str(config.fee_rate) == "0.0600" and config.enabled_channels == ["BANK", "WECHAT"]
        page = admin_client.get(f"/ops/merchants/merchantconfiguration/{config.pk}/change/").content.decode()
        assert amendment.number in page
        listing = admin_client.get("/ops/merchants/termsamendment/")
        assert listing.status_code == 200 and amendment.number in listing.content.decode()
        assert admin_client.get(f"/ops/merchants/termsamendment/{amendment.pk}/change/").status_code == 200
        response = admin_client.post("/ops/merchants/termsamendment/",
                                     {"action": "withdraw_selected", "_selected_action": [amendment.pk]})
        assert response.status_code == 302
        amendment.refresh_from_db()
        assert amendment.status == TermsAmendment.Status.WITHDRAWN


def test_the_cjk_font_has_a_glyph_for_every_character_of_the_amendment(now, ops_user, merchant_signed):
    """A character missing from the CJK font of documents/base.html would print as an empty box."""
    import shutil
    import subprocess

    from django.conf import settings
    from django.template.loader import render_to_string
    from django.utils.html import strip_tags
    from fontTools.ttLib import TTCollection

    from merchants.documents import AMENDMENT_TEMPLATES

    fc_match = shutil.which("fc-match")
    if fc_match is None:
        pytest.skip("fontconfig is not installed")
    path = subprocess.run([fc_match, "-f", "%{file}", "WenQuanYi Micro Hei"], capture_output=True, text=True,
                          check=True).stdout
    if "wqy" not in path:
        pytest.skip("the CJK font of documents/base.html is not installed")
    cmap = TTCollection(path).fonts[0].getBestCmap()
    merchant, _, agreement = merchant_signed
    amendment = _propose(merchant, ops_user, now, fee_rate="0.0550", fee_fixed_fen=100, fee_minimum_fen=50,
                         fee_tiers=[{"from_fen": 0, "rate": "0.06"}, {"from_fen": 100_000_000, "rate": "0.05"}],
                         fee_bearer="WORKER", fee_timing="AFTER", tax_bearer="MERCHANT").proposed_amendment
    html = render_to_string(AMENDMENT_TEMPLATES[amendment.template_version], {
        "amendment": amendment, "agreement": agreement, "rows": amendment.rows,
        "party": {"name": merchant.name, "uscc": merchant.uscc, "legal_rep_name": "张伟", "registered_address": "天津"},
        "PLATFORM_LEGAL_NAME": settings.PLATFORM_LEGAL_NAME, "PLATFORM_USCC": settings.PLATFORM_USCC,
        "signed_local": now, "agreement_signed_local": now,
        "consent": {"signer_label": agreement.signer_label, "ip": "10.0.0.9", "phone_masked": "138****5678"}})
    body = re.sub(r"(?s)<style>.*?</style>|<title>.*?</title>", "", html)
    missing = {char for char in re.sub(r"\s", "", strip_tags(body)) if ord(char) not in cmap}
    assert not missing


def test_the_demo_leaves_a_fee_change_for_kuaisong_to_sign(now):
    from accounts.demo import load as load_accounts
    from merchants import demo

    load_accounts(now=now)
    lines = demo.load(now=now)
    kuaisong = TermsAmendment.objects.get().merchant
    amendment = TermsAmendment.objects.get(merchant=kuaisong, status="PENDING")
    assert amendment.changes["fee_rate"] == {"before": "0.0600", "after": "0.0550"}
    assert amendment.reason == "月度付款量提升，费率下调" and kuaisong.name == "天津快送同城配送有限公司"
    assert str(_config(kuaisong).fee_rate) == "0.0600"  # not in force until kuaisong_admin signs
    assert any(amendment.number in line for line in lines)
    demo.load(now=now + LATER)
    assert TermsAmendment.objects.count() == 1
    admin = kuaisong.application.applicant
    _sign(kuaisong, admin, now + LATER * 2)
    demo.load(now=now + LATER * 3)  # signed: a re-run proposes nothing again
    assert TermsAmendment.objects.count() == 1 and str(_config(kuaisong).fee_rate) == "0.0550"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_signature_racing_a_replacement_applies_one_set_of_terms(now):
    """The admin signs while operations replace the amendment: either the signature wins (its terms apply, the new
    proposal is made against them) or the replacement wins (the signature is refused, nothing applies)."""
    from core.exceptions import DomainError
    from core.testing.concurrency import race
    from core.testing.factories import UserFactory

    ops_user = UserFactory()
    merchant, admin, _ = signed(now, ops_user)
    first = _propose(merchant, ops_user, now, fee_rate="0.0550").proposed_amendment
    code = services.terms_amendment_send_code(merchant=merchant, actor=admin, now=now + LATER).plain_code

    def sign():
        return services.terms_amendment_sign(merchant=merchant, actor=admin, code=code, now=now + LATER)

    def replace():
        return _propose(merchant, ops_user, now + LATER, fee_minimum_fen=300).proposed_amendment

    results = race(sign, replace)
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)], results
    first.refresh_from_db()
    config = _config(merchant)
    assert TermsAmendment.objects.filter(merchant=merchant, status="PENDING").count() == 1
    if first.status == TermsAmendment.Status.SIGNED:
        assert str(config.fee_rate) == "0.0550"
        assert MerchantDocument.objects.filter(merchant=merchant, kind="AMENDMENT").count() == 1
    else:
        assert first.status == TermsAmendment.Status.WITHDRAWN and isinstance(results[0], TermsAmendmentNotPending)
        assert str(config.fee_rate) == "0.0600"
        assert not MerchantDocument.objects.filter(merchant=merchant, kind="AMENDMENT").exists()
    assert config.fee_minimum_fen == 0  # the replacement waits for its own signature either way


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_code_signs_the_amendment_once_when_submitted_twice(now):
    from core.testing.concurrency import race
    from core.testing.factories import UserFactory

    ops_user = UserFactory()
    merchant, admin, _ = signed(now, ops_user)
    _propose(merchant, ops_user, now)
    code = services.terms_amendment_send_code(merchant=merchant, actor=admin, now=now + LATER).plain_code

    def sign():
        return services.terms_amendment_sign(merchant=merchant, actor=admin, code=code, now=now + LATER)

    results = race(sign, sign)
    assert sum(isinstance(r, TermsAmendment) for r in results) == 1
    assert TermsAmendment.objects.get(merchant=merchant).status == TermsAmendment.Status.SIGNED
    assert MerchantDocument.objects.filter(merchant=merchant, kind="AMENDMENT").count() == 1
    assert AuditRecord.objects.filter(event="merchants.terms_amendment.signed").count() == 1
