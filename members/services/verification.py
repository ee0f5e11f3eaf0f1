"""实名认证: name + ID number + bank card (+ phone) through the provider adapter, with age limits and daily attempts."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.pii import blind_index, mask_bank_card, mask_id_number, mask_phone
from core.validators import validate_bank_card, validate_resident_id
from members import conf
from members.adapters.verification import TIMEOUT_MESSAGE, ProviderTimeout, get_verification_adapter
from members.exceptions import (
    AlreadyVerified,
    IdNumberTaken,
    VerificationAttemptsExceeded,
    VerificationFailed,
    VerificationUnavailable,
)
from members.models import Member, MemberMerchant, PayoutAccount, VerificationAttempt
from members.rules import check_age
from members.services._common import clean_name, local_date, member_ensure


def attempts_counted_today(*, member: Member, now: dt.datetime) -> int:
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return (VerificationAttempt.objects.filter(member=member, at__gte=start, at__lt=start + dt.timedelta(days=1))
            .exclude(outcome=VerificationAttempt.Outcome.ERROR).count())


def id_number_taken_error(other: Member) -> IdNumberTaken:
    return IdNumberTaken(
        _("该身份证号已由手机号 {phone} 的账号完成实名，一个身份证号只能实名一个账号。请使用该手机号登录；如手机号已不用或非本人操作，请联系客服申诉").format(phone=mask_phone(other.user.phone)),
        extra={"field": "身份证号", "form_field": "id_number"},
    )


def member_verify(*, user, name: str, id_number: str, bank_card: str, now: dt.datetime, ip: str = "",
                  bank_name: str = "") -> Member:
    """Real-name verification of the signed-in worker (三要素/四要素 by ``MEMBERS_VERIFICATION_FACTORS``).

    On success the member is VERIFIED, the card becomes their default payout account and their enterprise
    relationships move to VERIFIED. A provider "no match" is recorded (attempt + FAILED status) and raised.

    Raises ValidationFailed (bad input), AlreadyVerified, AgeNotAllowed, IdNumberTaken, VerificationAttemptsExceeded,
    VerificationFailed (with ``extra.reason_code``), VerificationUnavailable (timeout: not counted, retry).
    """
    name = clean_name(name)
    today = local_date(now)
    resident = validate_resident_id(id_number or "", today=today)
    card = validate_bank_card(bank_card or "")
    member = member_ensure(user=user)
    if member.is_verified:
        raise AlreadyVerified(_("您已完成实名认证，无需重复认证"))
    check_age(resident, today=today)
    index = blind_index(resident.number, purpose="id_number")
    other = Member.objects.filter(id_number_index=index).exclude(pk=member.pk).select_related("user").first()
    if other is not None:
        raise id_number_taken_error(other)
    limit = int(conf.get("MEMBERS_VERIFY_ATTEMPTS_PER_DAY"))
    used = attempts_counted_today(member=member, now=now)
    if used >= limit:
        raise VerificationAttemptsExceeded(
            _("今日已提交实名认证 {used} 次，达到每日 {limit} 次上限，请明天再试。如确认信息无误仍未通过，请联系客服人工核验").format(used=used, limit=limit),
            extra={"limit": limit},
        )
    factors = 4 if int(conf.get("MEMBERS_VERIFICATION_FACTORS")) == 4 else 3
    adapter = get_verification_adapter()
    attempt = VerificationAttempt(
        member=member, at=now, factors=factors, provider=adapter.name, id_number_index=index,
        id_number_masked=mask_id_number(resident.number), bank_card_masked=mask_bank_card(card.number), ip=ip or None,
    )
    try:
        result = adapter.verify(name=name, id_number=resident.number, bank_card=card.number,
                                phone=user.phone if factors == 4 else None)
    except ProviderTimeout:
        attempt.outcome, attempt.reason_code, attempt.reason = VerificationAttempt.Outcome.ERROR, "TIMEOUT", TIMEOUT_MESSAGE
        attempt.save()
        raise VerificationUnavailable(TIMEOUT_MESSAGE, extra={"reason_code": "TIMEOUT"}) from None
    attempt.provider_ref = result.provider_ref
    if not result.matched:
        with transaction.atomic():
            member = Member.objects.select_for_update().get(pk=member.pk)
            attempt.outcome, attempt.reason_code, attempt.reason = (VerificationAttempt.Outcome.FAILED, result.code,
                                                                    result.message)
            attempt.save()
            member.mark_failed(reason=result.message)
            member.save(update_fields=["verification_status", "failure_reason", "updated_at"])
            audit.record(event="members.member.verification_failed", now=now, actor=user, subject=member, ip=ip,
                         after={"reason_code": result.code, "factors": factors})
        left = max(0, limit - used - 1)
        raise VerificationFailed(
            _("实名认证未通过：{message}。今日还可尝试 {left} 次").format(message=result.message, left=left),
            extra={"reason_code": result.code, "attempts_left": left},
        )
    try:
        with transaction.atomic():
            member = Member.objects.select_for_update().get(pk=member.pk)
            if member.is_verified:
                raise AlreadyVerified(_("您已完成实名认证，无需重复认证"))
            attempt.outcome, attempt.reason_code = VerificationAttempt.Outcome.PASSED, "OK"
            attempt.save()
            member.set_identity(name=name, id_number=resident.number)
            member.birth_date = resident.birth_date
            member.mark_verified(at=now, via=(Member.Method.FOUR_FACTOR if factors == 4
                                                 else Member.Method.THREE_FACTOR))
            member.save()
            user.full_name = name
            user.save(update_fields=["full_name"])
            _add_verified_card(member=member, number=card.number, bank_name=bank_name, now=now)
            relationships_on_verified(member=member, now=now)
            audit.record(event="members.member.verified", now=now, actor=user, subject=member, ip=ip,
                         after={"name": member.name_masked, "id_number": member.id_number_masked,
                                "bank_card": mask_bank_card(card.number), "factors": factors})
    except IntegrityError:  # the same ID number verified concurrently on another account
        other = Member.objects.filter(id_number_index=index).select_related("user").first()
        raise id_number_taken_error(other) if other else AlreadyVerified(_("您已完成实名认证，无需重复认证")) from None
    return member


def _add_verified_card(*, member: Member, number: str, bank_name: str, now) -> None:
    index = blind_index(number, purpose="payout_account")
    active = PayoutAccount.objects.filter(member=member, status=PayoutAccount.Status.ACTIVE)
    if active.filter(kind=PayoutAccount.Kind.BANK, account_index=index).exists():
        return
    PayoutAccount.objects.create(
        member=member, kind=PayoutAccount.Kind.BANK, account=number, account_index=index,
        account_masked=mask_bank_card(number), bank_name=bank_name[:100], is_default=not active.exists(),
        verified_at=now,
    )


def relationships_on_verified(*, member: Member, now) -> None:
    """Move the member's invited/registered relationships to VERIFIED, unless the enterprise registered another ID."""
    for relationship in (MemberMerchant.objects.select_for_update()
                         .filter(member=member, status__in=[MemberMerchant.Status.INVITED,
                                                            MemberMerchant.Status.REGISTERED])
                         .order_by("id")):
        if relationship.invite_id_number_index and relationship.invite_id_number_index != member.id_number_index:
            continue  # shown on /m/enterprises/: the enterprise must correct the ID number it entered
        relationship.mark_verified(member=member, at=now)
        relationship.save(update_fields=["status", "member", "registered_at", "updated_at"])
        audit.record(event="members.relationship.verified", now=now, actor=member.user, subject=relationship)
