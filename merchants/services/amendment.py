"""补充协议: commercial terms changed after the service agreement is signed apply only once the enterprise signs them.

Operations propose through ``merchant_configuration_set`` (the terms fields are held back and a pending amendment is
made); the enterprise admin signs with an SMS code, the platform seals the PDF and the new terms are written into the
configuration in the same transaction; operations may withdraw a pending one. Terms fields: ``TERMS_FIELDS``.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import SmsCode
from accounts.services import sms_code_send, sms_code_verify
from core import audit
from core.signing import sign_pdf
from merchants import locks
from merchants.documents import (
    AMENDMENT_TEMPLATE_VERSION,
    TERMS_FIELDS,
    render_terms_amendment,
    terms_rows_for_document,
)
from merchants.exceptions import TermsAmendmentNotPending
from merchants.models import Merchant, MerchantConfiguration, MerchantDocument, ServiceAgreement, TermsAmendment
from merchants.services.agreement import _require_signer, signer_consent, store_sealed

DOCUMENT_TITLE = "共享经济综合服务协议补充协议"
RATE_PLACES = Decimal("0.0001")


def terms_value(name: str, value):
    """A term as kept in ``TermsAmendment.changes`` (JSON): the configuration value, the rate as "0.0550"."""
    if name == "fee_rate":
        return str(Decimal(str(value)).quantize(RATE_PLACES))
    if name == "fee_tiers":
        return [{"from_fen": int(tier["from_fen"]), "rate": str(tier["rate"])} for tier in (value or [])]
    return value


def _same(name: str, current, proposed) -> bool:
    if name == "fee_rate":
        return Decimal(str(current)) == Decimal(str(proposed))
    if name == "fee_tiers":
        def norm(tiers):
            return [(int(tier["from_fen"]), Decimal(str(tier["rate"]))) for tier in (tiers or [])]

        return norm(current) == norm(proposed)
    return current == proposed


def terms_changes(config: MerchantConfiguration, values: dict) -> dict:
    """{field: {"before", "after"}} of the terms in ``values`` (cleaned) that differ from ``config``."""
    return {name: {"before": terms_value(name, getattr(config, name)), "after": terms_value(name, values[name])}
            for name in TERMS_FIELDS
            if name in values and not _same(name, getattr(config, name), values[name])}


def signed_agreement(merchant: Merchant) -> ServiceAgreement | None:
    return ServiceAgreement.objects.filter(merchant=merchant, status=ServiceAgreement.Status.SIGNED).first()


def _number(merchant: Merchant, now) -> str:
    count = TermsAmendment.objects.filter(merchant=merchant).count() + 1
    return f"BC{now:%Y%m%d}{merchant.pk:06d}{count:02d}"


def terms_amendment_propose(*, merchant: Merchant, agreement: ServiceAgreement, config: MerchantConfiguration,
                            values: dict, actor, now, reason: str = "") -> TermsAmendment | None:
    """Propose a 补充协议 for the terms in ``values`` (cleaned by ``merchant_configuration_set``, which calls this in
    its transaction with the merchant row locked). A pending one is withdrawn and points to its replacement.

    Returns the pending amendment, or None when the values equal the terms in force. Proposing again exactly what is
    pending keeps the pending one (the enterprise may already be reading it).
    """
    changes = terms_changes(config, values)
    if not changes:
        return None
    pending = (TermsAmendment.objects.select_for_update()
               .filter(merchant=merchant, status=TermsAmendment.Status.PENDING).first())
    if pending is not None and pending.changes == changes and pending.agreement_id == agreement.pk:
        return pending
    if pending is not None:
        pending.withdraw(at=now)
        pending.save()
    amendment = TermsAmendment.objects.create(
        merchant=merchant, number=_number(merchant, now), agreement=agreement,
        template_version=AMENDMENT_TEMPLATE_VERSION, changes=changes, rows=terms_rows_for_document(changes),
        reason=(reason or "").strip(), proposed_by=actor, proposed_at=now,
    )
    if pending is not None:
        pending.replaced_by = amendment
        pending.save(update_fields=["replaced_by", "updated_at"])
        audit.record(event="merchants.terms_amendment.replaced", now=now, actor=actor, subject=pending,
                     after={"number": pending.number, "replaced_by": amendment.number})
    _notify_signers(merchant, amendment, now=now)
    audit.record(event="merchants.terms_amendment.proposed", now=now, actor=actor, subject=amendment,
                 before={name: change["before"] for name, change in changes.items()},
                 after={**{name: change["after"] for name, change in changes.items()}, "number": amendment.number,
                        "agreement": agreement.number, "reason": amendment.reason})
    return amendment


def _notify_signers(merchant: Merchant, amendment: TermsAmendment, *, now) -> None:
    """An SMS to each active user of the enterprise who can sign (after the proposal commits): what is waiting, where
    to sign it, and that the terms in force apply until then. The message names no figure (the portal shows them)."""
    from accounts.models import User
    from accounts.permissions import can
    from accounts.services import sms_send

    text = (f"{merchant.name}：平台拟调整贵司服务费等商务条款（补充协议 {amendment.number}），请登录企业端“服务协议”"
            f"查看并签署；签署前仍按原约定计费。")
    for user in User.objects.filter(merchant=merchant, is_active=True).exclude(phone_index=None).order_by("id"):
        if user.phone and can(user, "sign_agreements"):
            sms_send(phone=user.phone, template="notice", params={"text": text}, now=now)


def terms_amendment_pending(*, merchant: Merchant) -> TermsAmendment:
    """The amendment waiting for the enterprise's signature. Raises TermsAmendmentNotPending."""
    amendment = (TermsAmendment.objects.for_tenant(merchant).select_related("agreement")
                 .filter(status=TermsAmendment.Status.PENDING).first())
    if amendment is None:
        raise TermsAmendmentNotPending(_("当前没有待签署的补充协议"))
    return amendment


