import datetime as dt
import io

import pytest
from pypdf import PdfReader

from accounts.exceptions import RoleRequired, SmsCodeExpired, SmsCodeInvalid
from accounts.models import Role
from core.exceptions import NotFound
from core.signing import verify_pdf
from core.testing.factories import EnterpriseUserFactory
from merchants import selectors, services
from merchants.exceptions import AgreementAlreadySigned, AgreementNotSignable
from merchants.models import Merchant, MerchantDocument, ServiceAgreement
from tests.merchants.conftest import approved, sign_code, signed

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


class TestSigning:
    def test_signed_pdf_names_the_company_and_fees_and_verifies(self, now, ops_user):
        application = approved(now, ops_user)
        services.merchant_configuration_set(merchant=application.merchant, actor=ops_user, now=now,
                                            fee_rate="0.0550", fee_fixed_fen=150, fee_minimum_fen=200)
        # the terms are fixed when the agreement is issued: a new configuration needs a new agreement
        pending = ServiceAgreement.objects.get(merchant=application.merchant)
        assert pending.terms["fee_rate_percent"] == "6.00%"
        fresh = services.service_agreement_issue(merchant=application.merchant, actor=ops_user, now=now)
        assert fresh.terms["fee_rate_percent"] == "5.50%"
        merchant, admin = application.merchant, application.applicant
        agreement = services.service_agreement_sign(merchant=merchant, actor=admin, code=sign_code(merchant, admin, now),
                                                    now=now, ip="10.1.2.3")
        assert agreement.pk == fresh.pk and agreement.status == ServiceAgreement.Status.SIGNED
        _, content = selectors.agreement_pdf(merchant=merchant, agreement_id=agreement.pk)
        text = _text(content)
        assert "天津快送同城配送有限公司" in text
        assert "5.50%" in text and "1.50 元" in text and "2.00 元" in text
        assert "个人信息保护" in text and "发票" in text and "协议期限" in text and "终止" in text
        assert "10.1.2.3" in text and "短信验证码" in text
        check = verify_pdf(content)
        assert check.ok and "电子签章" in check.signer
        import hashlib

        assert agreement.sha256 == hashlib.sha256(content).hexdigest()
        assert agreement.signed_by == admin and agreement.signed_ip == "10.1.2.3" and agreement.signed_at == now
        assert agreement.platform_signer

    def test_signing_opens_the_accounts_and_the_topup_reference(self, now, ops_user):
        merchant, _, _ = signed(now, ops_user)
        assert merchant.status == Merchant.Status.ACTIVE and merchant.activated_at == now
        from ledger.selectors import merchant_accounts

        assert {a.kind for a in merchant_accounts(merchant=merchant)} >= {"MERCHANT_AVAILABLE", "MERCHANT_FROZEN"}
        topup = selectors.topup_account(merchant=merchant)
        assert topup is not None and topup.account_number

    def test_wrong_code_changes_nothing(self, now, ops_user):
        application = approved(now, ops_user)
        merchant, admin = application.merchant, application.applicant
        code = sign_code(merchant, admin, now)
        wrong = "000000" if code != "000000" else "111111"
        with pytest.raises(SmsCodeInvalid, match="验证码不正确"):
            services.service_agreement_sign(merchant=merchant, actor=admin, code=wrong, now=now)
        merchant.refresh_from_db()
        assert merchant.status == Merchant.Status.APPROVED
        assert ServiceAgreement.objects.get(merchant=merchant).status == "PENDING"
        assert not MerchantDocument.objects.filter(kind="AGREEMENT").exists()
        # the right code still works afterwards
        services.service_agreement_sign(merchant=merchant, actor=admin, code=code, now=now)

    def test_expired_code_is_refused(self, now, ops_user):
        application = approved(now, ops_user)
        merchant, admin = application.merchant, application.applicant
        code = sign_code(merchant, admin, now)
        with pytest.raises(SmsCodeExpired, match="已过期"):
            services.service_agreement_sign(merchant=merchant, actor=admin, code=code,
                                            now=now + dt.timedelta(minutes=6))
        assert ServiceAgreement.objects.get(merchant=merchant).status == "PENDING"

    def test_signing_twice_is_refused_and_keeps_the_first_signature(self, now, ops_user):
        merchant, admin, agreement = signed(now, ops_user)
        with pytest.raises(AgreementAlreadySigned, match="不能重复签署"):
            services.service_agreement_send_code(merchant=merchant, actor=admin, now=now + dt.timedelta(minutes=2))
        with pytest.raises(AgreementAlreadySigned):
            services.service_agreement_sign(merchant=merchant, actor=admin, code="123456",
                                            now=now + dt.timedelta(minutes=2))
        assert ServiceAgreement.objects.filter(merchant=merchant, status="SIGNED").count() == 1
        assert MerchantDocument.objects.filter(merchant=merchant, kind="AGREEMENT").count() == 1
        agreement.refresh_from_db()
        assert agreement.signed_at == now

    def test_only_the_enterprise_admin_signs(self, now, ops_user):
        application = approved(now, ops_user)
        finance = EnterpriseUserFactory(merchant=application.merchant, role=Role.ENT_FINANCE)
        with pytest.raises(RoleRequired):
            services.service_agreement_send_code(merchant=application.merchant, actor=finance, now=now)
        stranger = EnterpriseUserFactory(role=Role.ENT_ADMIN, phone="13900000001")
        with pytest.raises(AgreementNotSignable):
            services.service_agreement_sign(merchant=application.merchant, actor=stranger, code="123456", now=now)

    def test_nothing_to_sign_before_approval(self, now, merchant):
        admin = EnterpriseUserFactory(merchant=merchant, phone="13900000002")
        with pytest.raises(AgreementNotSignable, match="审核通过后"):
            services.service_agreement_send_code(merchant=merchant, actor=admin, now=now)


