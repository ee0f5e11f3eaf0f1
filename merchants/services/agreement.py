"""服务协议: issue (terms fixed from the configuration), send the signing code, sign (SMS consent + platform seal)."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Kind, SmsCode
from accounts.permissions import require_capability
from accounts.services import sms_code_send, sms_code_verify
from core import audit
from core.pii import mask_phone
from core.signing import sign_pdf
from merchants import locks
from merchants.documents import CURRENT_TEMPLATE_VERSION, agreement_terms, render_service_agreement
from merchants.exceptions import AgreementAlreadySigned, AgreementNotSignable
from merchants.models import Merchant, MerchantConfiguration, MerchantDocument, ServiceAgreement
from merchants.selectors import merchant_configuration

DOCUMENT_TITLE = "共享经济综合服务协议"


def _number(merchant: Merchant, now) -> str:
    count = ServiceAgreement.objects.filter(merchant=merchant).count() + 1
    return f"FW{now:%Y%m%d}{merchant.pk:06d}{count:02d}"


@transaction.atomic
def service_agreement_issue(*, merchant: Merchant, actor, now) -> ServiceAgreement:
    """Issue the agreement to be signed, with the current configuration's fees as its terms (one pending at a time:
    an unsigned one is replaced). Raises AgreementAlreadySigned when a signed one is in force."""
    if ServiceAgreement.objects.filter(merchant=merchant, status=ServiceAgreement.Status.SIGNED).exists():
        raise AgreementAlreadySigned(_("该企业的服务协议已签署生效，无需重复签署"))
    config = merchant_configuration(merchant=merchant)
    if config.pk is None:
        config = MerchantConfiguration.objects.create(merchant=merchant)
    for old in ServiceAgreement.objects.filter(merchant=merchant, status=ServiceAgreement.Status.PENDING):
        old.terminate(at=now)
        old.save()
    agreement = ServiceAgreement.objects.create(
        merchant=merchant, number=_number(merchant, now), template_version=CURRENT_TEMPLATE_VERSION,
        terms=agreement_terms(merchant=merchant, config=config), issued_at=now,
    )
    audit.record(event="merchants.agreement.issued", now=now, actor=actor, subject=agreement,
                 after={"number": agreement.number, "version": agreement.template_version,
                        "fee_rate": agreement.terms["fee_rate"]})
    return agreement


def _pending_agreement(merchant: Merchant) -> ServiceAgreement:
    agreement = (ServiceAgreement.objects.filter(merchant=merchant, status=ServiceAgreement.Status.PENDING)
                 .order_by("-id").first())
    if agreement is not None:
        return agreement
    signed = ServiceAgreement.objects.filter(merchant=merchant, status=ServiceAgreement.Status.SIGNED).first()
    if signed is not None:
        raise AgreementAlreadySigned(_("服务协议 {number} 已于 {signed_at:%Y-%m-%d %H:%M} 签署，不能重复签署").format(number=signed.number, signed_at=signed.signed_at))
    raise AgreementNotSignable(_("当前没有待签署的服务协议：入驻申请审核通过后才能签署"))


def _require_signer(actor, merchant: Merchant) -> None:
    require_capability(actor, "sign_agreements")
    if actor.kind != Kind.ENTERPRISE or actor.merchant_id != merchant.pk:
        raise AgreementNotSignable(_("只有本企业的管理员可以签署服务协议"))
    if not actor.phone:
        raise AgreementNotSignable(_("您的账号未绑定手机号，无法接收签署验证码，请联系客服"))


def signer_consent(actor, *, now, ip: str) -> tuple[str, dict]:
    """The signer's label (masked name, username, role) and the consent block printed in a signed document."""
    label = f"{actor.name_masked}（{actor.username}，{actor.get_role_display()}）"
    return label, {"signer_label": label, "signed_at": now, "ip": ip or "未知", "phone_masked": mask_phone(actor.phone)}


def store_sealed(signed, *, merchant: Merchant, kind: str, title: str, sealed, actor) -> None:
    """Keep the platform-sealed PDF of a document the enterprise has just signed (``signed``: a ``SignedByEnterprise``
    whose transition to SIGNED has run) as a MerchantDocument, and save the document with its hash and seal."""
    document = MerchantDocument(merchant=merchant, kind=kind, content_type="application/pdf", size=len(sealed.content),
                                sha256=sealed.sha256, original_name=f"{title}-{signed.number}.pdf", uploaded_by=actor)
    document.file.save(f"{signed.number}.pdf", ContentFile(sealed.content), save=False)
    document.save()
    signed.document, signed.sha256, signed.platform_signer = document, sealed.sha256, sealed.signer
    signed.save()


def service_agreement_send_code(*, merchant: Merchant, actor, now, ip: str = "") -> SmsCode:
    """Send the signing code to the enterprise admin's phone. Raises AgreementNotSignable, AgreementAlreadySigned,
    RoleRequired, SmsCodeTooSoon, RateLimited."""
    _require_signer(actor, merchant)
    _pending_agreement(merchant)
    return sms_code_send(phone=actor.phone, purpose=SmsCode.Purpose.SIGN, now=now, ip=ip,
                         params={"document": DOCUMENT_TITLE})


def service_agreement_sign(*, merchant: Merchant, actor, code: str, now, ip: str = "") -> ServiceAgreement:
    """The enterprise admin signs with the SMS code; the platform seals the PDF (pyHanko); the hash, signer, time and
    IP are recorded and the accounts are opened (开立账户).

    Order: state checks, then the code (a wrong code changes nothing), then the PDF is rendered and sealed outside any
    lock, then one transaction records it and opens the accounts.
    Raises AgreementAlreadySigned, AgreementNotSignable, RoleRequired, SmsCodeInvalid, SmsCodeExpired.
    """
    merchant = Merchant.objects.get(pk=merchant.pk)  # the caller's copy may be stale
    _require_signer(actor, merchant)
    agreement = _pending_agreement(merchant)
    if merchant.status != Merchant.Status.APPROVED:
        raise AgreementNotSignable(_("企业状态为“{status}”，不能签署服务协议").format(status=merchant.get_status_display()))
    sms_code_verify(phone=actor.phone, purpose=SmsCode.Purpose.SIGN, code=code, now=now)
    label, consent = signer_consent(actor, now=now, ip=ip)
    rendered = render_service_agreement(agreement, consent=consent)
    sealed = sign_pdf(rendered.content, reason=f"{DOCUMENT_TITLE} {agreement.number} 平台电子签章")
    from merchants.services.account import merchant_account_open

    with transaction.atomic():
        locked_merchant = locks.merchant_for_update(merchant_id=merchant.pk)
        agreement = locks.agreement_for_update(agreement_id=agreement.pk)
        if agreement.status != ServiceAgreement.Status.PENDING:
            raise AgreementAlreadySigned(_("服务协议 {number} 已签署，不能重复签署").format(number=agreement.number))
        agreement.sign(by=actor, at=now, ip=ip, label=label)
        store_sealed(agreement, merchant=locked_merchant, kind=MerchantDocument.Kind.AGREEMENT, title="服务协议",
                     sealed=sealed, actor=actor)
        locked_merchant.sign(at=now)
        locked_merchant.save()
        audit.record(event="merchants.agreement.signed", now=now, actor=actor, subject=agreement, ip=ip,
                     after={"number": agreement.number, "sha256": sealed.sha256, "platform_signer": sealed.signer,
                            "signer": actor.username})
        merchant_account_open(merchant=locked_merchant, actor=actor, now=now)
    return agreement