def terms_amendment_send_code(*, merchant: Merchant, actor, now, ip: str = "") -> SmsCode:
    """Send the signing code to the enterprise admin's phone. Raises TermsAmendmentNotPending, AgreementNotSignable,
    RoleRequired, SmsCodeTooSoon, RateLimited."""
    _require_signer(actor, merchant)
    terms_amendment_pending(merchant=merchant)
    return sms_code_send(phone=actor.phone, purpose=SmsCode.Purpose.SIGN, now=now, ip=ip,
                         params={"document": DOCUMENT_TITLE})


def terms_amendment_sign(*, merchant: Merchant, actor, code: str, now, ip: str = "") -> TermsAmendment:
    """The enterprise admin signs the pending 补充协议 with the SMS code; the platform seals the PDF; the new terms are
    written into the configuration and apply from ``now`` (payments priced afterwards).

    Order as for the service agreement: state checks, then the code (a wrong code changes nothing), then the PDF is
    rendered and sealed outside any lock, then one transaction (merchant row first) records the signature and
    applies the terms. Raises TermsAmendmentNotPending, AgreementNotSignable, RoleRequired, SmsCodeInvalid,
    SmsCodeExpired.
    """
    merchant = Merchant.objects.get(pk=merchant.pk)  # the caller's copy may be stale
    _require_signer(actor, merchant)
    amendment = terms_amendment_pending(merchant=merchant)
    if amendment.agreement.status != ServiceAgreement.Status.SIGNED:
        raise TermsAmendmentNotPending(_("补充协议 {number} 所补充的服务协议已终止，不能签署").format(number=amendment.number))
    sms_code_verify(phone=actor.phone, purpose=SmsCode.Purpose.SIGN, code=code, now=now)
    label, consent = signer_consent(actor, now=now, ip=ip)
    rendered = render_terms_amendment(amendment, consent=consent)
    sealed = sign_pdf(rendered.content, reason=f"{DOCUMENT_TITLE} {amendment.number} 平台电子签章")

    with transaction.atomic():
        locked_merchant = locks.merchant_for_update(merchant_id=merchant.pk)
        amendment = locks.amendment_for_update(amendment_id=amendment.pk)
        if amendment.status != TermsAmendment.Status.PENDING:
            raise TermsAmendmentNotPending(
                _("补充协议 {number} 已{status}，请刷新页面查看当前待签署的补充协议").format(
                    number=amendment.number, status=amendment.get_status_display()))
        amendment.sign(by=actor, at=now, ip=ip, label=label)
        store_sealed(amendment, merchant=locked_merchant, kind=MerchantDocument.Kind.AMENDMENT, title="补充协议",
                     sealed=sealed, actor=actor)
        config, _created = MerchantConfiguration.objects.get_or_create(merchant=locked_merchant)
        before = {name: terms_value(name, getattr(config, name)) for name in amendment.changes}
        for name, change in amendment.changes.items():
            setattr(config, name, Decimal(change["after"]) if name == "fee_rate" else change["after"])
        config.save()
        after = {name: change["after"] for name, change in amendment.changes.items()}
        audit.record(event="merchants.configuration.changed", now=now, actor=actor, subject=config,
                     merchant=locked_merchant, ip=ip, before=before, after={**after, "amendment": amendment.number})
        audit.record(event="merchants.terms_amendment.signed", now=now, actor=actor, subject=amendment, ip=ip,
                     after={"number": amendment.number, "sha256": sealed.sha256, "platform_signer": sealed.signer,
                            "signer": actor.username, **after})
    return amendment


@transaction.atomic
def terms_amendment_withdraw(*, amendment: TermsAmendment, actor, now) -> TermsAmendment:
    """Operations withdraw a pending 补充协议; the terms in force stay. The record is kept.

    Raises TermsAmendmentNotPending.
    """
    locks.merchant_for_update(merchant_id=amendment.merchant_id)
    amendment = locks.amendment_for_update(amendment_id=amendment.pk)
    if amendment.status != TermsAmendment.Status.PENDING:
        raise TermsAmendmentNotPending(_("补充协议 {number} 状态为“{status}”，不能撤回").format(
            number=amendment.number, status=amendment.get_status_display()))
    amendment.withdraw(at=now)
    amendment.save()
    audit.record(event="merchants.terms_amendment.withdrawn", now=now, actor=actor, subject=amendment,
                 after={"number": amendment.number})
    return amendment
