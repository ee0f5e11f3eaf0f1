"""合作协议 (DB12/T 1211 §6.1.2.2): generated from a versioned template, consented to with an SMS code, sealed by the
platform's digital signature. One agreement per worker–enterprise relationship."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import SmsCode
from accounts.services import sms_code_send, sms_code_verify
from core import audit
from core.documents import render_pdf
from core.exceptions import NotFound
from core.pii import mask_id_number, mask_phone
from core.signing import sign_pdf
from members.exceptions import AlreadySigned, NotSignable, NotVerified
from members.models import Agreement, Member, MemberMerchant

# Versioned templates: a signed agreement records its version; a new text gets a new version, old files stay as signed.
AGREEMENT_TEMPLATES = {
    "cooperation-v1": {"pdf": "members/documents/cooperation_agreement_v1.html",
                       "body": "members/documents/_cooperation_body_v1.html",
                       "title": "灵活就业人员合作协议"},
}
CURRENT_TEMPLATE = "cooperation-v1"
DOCUMENT_TITLE = "合作协议"


def relationship_for_member(*, member: Member | None, relationship_id: int) -> MemberMerchant:
    """One of the member's own relationships, or NotFound."""
    relationship = (MemberMerchant.objects.select_related("merchant").filter(pk=relationship_id, member=member).first()
                    if member is not None else None)
    if relationship is None:
        raise NotFound(_("未找到该企业关系，请从“我的企业”进入"))
    return relationship


def agreement_context(*, relationship: MemberMerchant, member: Member, version: str = CURRENT_TEMPLATE,
                      signing: dict | None = None) -> dict:
    merchant = relationship.merchant
    return {
        "title": AGREEMENT_TEMPLATES[version]["title"],
        "version": version,
        "number": agreement_number(relationship),
        "platform_name": settings.PLATFORM_LEGAL_NAME,
        "platform_uscc": settings.PLATFORM_USCC,
        "merchant_name": merchant.name,
        "merchant_uscc": merchant.uscc,
        "worker_name": member.name,
        "worker_id_number": mask_id_number(member.id_number),
        "worker_phone": mask_phone(member.user.phone),
        "signing": signing,
    }


def agreement_number(relationship: MemberMerchant) -> str:
    return f"HZ{relationship.merchant_id:05d}{relationship.pk:08d}"


def agreement_text_html(*, relationship: MemberMerchant, member: Member) -> str:
    """The full text, as shown on the consent screen (the same body the PDF prints)."""
    context = agreement_context(relationship=relationship, member=member)
    return render_to_string(AGREEMENT_TEMPLATES[CURRENT_TEMPLATE]["body"], context)


def _check_signable(relationship: MemberMerchant, member: Member) -> None:
    if relationship.status == MemberMerchant.Status.SIGNED or Agreement.objects.filter(
            relationship=relationship).exists():
        when = f"于 {timezone.localtime(relationship.signed_at):%Y年%m月%d日 %H:%M} " if relationship.signed_at else ""
        raise AlreadySigned(_("您已{when}与“{kind}”签署合作协议，无需重复签署，可在“我的协议”中下载").format(when=when, kind=relationship.merchant.name),
                            extra={"relationship_id": relationship.pk})
    if not member.is_verified:
        raise NotVerified(_("请先完成实名认证，再签署合作协议"))
    if relationship.status != MemberMerchant.Status.VERIFIED:
        raise NotSignable(_("与该企业的关系状态为“{status}”，暂不能签署；如企业登记的身份信息与您不一致，请联系企业更正").format(status=relationship.get_status_display()))


def agreement_sign_code_send(*, user, relationship_id: int, now: dt.datetime, ip: str = "") -> SmsCode:
    """Send the SMS code (purpose SIGN) the worker types to consent. Raises NotFound, AlreadySigned, NotVerified,
    NotSignable, SmsCodeTooSoon, RateLimited."""
    member = Member.objects.filter(user=user).first()
    relationship = relationship_for_member(member=member, relationship_id=relationship_id)
    _check_signable(relationship, member)
    return sms_code_send(phone=user.phone, purpose=SmsCode.Purpose.SIGN, now=now, ip=ip,
                         params={"document": DOCUMENT_TITLE})


def agreement_sign(*, user, relationship_id: int, code: str, now: dt.datetime, ip: str = "") -> Agreement:
    """The worker signs the cooperation agreement with this enterprise: the SMS code is checked (and consumed), the PDF
    is rendered with the signing record (time, IP, phone), sealed by the platform, stored with its hash; the
    relationship becomes SIGNED.

    Raises NotFound, AlreadySigned, NotVerified, NotSignable, SmsCodeInvalid, SmsCodeExpired.
    """
    member = Member.objects.filter(user=user).first()
    relationship = relationship_for_member(member=member, relationship_id=relationship_id)
    _check_signable(relationship, member)
    sms_code_verify(phone=user.phone, purpose=SmsCode.Purpose.SIGN, code=code, now=now)
    return agreement_seal(user=user, member=member, relationship=relationship, now=now, ip=ip)


def agreement_seal(*, user, member: Member, relationship: MemberMerchant, now: dt.datetime, ip: str = "") -> Agreement:
    """Render, seal and record the agreement once the worker's consent is proven (``agreement_sign`` checks the SMS
    code first; the demo data calls this directly). Raises AlreadySigned, NotSignable."""
    # The PDF is made and sealed before any row lock is taken; the state is checked again under the lock.
    version = CURRENT_TEMPLATE
    signing = {"at": timezone.localtime(now), "ip": ip or "-", "phone": mask_phone(user.phone), "method": "短信验证码确认"}
    rendered = render_pdf(AGREEMENT_TEMPLATES[version]["pdf"],
                          agreement_context(relationship=relationship, member=member, version=version, signing=signing))
    signed = sign_pdf(rendered.content, reason=f"{DOCUMENT_TITLE} {agreement_number(relationship)} 平台电子签章")
    try:
        with transaction.atomic():
            relationship = MemberMerchant.objects.select_for_update().select_related("merchant").get(pk=relationship.pk)
            _check_signable(relationship, member)
            agreement = Agreement(
                merchant_id=relationship.merchant_id, relationship=relationship, member=member,
                number=agreement_number(relationship), template_version=version, method=Agreement.Method.ONLINE,
                sha256=signed.sha256, unsigned_sha256=rendered.sha256, signer=signed.signer[:300], signed_at=now,
                signed_ip=ip or None, signed_by=user,
            )
            agreement.file.save(f"{agreement.number}.pdf", ContentFile(signed.content), save=False)
            agreement.save()
            relationship.sign(at=now)
            relationship.save(update_fields=["status", "signed_at", "updated_at"])
            audit.record(event="members.agreement.signed", now=now, actor=user, subject=agreement, ip=ip,
                         after={"number": agreement.number, "sha256": agreement.sha256, "version": version,
                                "method": agreement.method})
    except IntegrityError:  # signed concurrently in another request
        relationship.refresh_from_db()
        raise AlreadySigned(_("该协议刚刚已签署，无需重复签署，可在“我的协议”中下载")) from None
    return agreement