class TestIsolation:
    def test_another_enterprise_cannot_see_the_agreement(self, now, ops_user, other_merchant):
        merchant, _, agreement = signed(now, ops_user)
        with pytest.raises(NotFound):
            selectors.agreement_pdf(merchant=other_merchant, agreement_id=agreement.pk)
        with pytest.raises(NotFound):
            selectors.document_get(merchant=other_merchant, document_id=agreement.document_id)
        assert list(selectors.agreement_list(merchant=other_merchant)) == []
        assert selectors.agreement_pdf(merchant=merchant, agreement_id=agreement.pk)[0] == agreement


def test_the_cjk_font_has_a_glyph_for_every_character_of_the_agreement(now, ops_user):
    """A character missing from the CJK font of documents/base.html would print as an empty box."""
    import re
    import shutil
    import subprocess

    from django.conf import settings
    from django.template.loader import render_to_string
    from django.utils.html import strip_tags
    from fontTools.ttLib import TTCollection

    from merchants.documents import TEMPLATES

    fc_match = shutil.which("fc-match")
    if fc_match is None:
        pytest.skip("fontconfig is not installed")
    path = subprocess.run([fc_match, "-f", "%{file}", "WenQuanYi Micro Hei"], capture_output=True, text=True,
                          check=True).stdout
    if "wqy" not in path:
        pytest.skip("the CJK font of documents/base.html is not installed")
    cmap = TTCollection(path).fonts[0].getBestCmap()
    merchant, admin, agreement = signed(now, ops_user)
    html = render_to_string(TEMPLATES[agreement.template_version], {
        "agreement": agreement, "terms": agreement.terms, "PLATFORM_LEGAL_NAME": settings.PLATFORM_LEGAL_NAME,
        "PLATFORM_USCC": settings.PLATFORM_USCC, "signed_local": now, "term_end": now,
        "consent": {"signer_label": agreement.signer_label, "ip": "10.0.0.9", "phone_masked": "138****5678"}})
    body = re.sub(r"(?s)<style>.*?</style>|<title>.*?</title>", "", html)
    missing = {char for char in re.sub(r"\s", "", strip_tags(body)) if ord(char) not in cmap}
    assert not missing
